"""`sovereign` console script. Each subsystem registers its own sub-commands so that the
modules stay apart; this file only wires them and turns expected failures into one line."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from graph.settings import PRESETS, load_settings
from memory.errors import UserError

# module path -> provides `register(subparsers) -> None`; each sub-command sets
# `func(args, settings) -> int` through `set_defaults`.
COMMAND_MODULES = (
    "memory.mirror.cli",
    "memory.vector_cli",
    "graph.commands",
    "agents.verification.cli",
    "agents.llm.cli",
    "memory.publication.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sovereign", description=__doc__)
    parser.add_argument("--preset", choices=sorted(PRESETS), help="named settings preset")
    parser.add_argument("--home", help="state directory (SOVEREIGN_HOME)")
    parser.add_argument("--log-file", help="also write JSON events to this file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # subsystem not installed in this build
            raise
        module.register(sub)
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


if __name__ == "__main__":
    sys.exit(main())
