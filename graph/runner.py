"""Run, resume and show research runs with a checkpointer (SQLite under $SOVEREIGN_HOME, or
PostgreSQL with `database_url`: graph/checkpoints.py), so a run killed midway continues
from its last finished step (used by the CLI, the queue's workers, tests and `sovereign
review`). Runs started from Python without a checkpointer (`build_graph().invoke`)
are found too, by the run.json they wrote or the publication store that recorded them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from langgraph.types import Command

from graph.checkpoints import checkpointer, has_checkpoints, thread_ids
from graph.nodes.intake import question_problem
from graph.nodes.publication import run_dir
from graph.services import Services
from graph.settings import Settings
from graph.state import new_run_id
from graph.transcript import attach_run
from memory import homelock
from memory.errors import UserError
from memory.publication import decisions
from memory.publication.decisions import Decision
from memory.publication.runview import report_id_for, unanswered
from memory.run import RunRecord

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class Progress(Protocol):
    """Told when each task (a node, or one parallel branch of it) starts and finishes."""

    def started(self, node: str) -> None: ...

    def finished(self, node: str, update: dict[str, Any], interrupted: bool = False) -> None: ...


def _config(run_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": run_id}}


def _stream(graph: Any, payload: Any, run_id: str, progress: Progress | None) -> None:
    """Run to the end (or the owner's interrupt), reporting task starts and ends."""
    for chunk in graph.stream(payload, _config(run_id), stream_mode="tasks", durability="sync"):
        if progress is None or chunk.get("name", "").startswith("__"):
            continue
        if "result" not in chunk:
            progress.started(chunk["name"])
            continue
        result = chunk.get("result")
        update = result if isinstance(result, dict) else {}
        progress.finished(chunk["name"], update, interrupted=bool(chunk.get("interrupts")))


def check_run_id(run_id: str, settings: Settings) -> None:
    """A new run's id names its directory and its checkpoint thread: it must be a plain name
    and not already taken (a second run under the same id would continue the first)."""
    if not RUN_ID.fullmatch(run_id):
        raise UserError(
            f"--run-id {run_id!r}: use letters, digits, '.', '_' and '-' (at most 128, "
            "starting with a letter or digit)"
        )
    if run_id in thread_ids(settings) or (settings.runs_dir / run_id / "run.json").exists():
        raise UserError(f"a run {run_id!r} already exists: choose another --run-id")


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
    """A checkpointed run; returns the final (or paused) state values. A question that cannot
    be researched is refused (UserError) before anything is stored."""
    from graph.builder import build_graph

    if problem := question_problem(question, settings.max_question_chars):
        raise UserError(problem)
    run_id = run_id or new_run_id()
    out = str(out_dir) if out_dir else None
    payload = {
        "question": question,
        "paper": paper,
        "run_id": run_id,
        "out_dir": out,
        "owner_review": owner_review,
    }
    attach_run(run_id, run_dir(out, settings, run_id))
    homelock.set_label(f"run {run_id}")
    with checkpointer(settings) as saver:
        graph = build_graph(settings, checkpointer=saver, services=services)
        _stream(graph, payload, run_id, progress)
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
            raise UserError(_not_resumable(run_id, settings))
        values = snap.values
        attach_run(run_id, run_dir(values.get("out_dir"), settings, run_id))
        homelock.set_label(f"run {run_id}")
        paused = any(task.interrupts for task in snap.tasks or [])
        if paused:
            if decision is None:
                raise UserError(
                    f"run {run_id} awaits the owner's review: "
                    f"sovereign review {run_id} --approve|--reject --note '...'"
                )
            decision = standing_decision(run_id, decision, settings).resume()
            _stream(graph, Command(resume=decision), run_id, progress)
        elif snap.next:
            _stream(graph, None, run_id, progress)
        elif decision is not None:
            raise UserError(f"run {run_id} is not waiting for an owner decision")
        return _snapshot(graph, run_id)


def standing_decision(run_id: str, asked: dict[str, Any], settings: Settings) -> Decision:
    """The owner's decision on the run, recorded before anything acts on it (see
    memory.publication.decisions); a different one recorded earlier is refused."""
    wanted = Decision(
        run_id=run_id,
        decision=str(asked.get("decision")),
        note=str(asked.get("note", "")),
        who=str(asked.get("who") or "owner"),
        at=str(asked.get("at") or datetime.now(UTC).isoformat()),
    )
    stands = decisions.record(settings.publications_path, wanted)
    stands.refuse(wanted.decision)
    decisions.crash_point("decision-recorded")
    return stands


def _not_resumable(run_id: str, settings: Settings) -> str:
    recorded = _recorded_state(run_id, settings)
    if recorded is None:
        where = settings.checkpoint_path if not settings.database_url else "database_url"
        return f"no run {run_id!r} in {where}"
    return (
        f"run {run_id} was started without a checkpointer (Python API) and has finished; "
        f"nothing to resume (sovereign show {run_id}; an escalated one: sovereign review "
        f"{run_id} --approve|--reject --note '...')"
    )


# --- finding runs ------------------------------------------------------------------------------


def _run_json_states(settings: Settings) -> dict[str, dict[str, Any]]:
    """run_id -> state, from every run.json under the runs directory."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(settings.runs_dir.glob("*/run.json")):
        state = _read_state(path)
        if state and state.get("run_id"):
            out[str(state["run_id"])] = state
    return out


def _read_state(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    state = data.get("state") if isinstance(data, dict) else None
    return state if isinstance(state, dict) else None


def _stored_states(settings: Settings) -> dict[str, dict[str, Any]]:
    """run_id -> state, from the publication store (runs written elsewhere with --out)."""
    if not settings.publications_path.exists():
        return {}
    from memory.publication.service import store_for

    store = store_for(settings.publications_path)
    states = (store.get(rid).state for rid in store.report_ids())
    return {str(s["run_id"]): s for s in states if s.get("run_id")}


def _recorded_state(run_id: str, settings: Settings) -> dict[str, Any] | None:
    """A run without checkpoints: its run.json in the runs directory, else the store."""
    state = _read_state(settings.runs_dir / run_id / "run.json")
    return state if state is not None else _stored_states(settings).get(run_id)


def _finished(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "_next": [], "_interrupts": [], "_checkpointed": False}


def load_run(run_id: str, settings: Settings) -> dict[str, Any]:
    """A run's state as `_snapshot` gives it, from its checkpoints or, for a run started
    without a checkpointer, from what it recorded."""
    from graph.builder import build_graph

    if has_checkpoints(settings):
        with checkpointer(settings) as saver:
            values = _snapshot(build_graph(settings, checkpointer=saver), run_id)
        if len(values) > 2:
            return values
    recorded = _recorded_state(run_id, settings)
    if recorded is None:
        raise UserError(f"no run {run_id!r} in {settings.home} (sovereign list shows the runs)")
    return _finished(recorded)


def all_runs(settings: Settings) -> list[dict[str, Any]]:
    """Every run known under $SOVEREIGN_HOME, checkpointed or not, oldest first."""
    from graph.builder import build_graph

    runs: dict[str, dict[str, Any]] = {}
    threads = thread_ids(settings)
    if threads:
        with checkpointer(settings) as saver:
            graph = build_graph(settings, checkpointer=saver)
            for thread in threads:
                values = _snapshot(graph, thread)
                if len(values) > 2:
                    runs[thread] = values
    for source in (_run_json_states(settings), _stored_states(settings)):
        for run_id, state in source.items():
            runs.setdefault(run_id, _finished(state))
    return sorted(runs.values(), key=lambda v: (str(v.get("started_at") or ""), v["run_id"]))


def publication_status(run_id: str, settings: Settings) -> str | None:
    """The report's status in the publication store (it may have moved on since the run's
    last checkpoint: an owner's decision on a finished run is recorded there only)."""
    if not settings.publications_path.exists():
        return None
    from memory.publication.service import store_for

    return store_for(settings.publications_path).status(report_id_for(run_id))


PUBLICATION_WORDS = {"escalated": "awaiting review", "draft": "rejected"}


def status_of(values: dict[str, Any], publication: str | None) -> str:
    """One word or two for where a run stands."""
    record = RunRecord.from_state(values)
    if values.get("_interrupts"):
        return "awaiting review"
    if values.get("_next"):
        return "unfinished"
    if unanswered(record):
        return "not answered"
    if publication:
        return PUBLICATION_WORDS.get(publication, publication)
    return "finished"
