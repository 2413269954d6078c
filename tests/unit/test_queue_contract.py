"""The queue's contract, run on both backends (SQLite file; PostgreSQL on a throwaway local
server): order, exclusive claims, retry with backoff, failing for good with the reason, a
failed request never blocking the others, and recovery of a request whose worker died."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from memory.queue import QueuedRequest, RequestQueue, open_queue
from tests.conftest import REPO
from tests.postgres import Cluster, postgres_cluster  # noqa: F401  (fixture)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """The database URL (None: SQLite under tmp_path)."""
    if request.param == "postgres":
        cluster: Cluster = request.getfixturevalue("postgres_cluster")
        yield cluster.new_database()
    else:
        yield None


@pytest.fixture
def queue(backend: str | None, tmp_path: Path) -> Iterator[RequestQueue]:
    with open_queue(backend, tmp_path / "queue.sqlite") as q:
        yield q


def _submit(q: RequestQueue, n: int, attempts: int = 3) -> list[int]:
    return [q.submit(f"question {i}", run_id=f"r{i}", max_attempts=attempts).id for i in range(n)]


def test_submitted_requests_come_out_oldest_first_and_end_done(queue: RequestQueue) -> None:
    ids = _submit(queue, 3)
    assert [r.state for r in queue.requests()] == ["queued"] * 3
    first = queue.claim("w1")
    assert first is not None and first.id == ids[0]
    assert (first.state, first.attempts, first.worker) == ("running", 1, "w1")
    assert queue.pending() == 3
    done = queue.complete(first.id)
    assert done.state == "done" and done.finished_at is not None
    assert queue.pending() == 2
    assert [r.state for r in queue.requests()] == ["done", "queued", "queued"]


def test_concurrent_claims_never_share_a_request(backend: str | None, tmp_path: Path) -> None:
    """Eight threads, each with its own queue object (its own connections), drain 40
    requests: every request is claimed exactly once."""
    with open_queue(backend, tmp_path / "queue.sqlite") as q:
        _submit(q, 40)
    claimed: list[int] = []
    lock = threading.Lock()

    def drain() -> None:
        with open_queue(backend, tmp_path / "queue.sqlite") as mine:
            while (got := mine.claim()) is not None:
                with lock:
                    claimed.append(got.id)
                mine.complete(got.id)

    threads = [threading.Thread(target=drain) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == list(range(1, 41))
    with open_queue(backend, tmp_path / "queue.sqlite") as q:
        assert {r.state for r in q.requests()} == {"done"} and q.pending() == 0


def test_transient_failure_waits_out_its_backoff_then_fails_with_reason(
    queue: RequestQueue,
) -> None:
    (rid,) = _submit(queue, 1, attempts=2)
    queue.claim()
    retried = queue.fail(rid, "ServiceUnavailable: arXiv did not answer", retry_in_s=3600)
    assert retried.state == "queued" and retried.not_before > time.time() + 3000
    assert retried.error == "ServiceUnavailable: arXiv did not answer"
    assert queue.claim() is None  # still backing off
    retried = queue.fail(rid, "again", retry_in_s=0)  # the test's shortcut past the wait
    assert queue.get(rid).state == "queued"
    second = queue.claim()
    assert second is not None and second.attempts == 2
    ended = queue.fail(rid, "ServiceUnavailable: still down", retry_in_s=0)
    assert ended.state == "failed" and ended.error == "ServiceUnavailable: still down"
    assert queue.pending() == 0


def test_permanent_failure_ends_at_once_and_never_blocks_the_queue(queue: RequestQueue) -> None:
    bad, good = _submit(queue, 2)
    claimed = queue.claim()
    assert claimed is not None and claimed.id == bad
    reason = "UserError: " + "x" * 5000  # stored in full
    assert queue.fail(bad, reason).state == "failed"
    assert queue.get(bad).error == reason
    nxt = queue.claim()
    assert nxt is not None and nxt.id == good


def test_a_request_whose_worker_died_is_requeued_then_failed_when_spent(
    backend: str | None, tmp_path: Path
) -> None:
    """The owner is another process that exits without finishing: on SQLite its pid is gone,
    on PostgreSQL its connection (and advisory lock) is."""
    path = tmp_path / "queue.sqlite"
    with open_queue(backend, path) as q:
        (rid,) = _submit(q, 1, attempts=2)
        for attempt in (1, 2):
            _claim_in_dying_process(backend, path)
            assert q.get(rid).state == "running"
            (found,) = _recover_eventually(q)
            assert found.id == rid and found.attempts == attempt
            assert found.error and "stopped during attempt" in found.error
            assert found.state == ("queued" if attempt == 1 else "failed")
        assert q.pending() == 0


def _recover_eventually(q: RequestQueue, within_s: float = 30.0) -> list[QueuedRequest]:
    """recover() until it finds something: PostgreSQL frees a dead client's advisory locks
    when its server process notices the closed connection, a moment after the client died."""
    deadline = time.monotonic() + within_s
    while not (found := q.recover()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_a_live_owner_is_not_recovered(queue: RequestQueue) -> None:
    (rid,) = _submit(queue, 1)
    assert queue.claim() is not None
    assert queue.recover() == []
    assert queue.get(rid).state == "running"


def _claim_in_dying_process(backend: str | None, path: Path) -> None:
    code = (
        "import os, sys; from pathlib import Path; from memory.queue import open_queue\n"
        "q = open_queue(sys.argv[1] or None, Path(sys.argv[2])); assert q.claim()\n"
        "os._exit(0)  # no complete, no close: as if killed\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, backend or "", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
