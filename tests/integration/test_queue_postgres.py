"""The acceptance test of the scale-out queue: two worker processes on one PostgreSQL queue
(a real server on loopback), one SIGKILLed in the middle of a request. No request runs twice,
none is lost. The workers run the real `Worker` loop around bench/queue.py's stand-in graph
(a fixed sleep), which logs `start|end ID PID TIME` lines we read back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from memory.queue import open_queue
from tests.conftest import REPO
from tests.postgres import postgres_cluster, postgres_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration
REQUESTS = 8
LATENCY_S = 1.5


def _worker(url: str, tmp: Path, log: Path, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "queue.py"), "worker", "--database-url", url,
         "--sqlite", str(tmp / "unused.sqlite"), "--latency", str(LATENCY_S), "--poll", "0.1",
         "--log", str(log), "--events", str(tmp / f"events-{name}.jsonl")],
        cwd=REPO,
        stderr=(tmp / f"{name}.err").open("wb"),
    )  # fmt: skip


def _lines(log: Path) -> list[tuple[str, int, int, float]]:
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        word, rid, pid, at = line.split()
        out.append((word, int(rid), int(pid), float(at)))
    return out


def _wait_for(predicate, what: str, limit_s: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_two_workers_one_sigkilled_mid_request_lose_nothing_and_run_nothing_twice(
    postgres_url: str,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    with open_queue(postgres_url, tmp_path / "unused.sqlite") as queue:
        for i in range(REQUESTS):
            queue.submit(f"question {i}", run_id=f"run-{i}")
    log = tmp_path / "runs.log"
    a = _worker(postgres_url, tmp_path, log, "a")
    b = _worker(postgres_url, tmp_path, log, "b")
    try:
        # A is in the middle of a request: started, not ended
        def a_mid_request() -> bool:
            lines = _lines(log)
            started = {r for w, r, p, _ in lines if w == "start" and p == a.pid}
            ended = {r for w, r, p, _ in lines if w == "end" and p == a.pid}
            return bool(started - ended)

        _wait_for(a_mid_request, "worker A to start a request")
        killed_at = time.time()
        os.kill(a.pid, signal.SIGKILL)
        assert a.wait(timeout=30) == -signal.SIGKILL
        assert b.wait(timeout=180) == 0, (tmp_path / "b.err").read_text()
    finally:
        for proc in (a, b):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    lines = _lines(log)
    (lost,) = {r for w, r, p, _ in lines if w == "start" and p == a.pid} - {
        r for w, r, p, _ in lines if w == "end" and p == a.pid
    }
    ends = Counter(r for w, r, _, _ in lines if w == "end")
    assert ends == Counter(range(1, REQUESTS + 1))  # every request finished exactly once
    starts = Counter(r for w, r, _, _ in lines if w == "start")
    assert starts == Counter({**{r: 1 for r in range(1, REQUESTS + 1)}, lost: 2})
    # the killed request ran again on B, and only after A was gone
    (again,) = [(p, at) for w, r, p, at in lines if w == "start" and r == lost and p != a.pid]
    assert again[0] == b.pid and again[1] > killed_at
    assert {w for w, r, p, _ in lines if p == b.pid} == {"start", "end"}
    with open_queue(postgres_url, tmp_path / "unused.sqlite") as queue:
        requests = {r.id: r for r in queue.list()}
    assert {r.state for r in requests.values()} == {"done"}
    assert requests[lost].attempts == 2
    assert "stopped during attempt 1" in (requests[lost].error or "")
    assert all(r.attempts == 1 for i, r in requests.items() if i != lost)
    # B's structlog events name the recovery of A's request
    events = [json.loads(x) for x in (tmp_path / "events-b.jsonl").read_text().splitlines()]
    recovered = [e for e in events if e["event"] == "queue_recovered"]
    assert [e["request_id"] for e in recovered] == [lost]
    assert {e["event"] for e in events} >= {"queue_claimed", "queue_done", "queue_recovered"}
