"""`sovereign review`, `sovereign correct` and `sovereign site` sub-commands. `review list`
shows only what awaits a decision; a decision on a run that already finished (started from
Python, or with --no-owner-review) rewrites its report just as the graph's owner-review step
does, so the published report's header says who approved it and when."""

from __future__ import annotations

import argparse
import functools
import getpass
import http.server
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from graph.cli.args import port
from graph.owner import decide, finish_pending
from graph.settings import Settings
from graph.site.builder import build_site
from memory.errors import UserError
from memory.publication.notices import notices
from memory.publication.pending import paused_runs
from memory.publication.runview import report_id_for, unanswered
from memory.publication.service import correct, store_for
from memory.publication.store import STATUSES, PublicationStore

PAST = {"approve": "approved", "reject": "rejected"}


def _who(args: argparse.Namespace) -> str:
    if args.who:
        return str(args.who)
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "owner"


def _review_list(args: argparse.Namespace, settings: Settings) -> int:
    store = store_for(settings.publications_path)
    statuses = STATUSES if args.all else ("escalated",)
    shown = 0
    known = set()
    for status in statuses:
        for report_id in store.report_ids(status):
            rep = store.get(report_id)
            known.add(rep.run_id)
            if not args.all and unanswered(rep.record()):
                continue  # recorded by an older version; nothing to decide
            q = rep.manifest["quality"]
            print(
                f"{report_id}  {rep.run_id}  {status:<9}  "
                f"score {float(rep.manifest['scores']['review_score']):.2f}  "
                f"{q['verification_level']['code']}  {q['tier']}  {rep.manifest['question']}"
            )
            shown += 1
    for paused in paused_runs(Path(settings.checkpoint_path)):
        if paused.run_id in known:
            continue
        reasons = "; ".join(paused.reasons) or "escalated"
        print(
            f"{report_id_for(paused.run_id)}  {paused.run_id}  paused     {reasons}  "
            f"report: {paused.report_path or '-'}"
        )
        shown += 1
    shown += _list_notices(store)
    if not shown:
        print("no reports awaiting owner review" if not args.all else "no reports recorded")
    return 0


def _list_notices(store: PublicationStore) -> int:
    """Owner notifications from `sovereign watch`: published claims a later paper changed."""
    found = notices(store)
    for n in found:
        print(f"{n.report_id}  notification  correction #{n.seq} {n.what}: {n.why}")
    return len(found)


def _review(args: argparse.Namespace, settings: Settings) -> int:
    if args.run != "list" and args.approve == args.reject:
        raise UserError("give exactly one of --approve or --reject")
    if args.run != "list" and not (args.note or "").strip():
        raise UserError("--note is required: say why you approve or reject")
    finish_pending(settings)  # a decision a killed process left half-applied, first
    if args.run == "list":
        return _review_list(args, settings)
    asked = {"decision": "approve" if args.approve else "reject", "note": args.note}
    outcome = decide(args.run, {**asked, "who": _who(args)}, settings)
    if outcome.decision.note != args.note or outcome.decision.who != _who(args):
        print(f"the decision recorded earlier stands: {outcome.decision.note!r}", file=sys.stderr)
    stands = outcome.decision
    print(
        f"{outcome.report_id} {PAST[stands.decision]} by {stands.who}: now {outcome.status} "
        f"({outcome.how})"
    )
    return 0


def _correct(args: argparse.Namespace, settings: Settings) -> int:
    if not (args.note or "").strip():
        raise UserError("--note is required: say why the report is corrected")
    store = store_for(settings.publications_path)
    rec = correct(store, args.report, _who(args), args.what, args.note, retract=args.retract)
    print(
        f"{rec.report_id}: {rec.corrections['status']}, "
        f"{rec.corrections['correction_count']} correction(s); status {rec.status}"
    )
    return 0


def _site_build(args: argparse.Namespace, settings: Settings) -> int:
    finish_pending(settings)
    out = Path(args.dir)
    try:
        summary = build_site(store_for(settings.publications_path), out, progress=True)
    except OSError as exc:
        raise UserError(f"cannot write the site into {out}: {exc.strerror or exc}") from exc
    reports = f"{summary.reports} report{'s' * (summary.reports != 1)}"
    print(f"built {summary.pages} pages ({reports}) in {summary.out_dir}")
    return 0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        sys.stderr.write("site: " + (format % args) + "\n")


def serve(directory: Path, port: int, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except (OSError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise UserError(f"cannot serve on {host}:{port}: {reason}") from exc


@contextmanager
def _site_dir(given: str | None) -> Iterator[Path]:
    """The directory to serve: the one given, or a temporary one removed afterwards."""
    if given:
        yield Path(given)
        return
    with tempfile.TemporaryDirectory(prefix="sovereign-site-") as tmp:
        yield Path(tmp)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwind: the server closes and the temporary site is removed


def _site_serve(args: argparse.Namespace, settings: Settings) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    finish_pending(settings)
    with _site_dir(args.dir) as directory:
        if not args.dir or not (directory / "index.html").exists():
            try:
                build_site(store_for(settings.publications_path), directory, progress=True)
            except OSError as exc:
                raise UserError(f"cannot write the site into {directory}: {exc.strerror}") from exc
        server = serve(directory, args.port, args.host)
        where = f"http://{args.host}:{server.server_address[1]}/"
        print(f"serving {directory} at {where} (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("site stopped", file=sys.stderr)
        finally:
            server.server_close()
    return 0


def register(subparsers: Any) -> None:
    review = subparsers.add_parser(
        "review", help="list escalated runs, or approve/reject one (resumes its graph)"
    )
    review.add_argument("run", metavar="RUN_ID|list", help="run id or SRCH:ID, or 'list'")
    review.add_argument("--approve", action="store_true", help="publish it")
    review.add_argument("--reject", action="store_true", help="do not publish it")
    review.add_argument("--note", help="why (required for a decision)")
    review.add_argument("--who", help="reviewer name; default the login name")
    review.add_argument("--all", action="store_true", help="with 'list': every report")
    review.set_defaults(func=_review)

    corr = subparsers.add_parser("correct", help="append a correction to a report")
    corr.add_argument("report", metavar="SRCH:ID", help="report id (or run id)")
    corr.add_argument("--note", required=True, help="why: the correction itself")
    corr.add_argument("--what", default="report", help="what is corrected, e.g. 'claim C3'")
    corr.add_argument("--who", help="who corrects; default the login name")
    corr.add_argument("--retract", action="store_true", help="retract the published report")
    corr.set_defaults(func=_correct)

    site = subparsers.add_parser("site", help="build or serve the public index site")
    site_sub = site.add_subparsers(dest="site_command", metavar="build|serve", required=True)
    build = site_sub.add_parser("build", help="write the static site into DIR")
    build.add_argument("dir", metavar="DIR", help="output directory (created)")
    build.set_defaults(func=_site_build)
    srv = site_sub.add_parser("serve", help="build (unless --dir has one) and serve on loopback")
    srv.add_argument("--port", type=port, default=8765, help="0 picks a free port")
    srv.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (loopback)")
    srv.add_argument("--dir", help="serve this already built site")
    srv.set_defaults(func=_site_serve)
