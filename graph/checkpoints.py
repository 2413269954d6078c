"""Where LangGraph checkpoints live: a SQLite file under $SOVEREIGN_HOME by default, or
PostgreSQL (langgraph-checkpoint-postgres) when `database_url` is set, so workers on several
machines share runs: a request requeued after its worker died resumes from the last step
the dead worker finished, wherever it lands."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from graph.settings import Settings
from memory.errors import ServiceUnavailable

SQLITE_BUSY_S = 60.0  # other processes write the same file: wait for their transactions
SETUP_LOCK = (17017, -1)  # advisory lock key serialising the checkpointer's migrations
_ready: set[str] = set()
_ready_lock = threading.Lock()


@contextmanager
def checkpointer(settings: Settings) -> Iterator[Any]:
    """A saver for one run (or one listing): each call opens its own connection, so worker
    threads never share one."""
    if settings.database_url:
        with _postgres(settings.database_url) as saver:
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = settings.checkpoint_path
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=SQLITE_BUSY_S)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


@contextmanager
def _postgres(url: str) -> Iterator[Any]:
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
    except ImportError as exc:
        raise ServiceUnavailable(
            f"PostgreSQL checkpoints need langgraph-checkpoint-postgres ({exc}): "
            "pip install 'sovereign[postgres]'"
        ) from exc
    from memory.queue.postgres import connect

    connect(url).close()  # an unreachable server: one line, not psycopg's traceback
    with PostgresSaver.from_conn_string(url) as saver:
        _setup_once(url, saver)
        yield saver


def _setup_once(url: str, saver: Any) -> None:
    """The saver's migrations, once per process and database; an advisory lock keeps two
    workers starting together from running them at the same time."""
    with _ready_lock:
        if url in _ready:
            return
        with saver.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, %s)", SETUP_LOCK)
            try:
                saver.setup()
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", SETUP_LOCK)
        _ready.add(url)


def has_checkpoints(settings: Settings) -> bool:
    """Whether a checkpoint store exists to look in (a database always may)."""
    return bool(settings.database_url) or settings.checkpoint_path.exists()


def thread_ids(settings: Settings) -> list[str]:
    """Runs with checkpoints (started by the CLI, a worker or `run_research`)."""
    if settings.database_url:
        with checkpointer(settings) as saver, saver.conn.cursor() as cur:
            cur.execute("SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id")
            return [row["thread_id"] for row in cur.fetchall()]
    if not settings.checkpoint_path.exists():
        return []
    conn = sqlite3.connect(f"file:{settings.checkpoint_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id"
        ).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [r[0] for r in rows]
