"""The durable event log: what changed in the kernel's stores, in order, with a monotonically
increasing cursor, for consumers such as `sovereign watch` to act on exactly once.

Producers append inside their OWN transaction (the mirror's upsert batch, the publication
store's write), so a log never announces a write that rolled back and never misses one that
committed, and ingest pays one `executemany` per batch. Each store keeps its log beside its
data: the mirror's log in the mirror file, the publication log in the publication file.

Consumers keep their offsets where their effects go and commit an offset only after the
effects of the events before it; effects are idempotent (keyed by the event's cursor), so a
consumer killed between the two redoes nothing twice.

The PostgreSQL backend (`memory.events_postgres`, the shared log of several machines) has the
same read and offset interface; its appenders take cursors under a transaction lock so they
commit in cursor order (PostgreSQL sequences do not); SQLite's single writer makes every read
safe here."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EVENTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS events(
    cursor INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL
);
"""
# cursor INTEGER PRIMARY KEY: max + 1 on insert; rows are never deleted, so never reused. A
# recreated file starts at 1 again: its random id (drawn once, by the first ensure) tells a
# relay that its cursors are not the old file's (graph/watch/shared.py).
EVENTS_SCHEMA += """
CREATE TABLE IF NOT EXISTS events_log_id(id TEXT NOT NULL);
INSERT INTO events_log_id(id) SELECT lower(hex(randomblob(16)))
    WHERE NOT EXISTS (SELECT 1 FROM events_log_id);
"""
OFFSETS_SCHEMA = """
CREATE TABLE IF NOT EXISTS event_offsets(
    consumer TEXT NOT NULL,
    log TEXT NOT NULL,
    cursor INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (consumer, log)
);
"""

# kinds the kernel appends (a consumer ignores kinds it does not know)
PAPER_NEW = "paper.new"
PAPER_UPDATED = "paper.updated"
FULLTEXT_NEW = "fulltext.new"
RUN_FINISHED = "run.finished"
REPORT_VERSION = "report.version"
REPORT_STATUS = "report.status"
REPORT_CORRECTION = "report.correction"
OWNER_DECISION = "owner.decision"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Event:
    """One appended fact: `subject` is what it is about (an arXiv id, a report id)."""

    log: str
    cursor: int
    kind: str
    subject: str
    at: str
    payload: dict[str, Any] = field(default_factory=dict)
    origin: str = ""  # in a shared log: which machine's local log it was relayed from

    @property
    def key(self) -> str:
        """Unique across logs: `mirror#17`; idempotency keys of consumers' effects use it."""
        return f"{self.log}#{self.cursor}"


NewEvent = tuple[str, str, dict[str, Any]]  # kind, subject, payload


def ensure(conn: sqlite3.Connection) -> None:
    """Create the events table in the producer's database (idempotent)."""
    conn.executescript(EVENTS_SCHEMA)


def append(conn: sqlite3.Connection, events: Iterable[NewEvent], at: str | None = None) -> int:
    """Append events inside the caller's open transaction (the caller commits); returns how
    many. One statement per batch: this runs in the mirror's ingest loop."""
    when = at or now_iso()
    rows = [(kind, subject, json.dumps(payload), when) for kind, subject, payload in events]
    if rows:
        conn.executemany("INSERT INTO events(kind, subject, payload, at) VALUES(?, ?, ?, ?)", rows)
    return len(rows)


class SqliteEventLog:
    """Read side of one store's log (its SQLite file); a file without the table (an older
    mirror, or no store yet) reads as an empty log."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = Path(path)
        self.name = name

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            conn.close()

    def read_after(self, cursor: int, limit: int = 500) -> list[Event]:
        rows = self._rows(
            "SELECT cursor, kind, subject, payload, at FROM events WHERE cursor > ? "
            "ORDER BY cursor LIMIT ?",
            (cursor, limit),
        )
        return [
            Event(self.name, int(c), str(k), str(s), str(a), json.loads(p))
            for c, k, s, p, a in rows
        ]

    def head(self) -> int:
        """The newest cursor (0 for an empty log)."""
        rows = self._rows("SELECT coalesce(max(cursor), 0) FROM events", ())
        return int(rows[0][0]) if rows else 0

    def log_id(self) -> str | None:
        """This file's random id (None: no file, or one written before ids existed)."""
        rows = self._rows("SELECT id FROM events_log_id", ())
        return str(rows[0][0]) if rows else None


class SqliteOffsets:
    """Consumers' committed cursors, kept in the database their effects are written to."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as conn:
            conn.executescript(OFFSETS_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, consumer: str, log: str) -> int:
        conn = self._conn()
        try:
            row = conn.execute(
                "SELECT cursor FROM event_offsets WHERE consumer = ? AND log = ?", (consumer, log)
            ).fetchone()
        finally:
            conn.close()
        return int(row[0]) if row else 0

    def commit(self, consumer: str, log: str, cursor: int) -> None:
        """Move the consumer's offset forward (never back: a late duplicate commit is a no-op)."""
        conn = self._conn()
        try:
            with conn:
                conn.execute(
                    "INSERT INTO event_offsets(consumer, log, cursor, at) VALUES(?, ?, ?, ?) "
                    "ON CONFLICT(consumer, log) DO UPDATE SET cursor = excluded.cursor, "
                    "at = excluded.at WHERE event_offsets.cursor < excluded.cursor",
                    (consumer, log, cursor, now_iso()),
                )
        finally:
            conn.close()
