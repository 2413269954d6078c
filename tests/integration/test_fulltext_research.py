"""A research run reads full text: over a mirror holding the shared unarXive papers, a question
whose figure only a body paragraph states (not the abstract) is answered by a claim that quotes
that sentence verbatim and cites its paper and section; the report says what was read in full."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli, shared_file

pytestmark = [pytest.mark.integration, pytest.mark.slow]

UNARXIVE = "fulltext/unarxive/arXiv_src_2212_086_part.jsonl"
# (question, paper, a sentence only its body states, the section it sits in)
CASES = [
    (
        "What detection accuracy does the RoBERTa detector reach on mutation-based generated "
        "text in arXiv 2212.11808?",
        "2212.11808",
        "In total overall the detector accuracy was about 91% and each epoch took 13 hours",
        "Experiments results & analysis",
    ),
    (
        "What share of the news articles in the ESG ratings dataset of arXiv 2212.11765 "
        "originate from the United States?",
        "2212.11765",
        "The majority of news articles (72%) collected originate from the United States.",
        "News Dataset Creation",
    ),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = shared_file(UNARXIVE)
    home = tmp_path_factory.mktemp("fulltext") / "home"
    done = run_cli("mirror", "ingest", str(source), env=_env(home))
    assert done.returncode == 0, done.stderr
    return home


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOVEREIGN_")}
    # one search round is enough to read the target in full (and keeps the test short)
    return {
        **env,
        "SOVEREIGN_HOME": str(home),
        "SOVEREIGN_LOG_LEVEL": "WARNING",
        "SOVEREIGN_MAX_REVISIONS": "0",
    }


def _research(home: Path, question: str) -> subprocess.CompletedProcess[str]:
    return run_cli("research", question, "--no-owner-review", env=_env(home), timeout=600)


@pytest.mark.parametrize(("question", "paper", "sentence", "section"), CASES)
def test_a_body_figure_is_quoted_with_paper_and_section(
    home: Path, question: str, paper: str, sentence: str, section: str
) -> None:
    done = _research(home, question)
    assert done.returncode == 0, done.stdout + done.stderr
    report_path = Path(re.search(r"^report: (.+)$", done.stdout, re.M).group(1))  # type: ignore[union-attr]
    state = json.loads(report_path.with_name("run.json").read_text(encoding="utf-8"))["state"]
    abstract = state["target"]["abstract"]
    assert sentence not in abstract  # the figure is in the body only
    quoted = [c for c in state["claims"] if sentence in c["quote"] and c["source_id"] == paper]
    assert quoted, [c["quote"] for c in state["claims"]]
    assert section in (quoted[0]["location"] or "")
    report = report_path.read_text(encoding="utf-8")
    row = next(line for line in report.splitlines() if sentence in line)
    assert paper in row and section in row  # the report cites paper and location in the row
    reads = {r["source_id"]: r for r in state["fulltext_log"]}
    assert reads[paper]["status"] == "full" and reads[paper]["paragraphs"] > 0
    assert "Sources read in full" in report


def test_fulltext_sources_limits_the_other_sources_read_in_full(home: Path) -> None:
    question, paper, sentence, _ = CASES[0]
    env = {**_env(home), "SOVEREIGN_FULLTEXT_SOURCES": "0"}
    done = run_cli("research", question, "--no-owner-review", env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    report_path = Path(re.search(r"^report: (.+)$", done.stdout, re.M).group(1))  # type: ignore[union-attr]
    state = json.loads(report_path.with_name("run.json").read_text(encoding="utf-8"))["state"]
    # the target is always read in full; only the others are limited by the setting
    reads = {r["source_id"]: r["status"] for r in state["fulltext_log"]}
    assert reads[paper] == "full"
    assert all(status == "abstract" for pid, status in reads.items() if pid != paper)
