"""The research queue: requests submitted now, run later by any number of workers. SQLite under
$SOVEREIGN_HOME by default (one machine, no server), PostgreSQL for workers on several
machines; both satisfy `RequestQueue`, checked by one contract test."""

from __future__ import annotations

from pathlib import Path

from memory.queue.base import RequestQueue, worker_name
from memory.queue.model import STATES, QueuedRequest, State

__all__ = ["STATES", "QueuedRequest", "RequestQueue", "State", "open_queue", "worker_name"]


def open_queue(database_url: str | None, sqlite_path: Path) -> RequestQueue:
    """PostgreSQL when a URL is given, else the SQLite file (created on first use)."""
    if database_url:
        from memory.queue.postgres import PostgresQueue

        return PostgresQueue(database_url)
    from memory.queue.sqlite import SqliteQueue

    return SqliteQueue(sqlite_path)
