"""The scale-out setup on a real PostgreSQL server (loopback, tests/postgres.py). The acceptance
test: two worker processes on one queue, one SIGKILLed in the middle of a request; no request
runs twice, none is lost (the workers run the real `Worker` loop around bench/queue_workers.py's
stand-in graph, a fixed sleep logging `start|end ID PID TIME` lines we read back). Then real
research the same way, with checkpoints in PostgreSQL and vector memory in `chroma run`."""

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
from tests.integration.test_graph_cli import FIXTURE, FLEX_Q, QUANT_Q, sovereign
from tests.integration.test_vector_server import chroma_url  # noqa: F401  (fixture)
from tests.postgres import postgres_cluster, postgres_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration
REQUESTS = 8
LATENCY_S = 1.5


def _worker(url: str, tmp: Path, log: Path, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "queue_workers.py"), "worker", "--database-url", url,
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
        requests = {r.id: r for r in queue.requests()}
    assert {r.state for r in requests.values()} == {"done"}
    assert requests[lost].attempts == 2
    assert "stopped during attempt 1" in (requests[lost].error or "")
    assert all(r.attempts == 1 for i, r in requests.items() if i != lost)
    # B's structlog events name the recovery of A's request
    events = [json.loads(x) for x in (tmp_path / "events-b.jsonl").read_text().splitlines()]
    recovered = [e for e in events if e["event"] == "queue_recovered"]
    assert [e["request_id"] for e in recovered] == [lost]
    assert {e["event"] for e in events} >= {"queue_claimed", "queue_done", "queue_recovered"}


def test_scale_out_research_on_postgres_and_chroma_server(
    postgres_url: str,  # noqa: F811  (the fixture imported above)
    chroma_url: str,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """The README's scale-out setup with real research: two workers, each with its own home
    (as on two machines), sharing the queue and checkpoints in PostgreSQL and the vector
    memory in `chroma run`. Worker A is SIGKILLed mid-run; worker B takes the other request,
    then resumes A's run from A's last checkpoint (B never ran its first steps), reading
    the papers A indexed in the shared Chroma."""
    shared = {"SOVEREIGN_DATABASE_URL": postgres_url, "SOVEREIGN_CHROMA_URL": chroma_url,
              "SOVEREIGN_MIRROR_DB": str(tmp_path / "mirror.db")}  # fmt: skip
    home_a, home_b = tmp_path / "a", tmp_path / "b"
    assert sovereign(home_a, "mirror", "ingest", str(FIXTURE), env_extra=shared).returncode == 0
    for question in (FLEX_Q, QUANT_Q):
        assert sovereign(home_a, "submit", question, env_extra=shared).returncode == 0
    log_a, log_b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    env_a = {**os.environ, **shared, "SOVEREIGN_HOME": str(home_a), "SOVEREIGN_VERIFIER": "tfidf",
             "SOVEREIGN_NODE_DELAY": "select_claims=120"}  # fmt: skip
    a = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "--log-file", str(log_a), "worker"],
        cwd=REPO, env=env_a, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for(lambda: _node_started(log_a, "resolve_paper"), "worker A's first request")
        b = subprocess.Popen(
            [sys.executable, "-m", "graph.cli", "--log-file", str(log_b), "worker",
             "--until-empty", "--poll", "0.2"],
            cwd=REPO,
            env={**env_a, "SOVEREIGN_HOME": str(home_b), "SOVEREIGN_NODE_DELAY": ""},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        _wait_for(lambda: _node_started(log_a, "select_claims"), "worker A's select_claims", 240)
        os.kill(a.pid, signal.SIGKILL)
        a.wait(timeout=30)
        out, err = b.communicate(timeout=400)
        assert b.returncode == 0, out + err
    finally:
        for proc in (a, locals().get("b")):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    killed_run = next(e["run_id"] for e in _read(log_a) if e["event"] == "queue_claimed")
    b_events = _read(log_b)
    assert [e["run_id"] for e in b_events if e["event"] == "queue_recovered"] == [killed_run]
    resumed = [e["node"] for e in b_events
               if e["run_id"] == killed_run and e["event"] == "node_start"]  # fmt: skip
    assert resumed[0] == "select_claims" and "resolve_paper" not in resumed
    assert "write_report" in resumed
    assert out.splitlines()[-1] == "worker done: 2 done, 0 failed, 0 retried"
    listed = sovereign(home_a, "list", env_extra=shared)  # home A sees B's runs: one database
    assert listed.returncode == 0, listed.stderr
    runs, queue = listed.stdout.split("\nqueue (", 1)
    assert killed_run in runs and len(runs.strip().splitlines()) == 3
    states = [line.split()[2:4] for line in queue.splitlines()[2:]]
    assert sorted(states) == [["done", "1/3"], ["done", "2/3"]]
    assert (home_b / "runs" / killed_run / "report.md").exists()


def _read(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _node_started(log: Path, node: str) -> bool:
    return any(e["event"] == "node_start" and e["node"] == node for e in _read(log))
