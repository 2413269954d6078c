"""The event log's contract, run on both backends (a SQLite file; PostgreSQL on a throwaway
local server): append and read after a cursor, offsets that only move forward, and concurrent
appenders that hold their transactions open for different times while a consumer reads and
commits offsets: the consumer still sees every event exactly once, in cursor order. (With a
plain PostgreSQL sequence the consumer would skip a cursor committed after a higher one.)"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory import events, events_postgres
from memory.errors import ServiceUnavailable
from memory.events import Event, NewEvent, SqliteEventLog, SqliteOffsets
from memory.queue.postgres import connect
from tests.postgres import Cluster, postgres_cluster  # noqa: F401  (fixture)

WRITERS = 4
BATCHES = 25


class SqliteBackend:
    def __init__(self, tmp: Path) -> None:
        self.path = tmp / "log.sqlite"

    def log(self) -> Any:
        return SqliteEventLog(self.path, "x")

    def offsets(self) -> Any:
        return SqliteOffsets(self.path)

    def append(self, rows: list[NewEvent], hold_s: float = 0.0) -> None:
        """One producer transaction that stays open `hold_s` after its insert."""
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            events.ensure(conn)
            conn.execute("BEGIN IMMEDIATE")
            events.append(conn, rows)
            time.sleep(hold_s)
            conn.execute("COMMIT")
        finally:
            conn.close()


class PostgresBackend:
    def __init__(self, url: str) -> None:
        self.url = url
        events_postgres.PostgresEventLog(url, "x").close()  # the schema

    def log(self) -> Any:
        return events_postgres.PostgresEventLog(self.url, "x")

    def offsets(self) -> Any:
        return events_postgres.PostgresOffsets(self.url)

    def append(self, rows: list[NewEvent], hold_s: float = 0.0) -> None:
        conn = connect(self.url)
        try:
            with conn.transaction(), conn.cursor() as cur:
                events_postgres.append(cur, "x", rows)
                time.sleep(hold_s)
        finally:
            conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "postgres":
        cluster: Cluster = request.getfixturevalue("postgres_cluster")
        yield PostgresBackend(cluster.new_database())
    else:
        yield SqliteBackend(tmp_path)


def test_append_read_after_and_head(backend: Any) -> None:
    log = backend.log()
    assert log.head() == 0 and log.read_after(0) == []
    backend.append([("a", "s1", {"n": 1}), ("b", "s2", {})])
    backend.append([("c", "s3", {"nested": {"k": [1, 2]}})])
    got = log.read_after(0)
    assert [(e.cursor, e.kind, e.subject) for e in got] == [(1, "a", "s1"), (2, "b", "s2"),
                                                           (3, "c", "s3")]  # fmt: skip
    assert got[0].payload == {"n": 1} and got[2].payload == {"nested": {"k": [1, 2]}}
    assert got[0].key == "x#1" and got[0].origin == ""
    assert [e.cursor for e in log.read_after(1, limit=1)] == [2]
    assert log.read_after(3) == [] and log.head() == 3


def test_offsets_only_move_forward(backend: Any) -> None:
    offsets = backend.offsets()
    assert offsets.get("watch", "mirror") == 0
    offsets.commit("watch", "mirror", 5)
    offsets.commit("watch", "mirror", 3)  # a late duplicate commit
    assert offsets.get("watch", "mirror") == 5
    offsets.commit("watch", "mirror", 6)
    assert offsets.get("watch", "mirror") == 6
    assert offsets.get("watch", "publication") == 0 and offsets.get("other", "mirror") == 0


def _writer(backend: Any, wid: int, errors: list[BaseException]) -> None:
    rng = random.Random(wid)
    try:
        for b in range(BATCHES):
            rows: list[NewEvent] = [("k", f"w{wid}-b{b}-{i}", {}) for i in range(rng.randint(1, 3))]
            backend.append(rows, hold_s=rng.choice([0.0, 0.002, 0.02]))
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)


def test_a_concurrent_consumer_misses_no_event_of_concurrent_appenders(backend: Any) -> None:
    log, offsets = backend.log(), backend.offsets()
    backend.append([("start", "s", {})])
    errors: list[BaseException] = []
    writers = [threading.Thread(target=_writer, args=(backend, w, errors)) for w in range(WRITERS)]
    for t in writers:
        t.start()
    seen: list[Event] = []

    def consume() -> None:
        batch = log.read_after(offsets.get("c", "x"), 7)
        if batch:
            seen.extend(batch)
            offsets.commit("c", "x", batch[-1].cursor)

    while any(t.is_alive() for t in writers):
        consume()
    for t in writers:
        t.join()
    while log.read_after(offsets.get("c", "x"), 7):
        consume()
    assert not errors, errors
    appended = {e.subject for e in log.read_after(0, 100_000)}
    assert len(appended) == log.head() > WRITERS * BATCHES  # every append landed, no gaps
    assert [e.cursor for e in seen] == list(range(1, log.head() + 1))  # none skipped, none twice
    assert {e.subject for e in seen} == appended


@pytest.mark.integration
def test_relay_copies_each_local_event_once_and_keeps_its_origin(
    postgres_cluster: Cluster,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    local = SqliteBackend(tmp_path)
    local.append([("paper.new", "2607.1", {"version": 1}), ("paper.new", "2607.2", {})])
    shared = events_postgres.PostgresEventLog(postgres_cluster.new_database(), "shared")
    shared.append([("other", "s", {})])  # something already in the shared log
    first = local.log().read_after(0)
    assert shared.relay("hostA:/home/a/mirror", first) == 2
    assert shared.relay("hostA:/home/a/mirror", first) == 0  # a rerun copies nothing
    local.append([("paper.updated", "2607.1", {"version": 2})])
    assert shared.relay("hostA:/home/a/mirror", local.log().read_after(0)) == 1  # only the new
    assert shared.relay("hostB:/home/b/mirror", first[:1]) == 1  # another origin: its own
    assert shared.relayed("hostA:/home/a/mirror") == 3 and shared.relayed("nobody") == 0
    got = shared.read_after(1)
    assert [(e.cursor, e.subject, e.origin) for e in got] == [
        (2, "2607.1", "hostA:/home/a/mirror"),
        (3, "2607.2", "hostA:/home/a/mirror"),
        (4, "2607.1", "hostA:/home/a/mirror"),
        (5, "2607.1", "hostB:/home/b/mirror"),
    ]
    assert got[0].at == first[0].at and got[2].payload == {"version": 2}
    assert got[0].key == "shared#2"


@pytest.mark.integration
def test_a_lost_server_is_one_line_not_a_traceback(
    postgres_cluster: Cluster,  # noqa: F811  (the fixture imported above)
) -> None:
    url = postgres_cluster.new_database()
    log = events_postgres.PostgresEventLog(url, "shared")
    pid = log._conn.info.backend_pid
    with connect(url) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(ServiceUnavailable, match="^shared event log at postgresql://"):
        log.read_after(0)
