"""`sovereign research|show|resume` as a user runs them: embedded mirror over the fixture,
local MiniLM embeddings, Chroma on disk, SQLite checkpoints; bad input; kill -9 and resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import kill_at_node, read_events, run_cli

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "graph" / "mirror_small.jsonl"
QUANT_Q = (
    "How much does 4-bit quantization of experts cut memory in Mixture-of-Experts inference, "
    "and what happens to MMLU accuracy?"
)
FLEX_Q = (
    "What accuracy does FlexMoE reach on MMMU compared with dense VLMs of similar activated size?"
)

pytestmark = pytest.mark.integration


def sovereign(
    home: Path, *args: str, env_extra: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOVEREIGN_HOME": str(home), "SOVEREIGN_VERIFIER": "tfidf"}
    env.pop("SOVEREIGN_NODE_DELAY", None)
    env.update(env_extra or {})
    return run_cli(*args, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli") / "home"
    done = sovereign(home, "mirror", "ingest", str(FIXTURE))
    assert done.returncode == 0, done.stderr
    return home


def test_research_writes_report_with_live_progress(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    log = tmp_path / "ev.jsonl"
    done = sovereign(
        home, "--log-file", str(log), "research", QUANT_Q, "--out", str(out), "--run-id", "cli-ok"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for stage in ("paper", "search arXiv", "read sources", "tribunal", "report"):
        assert f"] {stage} " in done.stdout, stage
    assert not [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.stdout.splitlines()[-1] == f"report: {out / 'report.md'}"
    report = (out / "report.md").read_text(encoding="utf-8")
    data = json.loads((out / "run.json").read_text(encoding="utf-8"))
    header = report.splitlines()[3]
    if data["summary"]["policy"] == "AUTO_APPROVE":
        assert header == "Autonomous draft — approved by the publication policy (AUTO_APPROVE)"
    else:
        assert header == "Autonomous draft — Owner review required before publication"
    assert "sentence-transformers/all-MiniLM-L6-v2 (dim=384)" in report  # what actually ran
    assert data["state"]["run_id"] == "cli-ok"
    assert f"Policy: {data['summary']['policy']}." in report
    # the transcript: always beside the report, and in --log-file when asked
    beside = read_events(out / "events.jsonl")
    assert beside and {e["run_id"] for e in beside} == {"cli-ok"}
    assert beside[0]["node"] == "resolve_paper" and beside[0]["event"] == "node_start"
    assert len(read_events(log)) == len(beside)
    shown = sovereign(home, "show", "cli-ok")
    assert shown.returncode == 0 and shown.stdout.splitlines()[-1].startswith("report: ")


def test_bad_input_stores_nothing_unanswerable_runs_are_marked(home: Path, tmp_path: Path) -> None:
    done = sovereign(home, "research", "", "--out", str(tmp_path / "empty"))
    assert done.returncode == 2 and done.stderr == "sovereign: the question is empty\n"
    assert not (tmp_path / "empty").exists()
    done = sovereign(
        home,
        "research",
        "What does arXiv 2601.99999 report on MMMU?",
        "--out",
        str(tmp_path / "unknown"),
    )
    assert done.returncode == 1 and "2601.99999 was not found" in done.stderr
    report = (tmp_path / "unknown" / "report.md").read_text(encoding="utf-8")
    assert report.splitlines()[3].startswith("Not answered — ")
    fresh = tmp_path / "fresh-home"
    done = sovereign(
        fresh,
        "research",
        QUANT_Q,
        "--out",
        str(tmp_path / "nomirror"),
        env_extra={"SOVEREIGN_ARXIV_MODE": "mirror"},
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "sovereign mirror ingest" in done.stderr
    assert "sovereign mirror ingest" in (tmp_path / "nomirror" / "report.md").read_text(
        encoding="utf-8"
    )
    queue = sovereign(home, "review", "list").stdout + sovereign(fresh, "review", "list").stdout
    assert "2601.99999" not in queue and QUANT_Q not in queue


def test_killed_run_resumes_without_redoing_finished_nodes(home: Path, tmp_path: Path) -> None:
    log1, log2 = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    env = {
        **os.environ,
        "SOVEREIGN_HOME": str(home),
        "SOVEREIGN_VERIFIER": "tfidf",
        "SOVEREIGN_NODE_DELAY": "select_claims=120",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "graph.cli",
            "--log-file",
            str(log1),
            "research",
            FLEX_Q,
            "--run-id",
            "killed",
            "--no-owner-review",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        kill_at_node(proc, log1, "select_claims")
    finally:
        if proc.poll() is None:
            proc.kill()
    first = {e["node"] for e in read_events(log1) if e["event"] == "node_end"}
    assert {"resolve_paper", "search_arxiv", "index_memory", "read_source"} <= first
    assert "write_report" not in first
    shown = sovereign(home, "show", "killed")
    assert "unfinished" in shown.stdout and "select_claims" in shown.stdout
    done = sovereign(home, "--log-file", str(log2), "resume", "killed")
    assert done.returncode == 0, done.stdout + done.stderr
    started = [e["node"] for e in read_events(log2) if e["event"] == "node_start"]
    assert started[0] == "select_claims"
    assert not set(started) & {
        "resolve_paper",
        "extract_facets",
        "plan_queries",
        "search_arxiv",
        "index_memory",
        "read_source",
    }
    assert "write_report" in started
    assert (tmp_path / "out" / "report.md").exists()
    finished = sovereign(home, "show", "killed").stdout  # escalated; --no-owner-review: no pause
    assert "status: awaiting owner review" in finished and "sovereign resume" not in finished


def test_escalated_run_pauses_for_owner_and_review_resumes_it(home: Path, tmp_path: Path) -> None:
    done = sovereign(home, "research", FLEX_Q, "--run-id", "paused", "--out", str(tmp_path / "o"))
    assert done.returncode == 0, done.stderr
    assert "awaiting owner review" in done.stdout and "ESCALATE_TO_OWNER" in done.stdout
    reviewed = sovereign(
        home, "review", "paused", "--approve", "--note", "numbers checked", "--who", "tester"
    )
    assert reviewed.returncode == 0, reviewed.stderr
    shown = sovereign(home, "show", "paused").stdout
    assert "owner: approve by tester: numbers checked" in shown and "status: published" in shown
    report = (tmp_path / "o" / "report.md").read_text(encoding="utf-8")
    assert "Owner decision: approve by tester" in report
    assert report.splitlines()[3].startswith("Approved for publication by tester on ")
