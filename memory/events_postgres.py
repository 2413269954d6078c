"""The event log and consumer offsets on PostgreSQL: the same read and offset interface as
`memory.events` (SqliteEventLog, SqliteOffsets), shared by the machines of a scale-out setup
(`database_url`). Several named logs live in one table; each machine's local SQLite logs stay
the transactional outbox and are relayed here (`relay`, idempotent by origin and local cursor).

Cursor order is commit order, which a consumer needs and a sequence does not give: with
`BIGSERIAL` a transaction holding cursor 7 may commit after one holding cursor 8, and a reader
that saw 8 and committed its offset would never see 7. So an appender takes a transaction-level
advisory lock on the log, then the next cursor is `max + 1`; the lock is released only after its
commit is visible, so the next appender's cursors are higher and become visible later. A reader
takes no lock and may read anything it sees; there are no gaps (a rolled-back append leaves
none). The price is one appender per log at a time: a relay appends a whole batch per lock."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from memory.errors import ServiceUnavailable, first_line
from memory.events import Event, NewEvent, now_iso
from memory.queue.postgres import connect, redacted

LOCK_SPACE = 17018  # first key of the log locks (the queue's is 17017); hashtext(log) second
SCHEMA = """
CREATE TABLE IF NOT EXISTS sovereign_events(
    log TEXT NOT NULL,
    cursor BIGINT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT '',
    origin_cursor BIGINT,
    PRIMARY KEY (log, cursor)
);
CREATE UNIQUE INDEX IF NOT EXISTS sovereign_events_origin
    ON sovereign_events (log, origin, origin_cursor) WHERE origin_cursor IS NOT NULL;
CREATE TABLE IF NOT EXISTS sovereign_event_offsets(
    consumer TEXT NOT NULL,
    log TEXT NOT NULL,
    cursor BIGINT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (consumer, log)
);
"""
INSERT = (
    "INSERT INTO sovereign_events(log, cursor, kind, subject, payload, at, origin, origin_cursor)"
    " VALUES(%s, %s, %s, %s, %s, %s, %s, %s)"
)
Row = tuple[str, str, dict[str, Any], str, str, int | None]  # kind subject payload at origin oc


def _connection(url: str) -> Any:
    """An autocommit connection (reads hold no snapshot between calls), schema ensured."""
    conn = connect(url)
    conn.autocommit = True
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_SPACE,))
        conn.execute(SCHEMA)
    return conn


@contextmanager
def _guarded(lock: threading.Lock, location: str) -> Iterator[None]:
    """One caller at a time on the connection; a lost server is one line, not a traceback."""
    import psycopg

    with lock:
        try:
            yield
        except psycopg.OperationalError as exc:
            raise ServiceUnavailable(f"shared event log at {location}: {first_line(exc)}") from exc


def _append_locked(cur: Any, log: str, rows: Sequence[Row]) -> int:
    """Inside the caller's transaction: lock the log, number the rows after its head, insert.
    The lock is held until the caller commits, which is what keeps cursors in commit order."""
    cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_SPACE, log))
    cur.execute("SELECT coalesce(max(cursor), 0) FROM sovereign_events WHERE log = %s", (log,))
    head = int(cur.fetchone()[0])
    params = [
        (log, head + i, kind, subject, json.dumps(payload), at, origin, origin_cursor)
        for i, (kind, subject, payload, at, origin, origin_cursor) in enumerate(rows, 1)
    ]
    if params:
        cur.executemany(INSERT, params)
    return len(params)


def append(cur: Any, log: str, events: Iterable[NewEvent], at: str | None = None) -> int:
    """Append inside the caller's open transaction (a producer writing its data in the same
    PostgreSQL transaction); returns how many."""
    when = at or now_iso()
    return _append_locked(cur, log, [(k, s, p, when, "", None) for k, s, p in events])


class _SharedConnection:
    """One connection to the shared database, used by one thread at a time."""

    def __init__(self, url: str) -> None:
        self.location = redacted(url)
        self._conn = _connection(url)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._conn.close()

    def _guarded(self) -> Any:
        return _guarded(self._lock, self.location)


class PostgresEventLog(_SharedConnection):
    """One named log in the shared database."""

    def __init__(self, url: str, name: str) -> None:
        super().__init__(url)
        self.url = url
        self.name = name

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._guarded():
            return list(self._conn.execute(sql, params).fetchall())

    def append(self, events: Iterable[NewEvent], at: str | None = None) -> int:
        with self._guarded(), self._conn.transaction(), self._conn.cursor() as cur:
            return append(cur, self.name, events, at)

    def relayed(self, origin: str) -> int:
        """The last local cursor of `origin` already in this log (0: none)."""
        rows = self._rows(
            "SELECT coalesce(max(origin_cursor), 0) FROM sovereign_events "
            "WHERE log = %s AND origin = %s",
            (self.name, origin),
        )
        return int(rows[0][0])

    def relay(self, origin: str, batch: Sequence[Event]) -> int:
        """Copy a local log's events (in their cursor order) into this log, each once: the
        check and the insert run under the log's lock, so concurrent relays of one origin
        cannot both copy an event. Returns how many were new."""
        with self._guarded(), self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_SPACE, self.name))
            cur.execute(
                "SELECT coalesce(max(origin_cursor), 0) FROM sovereign_events "
                "WHERE log = %s AND origin = %s",
                (self.name, origin),
            )
            done = int(cur.fetchone()[0])
            rows = [(e.kind, e.subject, e.payload, e.at, origin, e.cursor) for e in batch
                    if e.cursor > done]  # fmt: skip
            return _append_locked(cur, self.name, rows)

    def read_after(self, cursor: int, limit: int = 500) -> list[Event]:
        rows = self._rows(
            "SELECT cursor, kind, subject, payload, at, origin FROM sovereign_events "
            "WHERE log = %s AND cursor > %s ORDER BY cursor LIMIT %s",
            (self.name, cursor, limit),
        )
        return [
            Event(self.name, int(c), str(k), str(s), str(a), json.loads(p), str(o))
            for c, k, s, p, a, o in rows
        ]

    def head(self) -> int:
        """The newest cursor (0 for an empty log)."""
        rows = self._rows(
            "SELECT coalesce(max(cursor), 0) FROM sovereign_events WHERE log = %s", (self.name,)
        )
        return int(rows[0][0])


class PostgresOffsets(_SharedConnection):
    """Consumers' committed cursors in the shared database."""

    def get(self, consumer: str, log: str) -> int:
        with self._guarded():
            row = self._conn.execute(
                "SELECT cursor FROM sovereign_event_offsets WHERE consumer = %s AND log = %s",
                (consumer, log),
            ).fetchone()
        return int(row[0]) if row else 0

    def commit(self, consumer: str, log: str, cursor: int) -> None:
        """Move the consumer's offset forward (never back: a late duplicate commit is a no-op)."""
        with self._guarded():
            self._conn.execute(
                "INSERT INTO sovereign_event_offsets(consumer, log, cursor, at) "
                "VALUES(%s, %s, %s, %s) ON CONFLICT(consumer, log) DO UPDATE SET "
                "cursor = excluded.cursor, at = excluded.at "
                "WHERE sovereign_event_offsets.cursor < excluded.cursor",
                (consumer, log, cursor, now_iso()),
            )
