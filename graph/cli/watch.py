"""`sovereign watch`: consume the event logs and keep published reports honest. `--once`
drains and exits, `--status` prints cursors, lag and pending notifications; without either it
runs until stopped, polling every `--interval` seconds (and, with `--category`, arXiv's newest
submissions of those categories first). A running watch outlives a lost shared database or
arXiv: one line, then it tries again, waiting twice as long each time (at most 5 minutes)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from typing import Any

from graph.cli.args import setting_type
from graph.settings import Settings
from graph.watch import Watcher
from graph.watch.sources import poll_newest
from memory.errors import ServiceUnavailable, first_line
from memory.net import GaveUp, is_transient

RETRY_CAP_S = 300.0  # the longest wait between attempts while a service is down

_stop = False


def _on_sigterm(signum: int, frame: object) -> None:
    global _stop
    _stop = True


def _poll(settings: Settings, search: Any) -> None:
    if not settings.watch_categories:
        return
    found = poll_newest(
        search, settings.mirror_path, settings.watch_categories, settings.watch_poll_results
    )
    print(f"watch: {found} new or updated paper(s) from arXiv's newest submissions",
          file=sys.stderr, flush=True)  # fmt: skip


def _online_search(settings: Settings) -> Any:
    """One client, so one rate limiter spaces every poll (arXiv's 3 s unless set)."""
    from memory.arxiv_client import ArxivSearch

    url = settings.arxiv_url or settings.arxiv_online_url
    return ArxivSearch(url, delay_s=settings.arxiv_delay(True), timeout_s=settings.arxiv_timeout_s)


def _watch(args: argparse.Namespace, settings: Settings) -> int:
    settings = settings.with_overrides(
        watch_interval_s=args.interval,
        watch_categories=args.category or None,
        watch_poll_results=args.max_results,
        site_dir=args.site,
    )
    first = Watcher(settings)  # nothing reachable at start: the usual one line, exit 2
    if args.status:
        print("\n".join(first.status().lines()))
        return 0
    watcher: Watcher | None = first
    search = _online_search(settings) if settings.watch_categories else None
    signal.signal(signal.SIGTERM, _on_sigterm)
    failures, failures_tolerated = 0, False
    while True:
        try:
            watcher = watcher or Watcher(settings)
            _poll(settings, search)
            summary = watcher.drain()
        except Exception as exc:
            if not failures_tolerated or not _retryable(exc):  # --once returns on success
                raise  # at start, a wrong URL or a server that is not up: one line, exit 2
            failures += 1
            wait = min(max(1.0, settings.watch_interval_s) * 2 ** (failures - 1), RETRY_CAP_S)
            print(f"watch: {first_line(exc)}; retrying in {wait:.0f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
            _close_quietly(watcher)
            watcher = None
            if _sleep(wait):
                return 0
            continue
        failures, failures_tolerated = 0, True  # it worked once: later failures are outages
        print(f"watch: {summary.line()}", file=sys.stderr, flush=True)
        if args.once or _stop or _sleep(settings.watch_interval_s):
            return 0


def _retryable(exc: BaseException) -> bool:
    """Worth another try in a long-running watch: the shared database or arXiv stopped
    answering. Cursors are committed only after their effects, so a drain cut short is simply
    done again; a watch that gave up would leave published reports unwatched until restarted."""
    return isinstance(exc, (ServiceUnavailable, GaveUp)) or is_transient(exc)


def _close_quietly(watcher: Watcher | None) -> None:
    """Drop connections a lost server has already broken (closing them may fail too)."""
    if watcher is not None:
        with contextlib.suppress(Exception):  # best effort: the next Watcher opens fresh ones
            watcher.close()


def _sleep(seconds: float) -> bool:
    """Wait up to `seconds`, in steps of at most 1 s; True when SIGTERM asked us to stop."""
    deadline = time.monotonic() + seconds
    while not _stop and time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    return _stop


def register(subparsers: Any) -> None:
    fields = Settings.model_fields
    watch = subparsers.add_parser(
        "watch", help="re-verify published reports as papers arrive (event log consumer)"
    )
    mode = watch.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="drain the event logs and exit")
    mode.add_argument(
        "--status", action="store_true", help="print cursors, lag and pending notifications"
    )
    watch.add_argument("--interval", type=setting_type("watch_interval_s"),
                       help=fields["watch_interval_s"].description)  # fmt: skip
    watch.add_argument("--category", action="append", metavar="CAT",
                       help=f"{fields['watch_categories'].description} Repeatable.")  # fmt: skip
    watch.add_argument("--max-results", type=setting_type("watch_poll_results"),
                       help=fields["watch_poll_results"].description)  # fmt: skip
    watch.add_argument("--site", metavar="DIR", help=fields["site_dir"].description)
    watch.set_defaults(func=_watch)
