"""Owner decisions survive a SIGKILL at every step (issue 18, item 2): `sovereign review RUN
--approve|--reject` is killed at a named step (SOVEREIGN_TEST_CRASH_AT), then a contradicting
decision is refused with one line and the same decision asked again finishes the job; in the
end the publication store, the graph's checkpoint, run.json, report.md and the site agree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.runner import load_run, run_research
from graph.settings import load_settings
from graph.site.builder import build_site
from memory.publication import report_id_for, store_for
from memory.publication.decisions import all_recorded
from memory.publication.pending import paused_runs
from tests.conftest import run_cli
from tests.unit.graph_fakes import fake_services

pytestmark = pytest.mark.integration

QUESTION = "Does expert choice routing improve multimodal transformer accuracy on VQAv2?"
OTHER = {"approve": "--reject", "reject": "--approve"}
ENDS = {
    "approve": ("published", ["escalated", "approved", "published"]),
    "reject": ("draft", ["escalated", "draft"]),
}
STEPS = ["decision-recorded", "report-rewritten", "store-approved", "store-applied"]
CASES = [(d, s) for d in ("approve", "reject") for s in [*STEPS, "graph-resumed"]]
CASES = [(d, s) for d, s in CASES if not (d == "reject" and s == "store-approved")]


@pytest.fixture(autouse=True)
def _transcript_to_file(tmp_path: Path) -> Iterator[None]:
    from graph import transcript

    transcript.configure(log_file=tmp_path / "events.jsonl", to_stderr=False)
    yield
    transcript.configure(to_stderr=True)


def _escalated_run(settings: Any, run_id: str) -> str:
    values = run_research(
        QUESTION, settings, run_id=run_id, services=fake_services(settings), owner_review=True
    )
    assert values["_interrupts"], "escalated run did not pause for the owner"
    return run_id


def _review(home: Path, *args: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOVEREIGN_HOME": str(home)}
    env.pop("SOVEREIGN_TEST_CRASH_AT", None)
    if crash:
        env["SOVEREIGN_TEST_CRASH_AT"] = crash
    return run_cli("review", *args, env=env, timeout=300)


def _assert_agree(settings: Any, run_id: str, decision: str, site: Path) -> None:
    """Store, checkpoint, run.json, report.md and the site all say `decision`, once."""
    status, history = ENDS[decision]
    report_id = report_id_for(run_id)
    store = store_for(settings.publications_path)
    rep = store.get(report_id)
    assert [h.status for h in rep.history] == history
    assert rep.history[1].who == "lead" and rep.history[1].note == "checked twice"
    values = load_run(run_id, settings)
    assert not values["_interrupts"] and not values["_next"], "graph still paused"
    assert values["owner_decision"]["decision"] == decision
    assert paused_runs(settings.checkpoint_path) == []
    run_dir = settings.runs_dir / run_id
    on_disk = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert on_disk["state"]["owner_decision"]["decision"] == decision
    assert on_disk["state"]["owner_decision"]["at"] == values["owner_decision"]["at"]
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    assert f"Owner decision: {decision} by lead: checked twice" in report
    assert rep.markdown == report, "the store's latest version differs from report.md"
    owner = rep.record().owner_decision
    assert owner is not None and owner.decision == decision
    assert [d.decision for d in all_recorded(settings.publications_path)] == [decision]
    assert build_site(store, site).reports == (1 if status == "published" else 0)


@pytest.mark.parametrize(("decision", "step"), CASES)
def test_killed_decision_converges_and_refuses_the_contrary(
    decision: str, step: str, sovereign_home: Path, tmp_path: Path
) -> None:
    settings = load_settings()
    run_id = _escalated_run(settings, f"crash-{decision}-{step}")
    ask = (f"--{decision}", "--note", "checked twice", "--who", "lead")

    killed = _review(sovereign_home, run_id, *ask, crash=step)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    contrary = _review(sovereign_home, run_id, OTHER[decision], "--note", "changed my mind")
    assert contrary.returncode == 2, contrary.stdout + contrary.stderr
    refusal = contrary.stderr.strip().splitlines()[-1]
    assert refusal.startswith("sovereign: ") and "refused" in refusal
    assert f"already decided to {decision}" in refusal

    again = _review(sovereign_home, run_id, *ask)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"now {ENDS[decision][0]}" in again.stdout
    _assert_agree(settings, run_id, decision, tmp_path / "site")


def test_review_list_finishes_a_decision_killed_midway(
    sovereign_home: Path, tmp_path: Path
) -> None:
    """The exact failure of the issue: killed after the store published, before the graph's
    checkpoint. The next command of the home finishes the recorded decision by itself."""
    settings = load_settings()
    run_id = _escalated_run(settings, "crash-list")
    ask = ("--approve", "--note", "checked twice", "--who", "lead")
    killed = _review(sovereign_home, run_id, *ask, crash="store-applied")
    assert killed.returncode == -signal.SIGKILL
    store = store_for(settings.publications_path)
    assert store.status(report_id_for(run_id)) == "published"
    assert [p.run_id for p in paused_runs(settings.checkpoint_path)] == [run_id]

    listed = _review(sovereign_home, "list")
    assert listed.returncode == 0, listed.stderr
    assert f"finishing the owner's recorded decision on run {run_id}" in listed.stderr
    assert run_id not in listed.stdout  # nothing left to decide
    _assert_agree(settings, run_id, "approve", tmp_path / "site")


def test_the_same_decision_twice_changes_nothing(sovereign_home: Path, tmp_path: Path) -> None:
    settings = load_settings()
    run_id = _escalated_run(settings, "twice")
    ask = ("--reject", "--note", "checked twice", "--who", "lead")
    assert _review(sovereign_home, run_id, *ask).returncode == 0
    version = store_for(settings.publications_path).get(report_id_for(run_id)).version
    again = _review(sovereign_home, run_id, "--reject", "--note", "another note")
    assert again.returncode == 0, again.stderr
    assert "now draft" in again.stdout and "recorded earlier stands" in again.stderr
    assert store_for(settings.publications_path).get(report_id_for(run_id)).version == version
    _assert_agree(settings, run_id, "reject", tmp_path / "site")
