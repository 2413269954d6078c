"""The scale-out queue: a table in PostgreSQL that workers on any number of machines share.

Two of PostgreSQL's own primitives do the work (the ones procrastinate, que and good_job are
built on): a claim is `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent claimers each take a
different row without waiting on each other; and the claiming connection then holds a
session-level advisory lock on the request for as long as it runs. A worker that dies (even
SIGKILL) loses its connection, PostgreSQL drops the lock at once, and `recover` in any other
worker can take the lock: that is the proof the owner is gone, with no heartbeat or timeout
to tune. Each worker thread uses its own connection (a lock belongs to a session)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from memory.errors import ServiceUnavailable, first_line
from memory.queue.base import TABLE, RequestQueue
from memory.queue.model import COLUMNS, QueuedRequest

LOCK_SPACE = 17017  # first key of the advisory locks; the request id is the second
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id BIGSERIAL PRIMARY KEY,
    question TEXT NOT NULL,
    paper TEXT,
    run_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    not_before DOUBLE PRECISION NOT NULL,
    submitted_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    worker TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS {TABLE}_ready ON {TABLE} (state, not_before, id);
"""


def connect(url: str) -> Any:
    """A psycopg connection, or one line saying what is missing or unreachable."""
    try:
        import psycopg
    except ImportError as exc:
        raise ServiceUnavailable(
            f"the PostgreSQL queue needs psycopg ({exc}): pip install 'sovereign[postgres]'"
        ) from exc
    try:
        return psycopg.connect(url)
    except psycopg.OperationalError as exc:
        where = redacted(url)
        raise ServiceUnavailable(f"cannot reach PostgreSQL at {where}: {first_line(exc)}") from exc


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{host}"


class PostgresQueue(RequestQueue):
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = redacted(url)
        self._local = threading.local()
        self._conns: list[Any] = []
        self._conns_lock = threading.Lock()
        self._recovery_lock = threading.Lock()
        self._recovery_conn = connect(url)  # never holds a claim's lock (locks re-enter)
        with self._recovery_conn.transaction():
            self._recovery_conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_SPACE,))
            self._recovery_conn.execute(SCHEMA)

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = connect(self.url)
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        conn = self._conn()
        with conn.transaction(), conn.cursor() as cur:
            yield cur

    def _ready_sql(self) -> str:
        return (
            f"SELECT id FROM {TABLE} WHERE state = 'queued' AND not_before <= ? "
            "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
        )

    def _hold(self, cur: Any, request_id: int) -> None:
        cur.execute("SELECT pg_advisory_lock(%s::int4, %s::int4)", (LOCK_SPACE, request_id))

    def _release(self, request_id: int) -> None:
        self._conn().execute(
            "SELECT pg_advisory_unlock(%s::int4, %s::int4)", (LOCK_SPACE, request_id)
        )
        self._conn().commit()

    def _orphans(self) -> Iterator[tuple[Any, QueuedRequest]]:
        conn = self._recovery_conn
        with self._recovery_lock, conn.transaction(), conn.cursor() as cur:
            cur.execute(
                f"SELECT {COLUMNS} FROM {TABLE} WHERE state = 'running' "
                "ORDER BY id FOR UPDATE SKIP LOCKED"
            )
            for row in cur.fetchall():
                request = QueuedRequest.from_row(tuple(row))
                if self._owner_gone(cur, request.id):
                    yield cur, request

    @staticmethod
    def _owner_gone(cur: Any, request_id: int) -> bool:
        """Taking the request's lock succeeds only when no live session holds it; the lock
        is given back at once (the row stays locked by this transaction meanwhile)."""
        cur.execute("SELECT pg_try_advisory_lock(%s::int4, %s::int4)", (LOCK_SPACE, request_id))
        if not cur.fetchone()[0]:
            return False
        cur.execute("SELECT pg_advisory_unlock(%s::int4, %s::int4)", (LOCK_SPACE, request_id))
        return True

    def close(self) -> None:
        with self._conns_lock:
            for conn in [*self._conns, self._recovery_conn]:
                conn.close()
            self._conns.clear()
