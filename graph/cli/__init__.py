"""`sovereign` console script: one package, one module per command group, each adding its
sub-commands with `register(subparsers)`. This module only wires them and turns expected
failures into one line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from graph.cli import llm, memory, mirror, publication, research, verifier
from graph.settings import PRESETS, load_settings
from memory.errors import UserError

# In the order `sovereign --help` lists them; each sub-command sets
# `func(args, settings) -> int` through `set_defaults`.
COMMAND_GROUPS = (mirror, memory, research, verifier, llm, publication)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sovereign",
        description="Research a question about arXiv papers and write a checkable report.",
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), help="named settings preset")
    parser.add_argument("--home", help="state directory (SOVEREIGN_HOME)")
    parser.add_argument("--log-file", help="also write JSON events to this file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings(args.preset, home=args.home, log_file=args.log_file)
        return int(args.func(args, settings) or 0)
    except UserError as exc:
        print(f"sovereign: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sovereign: interrupted", file=sys.stderr)
        return 130
