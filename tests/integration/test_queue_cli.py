"""`sovereign submit | worker | list` as a user runs them on one machine (SQLite queue and
checkpoints, embedded Chroma, the mirror fixture): real research requests through the queue,
bad input refused before anything is queued, and a worker killed mid-run whose request the
next worker resumes from the run's checkpoints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, kill_at_node, read_events
from tests.integration.test_graph_cli import FIXTURE, FLEX_Q, QUANT_Q, sovereign

pytestmark = pytest.mark.integration
UNKNOWN_Q = "What does arXiv 2601.99999 report on MMMU?"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    done = sovereign(home, "mirror", "ingest", str(FIXTURE))
    assert done.returncode == 0, done.stderr
    return home


def _queue_rows(listing: str) -> list[list[str]]:
    """The queue section of `sovereign list`: rows split on runs of two spaces."""
    lines = listing.split("\nqueue (", 1)[1].splitlines()[2:]
    return [[c.strip() for c in line.split("  ") if c.strip()] for line in lines]


def test_submitted_questions_are_researched_by_a_worker(home: Path, tmp_path: Path) -> None:
    one = sovereign(home, "submit", QUANT_Q)
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("queued request 1: run ")
    questions = tmp_path / "questions.txt"
    questions.write_text(f"# two more\n{FLEX_Q}\n\n{UNKNOWN_Q}\n", encoding="utf-8")
    more = sovereign(home, "submit", "--file", str(questions))
    assert more.returncode == 0, more.stderr
    assert "3 request(s) waiting" in more.stdout
    listed = sovereign(home, "list").stdout
    assert listed.startswith(f"no runs recorded in {home}")
    assert [row[2] for row in _queue_rows(listed)] == ["queued"] * 3
    log = tmp_path / "events.jsonl"
    worked = sovereign(home, "--log-file", str(log), "worker", "--until-empty",
                       "--concurrency", "2", "--poll", "0.2")  # fmt: skip
    assert worked.returncode == 0, worked.stdout + worked.stderr
    assert worked.stdout.splitlines()[-1] == "worker done: 3 done, 0 failed, 0 retried"
    listed = sovereign(home, "list").stdout
    rows = _queue_rows(listed)
    assert [(r[0], r[2], r[3]) for r in rows] == [("1", "done", "1/3")] * 1 + [
        ("2", "done", "1/3"),
        ("3", "done", "1/3"),
    ]
    run_ids = [r[1] for r in rows]
    runs = listed.split("\nqueue (", 1)[0]
    assert all(run_id in runs for run_id in run_ids)  # each request became a run
    # escalated runs wait in the owner's review queue, not as paused graphs
    escalated = [line.split()[0] for line in runs.splitlines() if "awaiting review" in line]
    assert escalated, runs
    review = sovereign(home, "review", "list").stdout
    assert all(f"  {run_id}  escalated" in review for run_id in escalated), review
    shown = sovereign(home, "show", run_ids[2])
    assert "2601.99999 was not found" in shown.stdout  # ran, and says why it has no answer
    report = home / "runs" / run_ids[0] / "report.md"
    assert report.read_text(encoding="utf-8").startswith("#")
    beside = [e["event"] for e in read_events(report.with_name("events.jsonl"))]
    assert beside[0] == "queue_claimed" and beside[-1] == "queue_done"
    assert "node_start" in beside
    done = [e for e in read_events(log) if e["event"] == "queue_done"]
    assert sorted(str(e["run_id"]) for e in done) == sorted(run_ids)


def test_bad_input_queues_nothing(home: Path, tmp_path: Path) -> None:
    done = sovereign(home, "submit", "")
    assert done.returncode == 2 and done.stderr == "sovereign: the question is empty\n"
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{QUANT_Q}\n{'x' * 3000}\n", encoding="utf-8")
    done = sovereign(home, "submit", "--file", str(bad))
    assert done.returncode == 2 and done.stderr.startswith(f"sovereign: --file {bad} question 2: ")
    assert "Traceback" not in done.stderr
    done = sovereign(home, "submit", "--file", str(tmp_path / "missing.txt"))
    assert done.returncode == 2 and "missing.txt" in done.stderr
    done = sovereign(home, "worker", "--concurrency", "0")
    assert done.returncode == 2 and "expected 1 or more" in done.stderr
    done = sovereign(home, "worker", "--poll", "0")
    assert (
        done.returncode == 2
        and done.stderr == "sovereign: --poll 0.0: expected seconds more than 0\n"
    )
    assert not (home / "queue.sqlite").exists()


def test_a_killed_worker_s_request_is_resumed_by_the_next_worker(
    home: Path, tmp_path: Path
) -> None:
    assert sovereign(home, "submit", FLEX_Q).returncode == 0
    first_log = tmp_path / "first.jsonl"
    env = {**os.environ, "SOVEREIGN_HOME": str(home), "SOVEREIGN_VERIFIER": "tfidf",
           "SOVEREIGN_NODE_DELAY": "select_claims=120"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "--log-file", str(first_log), "worker"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        kill_at_node(proc, first_log, "select_claims")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    listed = sovereign(home, "list").stdout
    assert _queue_rows(listed)[0][2] == "running"  # until a worker notices its owner died
    second_log = tmp_path / "second.jsonl"
    done = sovereign(home, "--log-file", str(second_log), "worker", "--until-empty")
    assert done.returncode == 0, done.stdout + done.stderr
    events = read_events(second_log)
    assert [e["event"] for e in events][:2] == ["queue_recovered", "queue_claimed"]
    started = [e["node"] for e in events if e["event"] == "node_start"]
    assert started[0] == "select_claims" and "resolve_paper" not in started
    assert "write_report" in started
    row = _queue_rows(sovereign(home, "list").stdout)[0]
    assert (row[2], row[3]) == ("done", "2/3")
    assert "stopped during attempt 1" in row[5]


def test_an_outage_is_retried_with_a_fresh_run_then_fails_with_its_reason(
    tmp_path: Path,
) -> None:
    """No arXiv source (mirror mode, nothing ingested): the graph ends the run "not answered";
    the queue counts that as transient, runs it afresh after the backoff, and ends it failed
    with the reason (in full in its events; `list` elides it) once its attempts are spent."""
    home = tmp_path / "empty-home"
    env = {"SOVEREIGN_ARXIV_MODE": "mirror", "SOVEREIGN_QUEUE_MAX_ATTEMPTS": "2",
           "SOVEREIGN_QUEUE_BACKOFF_S": "0"}  # fmt: skip
    assert sovereign(home, "submit", QUANT_Q, env_extra=env).returncode == 0
    assert sovereign(home, "submit", "", env_extra=env).returncode == 2
    log = tmp_path / "events.jsonl"
    done = sovereign(home, "--log-file", str(log), "worker", "--until-empty", "--poll", "0.1",
                     env_extra=env)  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # a request failed
    assert done.stdout.splitlines()[-1] == "worker done: 0 done, 1 failed, 1 retried"
    assert "Traceback" not in done.stdout + done.stderr
    events = read_events(log)
    assert [e["event"] for e in events if str(e["event"]).startswith("queue_")] == [
        "queue_claimed", "queue_retry", "queue_claimed", "queue_failed",
    ]  # fmt: skip
    first_nodes = [e for e in events if e["event"] == "node_start" and e["node"] == "resolve_paper"]
    assert len(first_nodes) == 2  # the second attempt ran the graph again, not a stale result
    (row,) = _queue_rows(sovereign(home, "list", env_extra=env).stdout)
    assert (row[2], row[3]) == ("failed", "2/2")
    assert row[5].startswith("ServiceUnavailable: arXiv source unavailable")
    failed = next(e for e in events if e["event"] == "queue_failed")
    assert "sovereign mirror ingest" in str(failed["reason"])  # the way out, kept whole
