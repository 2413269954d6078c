"""The owner's decision on an escalated run, applied so that a crash at any step converges:
the decision is recorded first (memory.publication.decisions), then applied idempotently to
the paused graph, the run's files and the publication store. A later `sovereign review` or
site build finishes a decision a killed process left half-applied; the same decision asked
again finishes it too, a contradicting one is refused with one line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from graph.runner import resume_run, standing_decision
from graph.settings import Settings
from memory import homelock
from memory.errors import UserError
from memory.publication import decisions
from memory.publication.decisions import Decision
from memory.publication.pending import paused_runs
from memory.publication.runview import report_id_for
from memory.publication.service import settle, store_for
from memory.publication.store import PublicationStore
from memory.run import OwnerDecision

RESUMED = "graph resumed from its owner-review interrupt"
FINISHED = "run had finished; decision recorded in the publication store"


@dataclass(frozen=True)
class Outcome:
    report_id: str
    status: str
    how: str
    decision: Decision


def find_paused(ref: str, settings: Settings) -> str | None:
    """The thread of the run `ref` (run id or SRCH:ID) if its graph waits for the owner."""
    ref_up = ref.strip().upper()
    for paused in paused_runs(Path(settings.checkpoint_path)):
        if ref.strip() in (paused.run_id, paused.thread_id) or ref_up == report_id_for(
            paused.run_id
        ):
            return paused.thread_id
    return None


def decide(ref: str, asked: dict[str, str], settings: Settings) -> Outcome:
    """Record the owner's decision on run `ref` (unless one stands already: the same one is
    finished, a different one refused), then apply it everywhere."""
    with _one_at_a_time(settings):
        thread = find_paused(ref, settings)
        store = store_for(settings.publications_path)
        run_id = thread or store.get(store.resolve(ref)).run_id
        earlier = decisions.recorded(settings.publications_path, run_id)
        if earlier is not None:
            earlier.refuse(asked["decision"])
        elif thread is None and store.status(report_id_for(run_id)) != "escalated":
            status = store.status(report_id_for(run_id)) or "unrecorded"
            raise UserError(f"{report_id_for(run_id)} is {status}, not awaiting owner review")
        stands = standing_decision(run_id, asked, settings)
        return _apply(stands, thread, settings)


def _apply(stands: Decision, thread: str | None, settings: Settings) -> Outcome:
    """Every step is idempotent: the graph resumes only while it is paused, the run's files
    are rewritten with the recorded decision (its time included), the store moves on only
    from where it stands."""
    how = FINISHED
    if thread is not None:
        resume_run(thread, stands.resume(), settings)
        how = RESUMED
    decisions.crash_point("graph-resumed")
    store = store_for(settings.publications_path)
    report_id = report_id_for(stands.run_id)
    status = store.status(report_id)
    if status is None:
        raise UserError(f"run {stands.run_id} has no report in {settings.publications_path}")
    if status == "escalated" and thread is None:
        status = _decide_finished(store, report_id, stands, settings)
    return Outcome(report_id, settle(store, report_id, *_fields(stands)), how, stands)


def _fields(stands: Decision) -> tuple[str, str, str]:
    return stands.decision, stands.note, stands.who


def _decide_finished(
    store: PublicationStore, report_id: str, stands: Decision, settings: Settings
) -> str:
    """The decision on a run with no graph waiting: the report and run.json are rewritten with
    it when the run's files are still there, then the store applies it."""
    from graph.nodes.publication import record_decision, recorded_info

    owner = OwnerDecision(**stands.resume())
    record = store.get(report_id).record().model_copy(update={"owner_decision": owner})
    info = recorded_info(record)
    if info is None:  # the run's files are gone: the store alone records the decision
        return settle(store, report_id, *_fields(stands))
    return record_decision(record, info, settings.publications_path).status


def finish_pending(settings: Settings, say: Callable[[str], None] | None = None) -> list[Outcome]:
    """Finish every recorded decision a killed process left half-applied (its graph still
    paused, or the store not yet saying it)."""
    if not settings.publications_path.exists():
        return []
    store = store_for(settings.publications_path)
    out = []
    with _one_at_a_time(settings):
        paused = {p.run_id: p.thread_id for p in paused_runs(Path(settings.checkpoint_path))}
        for stands in decisions.all_recorded(settings.publications_path):
            status = store.status(report_id_for(stands.run_id))
            if stands.run_id not in paused and (status is None or stands.settled(status)):
                continue
            (say or _say)(
                f"finishing the owner's recorded decision on run {stands.run_id} "
                f"({stands.decision} by {stands.who}; an earlier process stopped midway)"
            )
            out.append(_apply(stands, paused.get(stands.run_id), settings))
    return out


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _one_at_a_time(settings: Settings) -> homelock.Held:
    """Decisions of one home are applied by one process at a time (two `sovereign review`
    at once would both resume the same graph)."""
    return homelock.Held(settings.home / "decisions")
