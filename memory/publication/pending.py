"""Runs paused at the graph's owner-review interrupt, read from the LangGraph SQLite checkpoint
file. Escalated runs that paused before publication are not in the publication store yet, so
`sovereign review list` looks here too."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PausedRun:
    thread_id: str
    run_id: str
    report_path: str | None
    reasons: tuple[str, ...]


def _candidates(checkpoint_path: Path) -> list[str]:
    """Threads whose latest root checkpoint has an interrupt write (plain SQL, so listing does
    not deserialise every checkpoint of every run)."""
    try:
        conn = sqlite3.connect(f"file:{checkpoint_path}?mode=ro", uri=True)
    except sqlite3.Error:
        return []
    try:
        rows = conn.execute(
            "SELECT c.thread_id FROM checkpoints c "
            "JOIN (SELECT thread_id, MAX(checkpoint_id) AS last FROM checkpoints "
            "      WHERE checkpoint_ns = '' GROUP BY thread_id) m "
            "  ON c.thread_id = m.thread_id AND c.checkpoint_id = m.last "
            "WHERE c.checkpoint_ns = '' AND EXISTS (SELECT 1 FROM writes w "
            "  WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = '' "
            "  AND w.checkpoint_id = c.checkpoint_id AND w.channel = '__interrupt__') "
            "ORDER BY c.thread_id"
        ).fetchall()
    except sqlite3.Error:  # not a LangGraph checkpoint file (yet)
        return []
    finally:
        conn.close()
    return [str(r[0]) for r in rows]


def paused_runs(checkpoint_path: Path) -> list[PausedRun]:
    """Runs waiting at the owner-review interrupt; [] when there is no checkpoint file."""
    if not Path(checkpoint_path).exists():
        return []
    threads = _candidates(Path(checkpoint_path))
    if not threads:
        return []
    from langgraph.checkpoint.sqlite import SqliteSaver

    out = []
    with SqliteSaver.from_conn_string(str(checkpoint_path)) as saver:
        for thread in threads:
            tup = saver.get_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}})
            if tup is None:
                continue
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
