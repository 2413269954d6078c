"""Run, resume and show research runs with a SQLite checkpointer under $SOVEREIGN_HOME, so a
run killed midway continues from its last finished step (used by the CLI, tests and
`sovereign review`)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.types import Command

from agents.reporter import results_line
from graph.services import Services
from graph.settings import Settings
from graph.state import new_run_id
from memory.errors import UserError
from memory.run import RunRecord

Progress = Callable[[str, dict[str, Any]], None]


@contextmanager
def checkpointer(settings: Settings) -> Iterator[Any]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = settings.checkpoint_path
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def _config(run_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": run_id}}


def _stream(
    graph: Any, payload: Any, run_id: str, progress: Progress | None, context: dict[str, Any] | None
) -> None:
    for chunk in graph.stream(
        payload,
        _config(run_id),
        context=context,
        stream_mode="updates",
        durability="sync",
    ):
        if not progress:
            continue
        for node, update in chunk.items():
            progress(node, update if isinstance(update, dict) else {"value": update})


def run_research(
    question: str,
    settings: Settings,
    *,
    paper: str | None = None,
    out_dir: str | Path | None = None,
    owner_review: bool = True,
    run_id: str | None = None,
    progress: Progress | None = None,
    services: Services | None = None,
) -> dict[str, Any]:
    """A checkpointed run; returns the final (or paused) state values."""
    from graph.builder import build_graph

    run_id = run_id or new_run_id()
    payload = {
        "question": question,
        "paper": paper,
        "run_id": run_id,
        "out_dir": str(out_dir) if out_dir else None,
        "owner_review": owner_review,
    }
    with checkpointer(settings) as saver:
        graph = build_graph(settings, checkpointer=saver, services=services)
        _stream(graph, payload, run_id, progress, None)
        return _snapshot(graph, run_id)


def _snapshot(graph: Any, run_id: str) -> dict[str, Any]:
    snap = graph.get_state(_config(run_id))
    values = dict(snap.values or {})
    values["_next"] = list(snap.next or [])
    values["_interrupts"] = [
        getattr(i, "value", i) for task in snap.tasks or [] for i in (task.interrupts or [])
    ]
    return values


def resume_run(
    run_id: str,
    decision: dict[str, Any] | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    services: Services | None = None,
) -> dict[str, Any]:
    """Continue a killed run from its last checkpoint, or answer its owner-review interrupt
    with `decision` ({"decision": "approve"|"reject", "note", "who"})."""
    from graph.builder import build_graph
    from graph.settings import load_settings

    settings = settings or load_settings()
    with checkpointer(settings) as saver:
        graph = build_graph(settings, checkpointer=saver, services=services)
        snap = graph.get_state(_config(run_id))
        if not snap.values:
            raise UserError(f"no run {run_id!r} in {settings.checkpoint_path}")
        paused = any(task.interrupts for task in snap.tasks or [])
        if paused:
            if decision is None:
                raise UserError(
                    f"run {run_id} awaits the owner's review: "
                    f"sovereign review {run_id} --approve|--reject --note '...'"
                )
            _stream(graph, Command(resume=decision), run_id, progress, None)
        elif snap.next:
            _stream(graph, None, run_id, progress, None)
        elif decision is not None:
            raise UserError(f"run {run_id} is not waiting for an owner decision")
        return _snapshot(graph, run_id)


def load_run(run_id: str, settings: Settings) -> dict[str, Any]:
    from graph.builder import build_graph

    if not settings.checkpoint_path.exists():
        raise UserError(f"no runs recorded yet ({settings.checkpoint_path} does not exist)")
    with checkpointer(settings) as saver:
        graph = build_graph(settings, checkpointer=saver)
        values = _snapshot(graph, run_id)
    if len(values) <= 2:
        raise UserError(f"no run {run_id!r} in {settings.checkpoint_path}")
    return values


def list_runs(settings: Settings) -> list[str]:
    if not settings.checkpoint_path.exists():
        return []
    conn = sqlite3.connect(str(settings.checkpoint_path))
    try:
        rows = conn.execute(
            "SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id"
        ).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [r[0] for r in rows]


def describe(values: dict[str, Any]) -> str:
    """The `sovereign show` summary of a run: `values` is a snapshot from `run_research`,
    `resume_run` or `load_run` (the state plus LangGraph's `_next` and `_interrupts`), read
    through `RunRecord` like every other consumer of a run."""
    record = RunRecord.from_state(values)
    lines = [f"run {record.run_id}: {record.question}", _paper_line(record)]
    if record.decided:
        lines.append(results_line(record))
        lines += [f"  - {reason}" for reason in record.policy_reasons]
    if record.report_path:
        lines.append(f"report: {record.report_path}")
        lines.append(f"json:   {record.json_path}")
    if record.publication:
        lines.append(f"publication: {record.publication.report_id} {record.publication.status}")
    if record.owner_decision:
        d = record.owner_decision
        lines.append(f"owner: {d.decision} by {d.who}: {d.note}")
    lines.append(_status_line(record.run_id, values.get("_interrupts"), values.get("_next")))
    if record.timings:
        wall = max(t.end for t in record.timings) - min(t.start for t in record.timings)
        lines.append(f"wall time of recorded steps: {wall:.1f} s over {len(record.timings)} steps")
    return "\n".join(lines)


def _paper_line(record: RunRecord) -> str:
    if record.target:
        return f"paper: {record.target.arxiv_id} {record.target.title}"
    return f"paper: none ({record.target_note})"


def _status_line(run_id: str, interrupts: Any, pending: Any) -> str:
    if interrupts:
        return (
            f"status: awaiting owner review — sovereign review {run_id} "
            "--approve|--reject --note '...'"
        )
    if pending:
        return f"status: unfinished (next: {', '.join(pending)}) — sovereign resume {run_id}"
    return "status: finished"


def progress_printer(stream: Any, started: float | None = None) -> Progress:
    """Live per-node progress lines for the CLI."""
    t0 = started or time.time()

    def show(node: str, update: dict[str, Any]) -> None:
        parts = []
        for key, value in update.items():
            if key in ("timings", "settings_used", "started_at") or value in (None, [], {}):
                continue
            if key == "target":
                parts.append(f"target {value['arxiv_id']}")
            elif key == "facets":
                parts.append("; ".join(f"{k}: {', '.join(v)}" for k, v in value.items() if v))
            elif key == "queries":
                parts.append(f"{len(value)} queries")
            elif isinstance(value, list):
                parts.append(f"{len(value)} {key}")
            elif isinstance(value, str | int | float) and len(str(value)) < 90:
                parts.append(f"{key}={value}")
        print(f"[{time.time() - t0:6.1f}s] {node:<16} {'; '.join(parts)}", file=stream, flush=True)

    return show
