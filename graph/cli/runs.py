"""`sovereign list` and `sovereign show`: every run under $SOVEREIGN_HOME, however it was
started (CLI, `run_research`, or `build_graph().invoke` from Python), read through RunRecord.
A run's summary ends with its report's path, the one thing a reader looks for next."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agents.reporter import results_line
from graph.settings import Settings
from graph.transcript import EVENTS_FILE
from memory.publication.runview import report_id_for
from memory.run import RunRecord, Timing

QUESTION_WIDTH = 60
# publication status -> what it means for the person at the terminal


def _interval_union(timings: list[Timing]) -> float:
    """Seconds during which at least one step ran (parallel branches counted once)."""
    total, end = 0.0, float("-inf")
    for t in sorted(timings, key=lambda t: t.start):
        if t.end > end:
            total += t.end - max(t.start, end)
            end = t.end
    return total


def time_line(record: RunRecord, paused: bool, now: float | None = None) -> str:
    """Active time apart from waiting: the owner's wait (before the owner-review step, or
    since the pause) is not work, nor is time between steps (a killed process, checkpoints)."""
    timings = record.timings
    active = _interval_union(timings)
    first = min(t.start for t in timings)
    last = max(t.end for t in timings)
    text = f"time: {active:.1f} s active over {len(timings)} steps"
    owner_wait = 0.0
    for review in (t for t in timings if t.node == "owner_review"):
        before = [t.end for t in timings if t.end <= review.start]
        owner_wait += review.start - max(before, default=review.start)
    if owner_wait:
        text += f"; {owner_wait:.1f} s waiting for the owner's decision"
    idle = (last - first) - active - owner_wait
    if idle >= 1.0:
        text += f"; {idle:.1f} s between steps (checkpoints, a stopped process)"
    if paused:
        waited = (now or time.time()) - last
        text += f"; waiting for the owner's decision for {waited:.0f} s"
    return text


def _status_line(values: dict[str, Any], status: str) -> str:
    run_id = values.get("run_id", "")
    if status == "awaiting review":
        return (
            f"status: awaiting owner review — sovereign review {run_id} "
            "--approve|--reject --note '...'"
        )
    if status == "unfinished":
        return (
            f"status: unfinished (next: {', '.join(values['_next'])}) — sovereign resume {run_id}"
        )
    origin = "" if values.get("_checkpointed", True) else " (started from Python, not resumable)"
    return f"status: {status}{origin}"


def describe(values: dict[str, Any], publication: str | None = None) -> str:
    """The summary of a run: `values` is a snapshot from `run_research`, `resume_run` or
    `load_run` (the state plus LangGraph's `_next` and `_interrupts`); `publication` the
    report's current status in the store."""
    from graph.runner import status_of

    record = RunRecord.from_state(values)
    status = status_of(values, publication)
    lines = [f"run {record.run_id}: {record.question}", _paper_line(record)]
    if record.decided:
        lines.append(results_line(record))
        lines += [f"  - {reason}" for reason in record.policy_reasons]
    recorded = record.publication
    if shown := publication or (recorded.status if recorded else None):
        lines.append(f"publication: {report_id_for(record.run_id)} {shown}")
    if record.owner_decision:
        d = record.owner_decision
        lines.append(f"owner: {d.decision} by {d.who}: {d.note}")
    lines.append(_status_line(values, status))
    if record.timings:
        lines.append(time_line(record, paused=status == "awaiting review"))
    if record.report_path:
        lines.append(f"json: {record.json_path}")
        lines.append(f"transcript: {_events_path(record)}")
        lines.append(f"report: {record.report_path}")
    return "\n".join(lines)


def _events_path(record: RunRecord) -> str:
    return str(Path(str(record.report_path)).with_name(EVENTS_FILE))


def _paper_line(record: RunRecord) -> str:
    if record.target:
        return f"paper: {record.target.arxiv_id} {record.target.title}"
    return f"paper: none ({record.input_error or record.target_note})"


def _started(values: dict[str, Any]) -> str:
    raw = str(values.get("started_at") or "")
    try:
        return datetime.fromisoformat(raw).astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return raw[:16] or "-"


def clip(text: str, width: int) -> str:
    """For display only: stored text is never cut."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(rows: list[dict[str, Any]], statuses: list[str]) -> str:
    """The runs as aligned columns: id, started (UTC), question, status, policy, score."""
    head = ("RUN", "STARTED (UTC)", "QUESTION", "STATUS", "POLICY", "SCORE")
    body = []
    for values, status in zip(rows, statuses, strict=True):
        record = RunRecord.from_state(values)
        held = record.reviews or record.consensus_history
        score = f"{record.consensus:.2f}" if held else "-"
        policy = record.policy if record.decided else "-"
        question = clip(record.question, QUESTION_WIDTH) or "-"
        body.append((record.run_id, _started(values), question, status, policy, score))
    return aligned(head, body)


def aligned(head: tuple[str, ...], body: Sequence[tuple[str, ...]]) -> str:
    """Rows as left-aligned columns two spaces apart."""
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *body]]
    return "\n".join(line.rstrip() for line in lines)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from graph.cli.queue import queue_table, queued_requests
    from graph.runner import all_runs, publication_status, status_of

    runs = all_runs(settings)
    if not runs:
        print(f"no runs recorded in {settings.home}")
    else:
        statuses = [status_of(v, publication_status(v["run_id"], settings)) for v in runs]
        print(table(runs, statuses))
    if requests := queued_requests(settings):
        print(f"\nqueue ({len(requests)} requests):")
        print(queue_table(requests))
    return 0


def _show(args: argparse.Namespace, settings: Settings) -> int:
    from graph.runner import load_run, publication_status

    if args.run_id == "list":  # the older spelling of `sovereign list`
        return _list(args, settings)
    values = load_run(args.run_id, settings)
    print(describe(values, publication_status(args.run_id, settings)))
    return 0


def register(subparsers: Any) -> None:
    runs = subparsers.add_parser(
        "list",
        help="table of runs: id, start, question, status, policy, score",
        description="Every run under $SOVEREIGN_HOME, oldest first, including runs started "
        "from Python.",
    )
    runs.set_defaults(func=_list)
    show = subparsers.add_parser(
        "show",
        help="summary of one run (its report's path last)",
        description="Summary of one run: paper, results, publication, status, time, files.",
    )
    show.add_argument("run_id", metavar="RUN_ID", help="the run's id (see sovereign list)")
    show.set_defaults(func=_show)
