"""The single-machine queue: one SQLite file under $SOVEREIGN_HOME, no server. A claim is one
`BEGIN IMMEDIATE` transaction (SQLite's write lock), so worker threads and processes on this
machine never take the same request; a worker's death is seen from its pid."""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from memory.queue.base import TABLE, RequestQueue
from memory.queue.model import COLUMNS, QueuedRequest

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    paper TEXT,
    run_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    not_before REAL NOT NULL,
    submitted_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    worker TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS {TABLE}_ready ON {TABLE} (state, not_before, id);
"""


def process_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def owner_alive(worker: str | None) -> bool:
    """A worker named host:pid:thread on this host is alive while its process is; one on
    another host (a SQLite file shared over a network: unsupported) is assumed alive."""
    host, _, rest = (worker or "").partition(":")
    pid = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    return process_alive(int(pid))


class SqliteQueue(RequestQueue):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # autocommit mode: transactions are explicit (BEGIN IMMEDIATE) and short
        self._conn = sqlite3.connect(
            str(self.path), timeout=60, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _ready_sql(self) -> str:
        return (
            f"SELECT id FROM {TABLE} WHERE state = 'queued' AND not_before <= ? ORDER BY id LIMIT 1"
        )

    def _hold(self, cur: Any, request_id: int) -> None:
        """Ownership is the worker name the claim recorded (its pid shows liveness)."""

    def _release(self, request_id: int) -> None:
        pass

    def _orphans(self) -> Iterator[tuple[Any, QueuedRequest]]:
        with self._tx() as cur:
            cur.execute(f"SELECT {COLUMNS} FROM {TABLE} WHERE state = 'running' ORDER BY id")
            running = [QueuedRequest.from_row(tuple(r)) for r in cur.fetchall()]
            for request in running:
                if not owner_alive(request.worker):
                    yield cur, request

    def close(self) -> None:
        with self._lock:
            self._conn.close()
