"""`sovereign research` and `sovereign resume`. Research flags are generated from the same
`Settings` fields Studio's configurable uses, so the three never disagree. The terminal gets
progress lines and the run's summary, its report's path last; the JSON transcript goes to
the run's events.jsonl (and to stderr with --log-json)."""

from __future__ import annotations

import argparse
import os
import sys
import time
import typing
from pathlib import Path
from typing import Any

from graph.cli.args import setting_type
from graph.context import CONTEXT_FIELDS
from graph.settings import Settings, allowed
from memory.errors import UserError


def _choices(name: str) -> list[str] | None:
    annotation = Settings.model_fields[name].annotation
    for kind in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(kind) is typing.Literal:
            return [str(c) for c in typing.get_args(kind)]
    return None


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per run-level setting, checked against the field's own range."""
    for name in CONTEXT_FIELDS:
        info = Settings.model_fields[name]
        choices = _choices(name)
        what = "" if choices else f"; {allowed(name)}"
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            type=setting_type(name),
            choices=choices,
            default=None,
            metavar=None if choices else name.upper().rsplit("_", 1)[-1],
            help=f"{info.description or name} (env SOVEREIGN_{name.upper()}{what})",
        )


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {n: getattr(args, n) for n in CONTEXT_FIELDS if getattr(args, n, None) is not None}


def _finish(values: dict[str, Any], settings: Settings) -> int:
    """The run's summary, its report's path last. A run that could not answer exits 1, after
    one line saying why (the report says more)."""
    from graph.cli.runs import describe
    from graph.runner import publication_status
    from memory.publication.runview import unanswered
    from memory.run import RunRecord

    problem = unanswered(RunRecord.from_state(values))
    if problem:
        print(f"sovereign: {problem}", file=sys.stderr, flush=True)
    print(describe(values, publication_status(values.get("run_id", ""), settings)), flush=True)
    return 1 if problem else 0


def _validate(args: argparse.Namespace, settings: Settings) -> None:
    """Usage errors, found before anything (checkpoint, directory, store entry) is made."""
    from graph.nodes.intake import question_problem
    from graph.runner import check_run_id

    question = args.question if args.question is not None else ""
    if problem := question_problem(question, settings.max_question_chars):
        raise UserError(problem)
    if args.paper is not None and not args.paper.strip():
        raise UserError("--paper is empty: give an arXiv id or a title, or leave it out")
    if args.run_id is not None:
        check_run_id(args.run_id, settings)
    if args.out is not None:
        _check_writable(Path(args.out).expanduser())


def _check_writable(out: Path) -> None:
    """--out must be a directory the run can create or write, checked without creating it."""
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"--out {out}: cannot create or write a directory there ({probe})")


def _research(args: argparse.Namespace, settings: Settings) -> int:
    from graph.cli.progress import TerminalProgress
    from graph.runner import run_research
    from graph.services import services_for
    from graph.state import new_run_id

    settings = settings.with_overrides(**_overrides(args))
    _validate(args, settings)
    run_id = args.run_id or new_run_id()
    print(f"sovereign research {run_id}", flush=True)
    try:
        with TerminalProgress(sys.stdout, time.time()) as progress:
            values = run_research(
                args.question,
                settings,
                paper=args.paper,
                out_dir=args.out,
                owner_review=not args.no_owner_review,
                run_id=run_id,
                progress=progress,
            )
    except KeyboardInterrupt:
        print(f"sovereign: interrupted; `sovereign resume {run_id}` continues it", file=sys.stderr)
        return 130
    finally:
        services_for(settings).close()
    return _finish(values, settings)


def _resume(args: argparse.Namespace, settings: Settings) -> int:
    from graph.cli.progress import TerminalProgress
    from graph.runner import resume_run
    from graph.services import close_all

    try:
        with TerminalProgress(sys.stdout, time.time()) as progress:
            values = resume_run(args.run_id, None, settings, progress=progress)
    finally:
        close_all()
    return _finish(values, settings)


def register(subparsers: Any) -> None:
    research = subparsers.add_parser(
        "research",
        help="research a question (about an arXiv paper) and write a report",
        description="Search arXiv, extract and verify claims, review them and write a report. "
        "Progress goes to the terminal; the JSON transcript to events.jsonl beside the report.",
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

    resume = subparsers.add_parser(
        "resume",
        help="continue a run that was interrupted",
        description="Continue a killed run from its last checkpoint; finished steps are kept.",
    )
    resume.add_argument("run_id", metavar="RUN_ID", help="the run's id (see sovereign list)")
    resume.set_defaults(func=_resume)


__all__ = ["UserError", "add_settings_flags", "register"]
