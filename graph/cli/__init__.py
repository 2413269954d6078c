"""`sovereign` console script: one package, one module per command group, each adding its
sub-commands with `register(subparsers)`. This module only wires them, routes transcripts
(each run's events.jsonl; stderr only with --log-json) and turns expected failures into one
line: a usage or settings error exits 2, an environment failure (a path that cannot be
written, a port in use) exits 1, never with a traceback."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from graph.cli import (
    llm,
    memory,
    mirror,
    publication,
    queue,
    research,
    runs,
    verifier,
    watch,
)
from graph.cli.args import OneLineParser
from graph.settings import PRESETS, Settings, load_settings
from memory.errors import UserError

# In the order `sovereign --help` lists them; each sub-command sets
# `func(args, settings) -> int` through `set_defaults`.
COMMAND_GROUPS = (mirror, memory, research, queue, runs, verifier, llm, publication, watch)
EPILOG = (
    'quick start: sovereign mirror ingest FILE...  then  sovereign research "QUESTION"; '
    "sovereign list shows the runs, sovereign COMMAND --help each command"
)


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="sovereign",
        description="Research a question about arXiv papers and write a checkable report.",
        epilog=EPILOG,
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), help="named settings preset")
    parser.add_argument("--home", help="state directory (SOVEREIGN_HOME)")
    parser.add_argument("--log-file", help="also append every JSON transcript event to this file")
    parser.add_argument(
        "--log-json",
        action="store_true",
        help="also print the JSON transcript on stderr (always in each run's events.jsonl)",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="fail at once when another process uses this home's vector memory, instead of "
        "waiting for it (SOVEREIGN_HOME_WAIT_S=SECONDS waits at most that long)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def _transcripts(settings: Settings, to_stderr: bool) -> None:
    from graph.transcript import configure

    configure(settings.log_file, to_stderr=to_stderr, level=settings.log_level)


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        no_wait = {"home_wait_s": 0.0} if args.no_wait else {}
        settings = load_settings(args.preset, home=args.home, log_file=args.log_file, **no_wait)
        _transcripts(settings, args.log_json)
        return int(args.func(args, settings) or 0)
    except UserError as exc:
        print(f"sovereign: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the environment, not the user's input: one line, exit 1
        print(f"sovereign: {_os_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sovereign: interrupted", file=sys.stderr)
        return 130
