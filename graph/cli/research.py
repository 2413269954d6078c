"""`sovereign research`, `sovereign show`, `sovereign resume`. Research flags are generated
from the same `Settings` fields Studio's configurable uses, so the three never disagree."""

from __future__ import annotations

import argparse
import sys
import time
import typing
from typing import Any

from graph.context import CONTEXT_FIELDS
from graph.services import services_for
from graph.settings import Settings
from memory.errors import UserError


def _flag_type(name: str) -> tuple[Any, list[str] | None]:
    annotation = Settings.model_fields[name].annotation
    if typing.get_origin(annotation) is typing.Literal:
        return str, [str(c) for c in typing.get_args(annotation)]
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    first = args[0]
    if typing.get_origin(first) is typing.Literal:
        return str, [str(c) for c in typing.get_args(first)]
    if first in (int, float):
        return first, None
    return str, None


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    for name in CONTEXT_FIELDS:
        kind, choices = _flag_type(name)
        info = Settings.model_fields[name]
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            type=kind,
            choices=choices,
            default=None,
            help=f"{info.description or name} (env SOVEREIGN_{name.upper()})",
        )


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {n: getattr(args, n) for n in CONTEXT_FIELDS if getattr(args, n, None) is not None}


def _configure_logs(settings: Settings) -> None:
    from graph.transcript import configure

    configure(settings.log_file, to_stderr=settings.log_file is None, level=settings.log_level)


def _finish(values: dict[str, Any]) -> int:
    from graph.runner import describe

    print(describe(values))
    problem = values.get("input_error") or values.get("halted")
    if values.get("target_status") in ("not_found", "unavailable"):
        problem = problem or values.get("target_note")
    if problem:
        print(f"sovereign: {problem}", file=sys.stderr)
        return 2
    return 0


def _research(args: argparse.Namespace, settings: Settings) -> int:
    from graph.runner import progress_printer, run_research

    settings = settings.with_overrides(**_overrides(args))
    _configure_logs(settings)
    question = args.question if args.question is not None else ""
    print(f"sovereign research — run starting (checkpoints: {settings.checkpoint_path})")
    try:
        values = run_research(
            question,
            settings,
            paper=args.paper,
            out_dir=args.out,
            owner_review=not args.no_owner_review,
            run_id=args.run_id,
            progress=progress_printer(sys.stdout, time.time()),
        )
    finally:
        services_for(settings).close()
    return _finish(values)


def _resume(args: argparse.Namespace, settings: Settings) -> int:
    from graph.runner import progress_printer, resume_run

    _configure_logs(settings)
    try:
        values = resume_run(
            args.run_id, None, settings, progress=progress_printer(sys.stdout, time.time())
        )
    finally:
        from graph.services import close_all

        close_all()
    return _finish(values)


def _show(args: argparse.Namespace, settings: Settings) -> int:
    from graph.runner import describe, list_runs, load_run

    if args.run_id == "list":
        runs = list_runs(settings)
        print("\n".join(runs) if runs else "no runs recorded")
        return 0
    print(describe(load_run(args.run_id, settings)))
    return 0


def register(subparsers: Any) -> None:
    research = subparsers.add_parser(
        "research",
        help="research a question (about an arXiv paper) and write a report",
        description="Search arXiv, extract and verify claims, review them and write a report.",
    )
    research.add_argument("question", nargs="?", help="the research question (quote it)")
    research.add_argument("--paper", help="arXiv id or title of the paper to analyse")
    research.add_argument("--out", help="report directory (default $SOVEREIGN_HOME/runs/RUN_ID)")
    research.add_argument("--run-id", help="name the run (default: timestamp + random suffix)")
    research.add_argument(
        "--no-owner-review",
        action="store_true",
        help="do not pause escalated runs for the owner's decision",
    )
    add_settings_flags(research)
    research.set_defaults(func=_research)

    show = subparsers.add_parser("show", help="summary of a run ('list' lists runs)")
    show.add_argument("run_id", metavar="RUN_ID|list")
    show.set_defaults(func=_show)

    resume = subparsers.add_parser("resume", help="continue a run that was interrupted")
    resume.add_argument("run_id", metavar="RUN_ID")
    resume.set_defaults(func=_resume)


__all__ = ["UserError", "register"]
