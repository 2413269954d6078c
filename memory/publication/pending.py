"""Runs paused at the graph's owner-review interrupt, read from the LangGraph SQLite checkpoint
file. Escalated runs that paused before publication are not in the publication store yet, so
`sovereign review list` looks here too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PausedRun:
    thread_id: str
    run_id: str
    report_path: str | None
    reasons: tuple[str, ...]


def paused_runs(checkpoint_path: Path) -> list[PausedRun]:
    """Threads whose latest checkpoint has a pending interrupt; [] when there is no file."""
    if not Path(checkpoint_path).exists():
        return []
    from langgraph.checkpoint.sqlite import SqliteSaver

    latest: dict[str, Any] = {}
    with SqliteSaver.from_conn_string(str(checkpoint_path)) as saver:
        for tup in saver.list(None):
            thread = str(tup.config["configurable"]["thread_id"])
            if tup.config["configurable"].get("checkpoint_ns"):
                continue  # subgraph checkpoints
            cid = str(tup.config["configurable"]["checkpoint_id"])
            if thread not in latest or cid > latest[thread][0]:
                latest[thread] = (cid, tup)
    out = []
    for thread, (_, tup) in sorted(latest.items()):
        for _task, channel, value in tup.pending_writes or []:
            if channel != "__interrupt__":
                continue
            items = value if isinstance(value, (list, tuple)) else [value]
            values = [getattr(i, "value", i) for i in items]
            payload: dict[str, Any] = next((v for v in values if isinstance(v, dict)), {})
            if "resume_with" not in payload:
                continue  # some other interrupt, not owner review
            out.append(
                PausedRun(
                    thread_id=thread,
                    run_id=str(payload.get("run_id") or thread),
                    report_path=payload.get("report_path"),
                    reasons=tuple(str(r) for r in payload.get("policy_reasons") or []),
                )
            )
            break
    return out
