"""The worker loop on a SQLite queue with in-process handlers: transient failures are retried
after memory.net's backoff and then succeed or end failed with their reason; other failures
end at once; a failing request never holds up the others; threads share the queue without
running a request twice; each step is a structlog event."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.settings import Settings
from graph.transcript import configure
from graph.worker import Worker, backoff_policy, transient
from memory.errors import ServiceUnavailable, UserError
from memory.net import RetryPolicy
from memory.queue import QueuedRequest, RequestQueue, open_queue
from tests.conftest import read_events

NO_WAIT = RetryPolicy(backoff_s=0.0)


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[RequestQueue]:
    q = open_queue(None, tmp_path / "queue.sqlite")
    yield q
    q.close()


@pytest.fixture
def events(tmp_path: Path) -> Iterator[Path]:
    """Transcript events to a file for one test, then back to the default (stderr)."""
    log = tmp_path / "events.jsonl"
    configure(log, to_stderr=False)
    yield log
    configure(to_stderr=True)


def test_transient_failures_retry_then_succeed_and_are_logged(
    queue: RequestQueue, events: Path
) -> None:
    flaky = queue.submit("flaky", run_id="flaky", max_attempts=3)
    calls: list[int] = []

    def handler(request: QueuedRequest) -> str:
        calls.append(request.attempts)
        if request.attempts < 3:
            raise ServiceUnavailable("arXiv did not answer")
        return "finished"

    counts = Worker(queue, handler, backoff=NO_WAIT, until_empty=True, poll_s=0.01).run()
    assert calls == [1, 2, 3]
    done = queue.get(flaky.id)
    assert done.state == "done" and done.attempts == 3
    assert done.error == "ServiceUnavailable: arXiv did not answer"  # why it took retries
    assert (counts["retry"], counts["done"], counts["failed"]) == (2, 1, 0)
    names = [e["event"] for e in read_events(events) if e.get("run_id") == "flaky"]
    assert names == ["queue_claimed", "queue_retry"] * 2 + ["queue_claimed", "queue_done"]


def test_spent_attempts_and_permanent_errors_fail_with_reason_without_blocking(
    queue: RequestQueue,
) -> None:
    down = queue.submit("down", run_id="down", max_attempts=2)
    bad = queue.submit("bad", run_id="bad", max_attempts=3)
    good = queue.submit("good", run_id="good", max_attempts=3)
    ran: list[str] = []

    def handler(request: QueuedRequest) -> str:
        ran.append(request.run_id)
        if request.run_id == "down":
            raise ConnectionError("connection refused")
        if request.run_id == "bad":
            raise UserError("the question is empty")
        return "finished"

    counts = Worker(queue, handler, backoff=NO_WAIT, until_empty=True, poll_s=0.01).run()
    assert ran.count("down") == 2 and ran.count("bad") == 1 and ran.count("good") == 1
    assert queue.get(down.id).state == "failed"
    assert queue.get(down.id).error == "ConnectionError: connection refused"
    assert queue.get(bad.id).state == "failed"
    assert queue.get(bad.id).error == "UserError: the question is empty"
    assert queue.get(good.id).state == "done"
    assert (counts["failed"], counts["done"]) == (2, 1)


def test_backoff_delays_the_retry_and_doubles(queue: RequestQueue) -> None:
    """With the settings' backoff, a failed request waits: not claimable again at once."""
    policy = backoff_policy(Settings(queue_backoff_s=100.0))
    assert policy.backoff_s == 100.0 and policy.max_backoff_s >= 800.0
    request = queue.submit("q", run_id="q")

    def handler(_: QueuedRequest) -> str:
        raise TimeoutError("read timed out")

    worker = Worker(queue, handler, backoff=policy, poll_s=0.01)
    worker._step()
    after = queue.get(request.id)
    assert after.state == "queued"
    assert 50.0 <= after.not_before - time.time() <= 100.0  # jittered down by at most half
    assert queue.claim() is None


def test_threads_share_one_queue_and_run_each_request_once(queue: RequestQueue) -> None:
    for i in range(12):
        queue.submit(f"q{i}", run_id=f"r{i}")
    seen: list[str] = []
    lock = threading.Lock()
    running = 0
    most = 0

    def handler(request: QueuedRequest) -> str:
        nonlocal running, most
        with lock:
            seen.append(request.run_id)
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return "finished"

    Worker(queue, handler, concurrency=4, until_empty=True, poll_s=0.01).run()
    assert sorted(seen) == sorted(f"r{i}" for i in range(12))
    assert 1 < most <= 4
    assert {r.state for r in queue.requests()} == {"done"}


def test_what_counts_as_transient() -> None:
    assert transient(ServiceUnavailable("down")) and transient(ConnectionResetError())
    assert transient(TimeoutError()) and transient(OSError("disk"))
    assert not transient(UserError("bad question")) and not transient(ValueError("bug"))


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    import os

    from tests.conftest import get_free_port, run_cli

    url = f"postgresql://sovereign:hunter2secret@127.0.0.1:{get_free_port()}/queue"
    env = {**os.environ, "SOVEREIGN_HOME": str(tmp_path), "SOVEREIGN_DATABASE_URL": url}
    for args in (("submit", "What does MoE quantization cost?"), ("list",), ("worker",)):
        done = run_cli(*args, env=env, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("sovereign: cannot reach PostgreSQL at postgresql://")
        assert len(done.stderr.splitlines()) == 1 and "hunter2secret" not in done.stderr


def test_on_idle_is_told_only_when_no_thread_holds_a_request(queue: RequestQueue) -> None:
    for i in range(6):
        queue.submit(f"question {i}", run_id=f"r{i}")
    lock = threading.Lock()
    running = 0
    idle_while_running: list[int] = []
    idle_calls = 0

    def handler(request: QueuedRequest) -> str:
        nonlocal running
        with lock:
            running += 1
        time.sleep(0.03)
        with lock:
            running -= 1
        return "finished"

    def on_idle() -> None:
        nonlocal idle_calls
        idle_calls += 1
        with lock:
            if running:
                idle_while_running.append(running)

    Worker(queue, handler, concurrency=3, until_empty=True, poll_s=0.01, on_idle=on_idle).run()
    assert idle_calls >= 1  # the drained queue was noticed
    assert idle_while_running == []


def test_release_memory_lets_other_processes_have_the_home(tmp_path: Path) -> None:
    """A worker's idle hook: the embedded memory closes (its home lock with it) and the next
    use reopens it."""
    from graph.services import services_for
    from memory.homelock import held_here

    settings = Settings(home=tmp_path / "home")
    services = services_for(settings)
    try:
        services.memory()
        assert held_here(settings.chroma_path)
        services.release_memory()
        assert not held_here(settings.chroma_path)
        services.memory()
        assert held_here(settings.chroma_path)
    finally:
        services.close()
    assert not held_here(settings.chroma_path)
