"""`sovereign watch`: consume the event logs and keep published reports honest. `--once`
drains and exits, `--status` prints cursors, lag and pending notifications; without either it
runs until stopped, polling every `--interval` seconds (and, with `--category`, arXiv's newest
submissions of those categories first)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from graph.cli.args import setting_type
from graph.settings import Settings
from graph.watch import Watcher
from graph.watch.sources import poll_newest

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
    watcher = Watcher(settings)
    if args.status:
        print("\n".join(watcher.status().lines()))
        return 0
    search = _online_search(settings) if settings.watch_categories else None
    signal.signal(signal.SIGTERM, _on_sigterm)
    while True:
        _poll(settings, search)
        summary = watcher.drain()
        print(f"watch: {summary.line()}", file=sys.stderr, flush=True)
        if args.once or _stop:
            return 0
        deadline = time.monotonic() + settings.watch_interval_s
        while not _stop and time.monotonic() < deadline:
            time.sleep(min(1.0, settings.watch_interval_s))
        if _stop:
            return 0


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
