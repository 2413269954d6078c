"""`sovereign submit` and `sovereign worker`: enqueue research requests now, run them later
with any number of workers (threads here, processes or machines sharing a PostgreSQL
`database_url`). `sovereign list` shows each request's state after the runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from graph.cli.args import positive_int
from graph.cli.runs import aligned, clip
from graph.settings import Settings
from memory.errors import UserError
from memory.queue import QueuedRequest

QUESTION_WIDTH = 50
REASON_WIDTH = 60


def read_questions(path: Path) -> list[tuple[str, str | None]]:
    """One request per line, `QUESTION` or `QUESTION<TAB>PAPER`; blank lines and lines
    starting with # are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"--file {path}: {exc.strerror or exc}") from None
    out: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        question, _, paper = line.partition("\t")
        out.append((question.strip(), paper.strip() or None))
    if not out:
        raise UserError(f"--file {path} holds no question (one per line)")
    return out


def _requests(args: argparse.Namespace, settings: Settings) -> list[tuple[str, str | None]]:
    """What to enqueue, every question checked first: bad input enqueues nothing."""
    from graph.nodes.intake import question_problem

    if (args.question is None) == (args.file is None):
        raise UserError('give one QUESTION or --file FILE (sovereign submit "QUESTION")')
    if args.file is not None and args.paper is not None:
        raise UserError("--paper goes with one QUESTION; in --file write QUESTION<TAB>PAPER")
    if args.paper is not None and not args.paper.strip():
        raise UserError("--paper is empty: give an arXiv id or a title, or leave it out")
    items = read_questions(Path(args.file)) if args.file else [(args.question, args.paper)]
    for number, (question, _) in enumerate(items, 1):
        if problem := question_problem(question, settings.max_question_chars):
            where = f"--file {args.file} question {number}: " if args.file else ""
            raise UserError(where + problem)
    return items


def _submit(args: argparse.Namespace, settings: Settings) -> int:
    from graph.state import new_run_id
    from graph.worker import open_settings_queue

    items = _requests(args, settings)
    with open_settings_queue(settings) as queue:
        for question, paper in items:
            request = queue.submit(
                question,
                paper=paper,
                run_id=new_run_id(),
                max_attempts=settings.queue_max_attempts,
            )
            print(f"queued request {request.id}: run {request.run_id}: {clip(question, 70)}")
        waiting = queue.pending()
    print(f"{waiting} request(s) waiting in {queue.location}; `sovereign worker` runs them")
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from graph.services import close_all, services_for
    from graph.worker import Worker, backoff_policy, open_settings_queue, research_handler

    def say(event: str, request: QueuedRequest) -> None:
        what = event.removeprefix("queue_")
        why = f": {clip(request.error or '', REASON_WIDTH)}" if what in ("retry", "failed") else ""
        print(f"[worker] request {request.id} {what} (run {request.run_id}){why}", flush=True)

    if not args.poll > 0:
        raise UserError(f"--poll {args.poll}: expected seconds more than 0")
    with open_settings_queue(settings) as queue:
        print(
            f"sovereign worker: {args.concurrency} thread(s) on {queue.location}"
            + ("; stops when the queue is empty" if args.until_empty else "; Ctrl-C stops"),
            flush=True,
        )
        services = services_for(settings)
        worker = Worker(
            queue,
            research_handler(settings, services),
            concurrency=args.concurrency,
            poll_s=args.poll,
            backoff=backoff_policy(settings),
            until_empty=args.until_empty,
            on_event=say,
            on_idle=services.release_memory,  # an idle worker lets other processes use the home
        )
        try:
            counts = worker.run()
        except KeyboardInterrupt:
            msg = "sovereign: worker interrupted; the next worker requeues what it held"
            print(msg, file=sys.stderr)
            return 130
        finally:
            close_all()
    print(f"worker done: {counts['done']} done, {counts['failed']} failed, "
          f"{counts['retry']} retried")  # fmt: skip
    return 1 if counts["failed"] else 0


def queue_table(requests: list[QueuedRequest]) -> str:
    """The queued requests as aligned columns (the stored reason is in full; this elides)."""
    head = ("REQUEST", "RUN", "STATE", "ATTEMPTS", "QUESTION", "REASON")
    body = [
        (
            str(r.id),
            r.run_id,
            r.state,
            f"{r.attempts}/{r.max_attempts}",
            clip(r.question, QUESTION_WIDTH),
            clip(r.error or "-", REASON_WIDTH),
        )
        for r in requests
    ]
    return aligned(head, body)


def queued_requests(settings: Settings) -> list[QueuedRequest]:
    """The queue's requests, or none when no queue was ever used here."""
    from graph.worker import open_settings_queue

    if not settings.database_url and not settings.queue_path.exists():
        return []
    with open_settings_queue(settings) as queue:
        return queue.requests()


def register(subparsers: Any) -> None:
    submit = subparsers.add_parser(
        "submit",
        help="queue research requests for sovereign worker",
        description="Queue one question, or every line of --file (QUESTION or "
        "QUESTION<TAB>PAPER), for sovereign worker; sovereign list shows their state.",
    )
    submit.add_argument("question", nargs="?", help="the research question (quote it)")
    submit.add_argument("--paper", help="arXiv id or title of the paper to analyse")
    submit.add_argument("--file", help="a file of questions, one per line")
    submit.set_defaults(func=_submit)

    worker = subparsers.add_parser(
        "worker",
        help="run queued research requests",
        description="Run queued requests through the research graph, retrying transient "
        "failures with backoff; several workers (or machines, with database_url) share a queue. "
        "Exits 1 when a request it ran ended failed.",
    )
    worker.add_argument(
        "--concurrency", type=positive_int, default=1, help="requests run at once (threads)"
    )
    worker.add_argument(
        "--until-empty",
        action="store_true",
        help="stop once no request is queued or running (default: wait for more)",
    )
    worker.add_argument(
        "--poll", type=float, default=1.0, help="seconds between looks at an idle queue"
    )
    worker.set_defaults(func=_worker)
