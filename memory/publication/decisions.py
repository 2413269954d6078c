"""The owner's decision on a run, recorded once before anything acts on it. Applying a
decision touches three things that cannot share one transaction: the paused graph's
checkpoint, the run's files (report.md, run.json) and the publication store. So the decision
is written first, as a single row (one per run, ever: whoever records first wins), and every
later step applies that row idempotently: a process killed between steps leaves the row, and
the next `sovereign review` (or site build) finishes the same decision. A different decision
on the same run is refused; the same one asked again converges instead of failing."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from memory.errors import UserError

CRASH_ENV = "SOVEREIGN_TEST_CRASH_AT"
DECISIONS = ("approve", "reject")
# the store status a decision ends in, once fully applied ("retracted" comes later, by hand)
SETTLED = {"approve": ("published", "retracted"), "reject": ("draft",)}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS owner_decisions (
  run_id TEXT PRIMARY KEY,
  decision TEXT NOT NULL CHECK (decision IN ('approve','reject')),
  note TEXT NOT NULL,
  who TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS owner_decisions_no_update BEFORE UPDATE ON owner_decisions
BEGIN SELECT RAISE(ABORT, 'an owner decision is final'); END;
CREATE TRIGGER IF NOT EXISTS owner_decisions_no_delete BEFORE DELETE ON owner_decisions
BEGIN SELECT RAISE(ABORT, 'an owner decision is final'); END;
"""


def crash_point(step: str) -> None:
    """Tests prove that a crash at `step` converges: SOVEREIGN_TEST_CRASH_AT=step SIGKILLs
    this process there (nothing runs after it, exactly like a power cut or kill -9)."""
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Decision:
    run_id: str
    decision: str
    note: str
    who: str
    at: str

    def resume(self) -> dict[str, str]:
        """What the graph's owner-review step is resumed with (`at` included, so replaying
        the step writes the very same report)."""
        return {k: v for k, v in asdict(self).items() if k != "run_id"}

    def settled(self, status: str | None) -> bool:
        """Whether the store's status already says what this decision says."""
        return status in SETTLED[self.decision]

    def refuse(self, asked: str) -> None:
        """One line, unless `asked` is this decision (asking again only finishes it)."""
        if asked != self.decision:
            raise UserError(
                f"run {self.run_id} is not awaiting owner review: {self.who} already decided "
                f"to {self.decision} at {self.at} ({self.note!r}); a contradicting "
                f"--{asked} is refused (sovereign correct --retract withdraws a publication)"
            )


@contextmanager
def _conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(Path(db_path), timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        with conn:
            conn.executescript(_SCHEMA)
            yield conn
    finally:
        conn.close()


def record(db_path: Path, wanted: Decision) -> Decision:
    """Record `wanted` unless the run already has a decision; returns the one that stands
    (the earlier one if there was one: the caller compares, see `Decision.refuse`)."""
    if wanted.decision not in DECISIONS:
        raise UserError(f"decision must be 'approve' or 'reject', not {wanted.decision!r}")
    with _conn(db_path) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO owner_decisions(run_id, decision, note, who, at) "
            "VALUES (?,?,?,?,?)",
            (wanted.run_id, wanted.decision, wanted.note, wanted.who, wanted.at),
        )
    found = recorded(db_path, wanted.run_id)
    assert found is not None  # just inserted, and rows are never deleted
    return found


def recorded(db_path: Path, run_id: str) -> Decision | None:
    """The run's recorded decision, if any."""
    if not Path(db_path).exists():
        return None
    with _conn(db_path) as conn:
        row = conn.execute("SELECT * FROM owner_decisions WHERE run_id=?", (run_id,)).fetchone()
    return None if row is None else Decision(**dict(row))


def all_recorded(db_path: Path) -> list[Decision]:
    """Every recorded decision, oldest first (for finishing interrupted ones)."""
    if not Path(db_path).exists():
        return []
    with _conn(db_path) as conn:
        rows = conn.execute("SELECT * FROM owner_decisions ORDER BY rowid").fetchall()
    return [Decision(**dict(r)) for r in rows]
