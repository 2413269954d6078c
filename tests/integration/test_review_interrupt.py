"""The owner-review interrupt end to end: a real research graph run (in-process stand-in
services over the hand-written mirror fixture) escalates and pauses; `sovereign review`
resumes it from its SQLite checkpoint; approval publishes, rejection does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.cli import main
from graph.runner import load_run, run_research
from graph.settings import load_settings
from graph.site.builder import build_site
from memory.publication import report_id_for, store_for
from memory.publication.pending import paused_runs
from tests.unit.graph_fakes import fake_services

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _transcript_to_file(tmp_path: Path) -> Iterator[None]:
    """The graph's transcript keeps the stream it was configured with; give each test its own
    file so a stream captured by an earlier test is never written to after it closed, then
    hand stderr back for whoever runs next."""
    from graph import transcript

    transcript.configure(log_file=tmp_path / "events.jsonl", to_stderr=False)
    yield
    transcript.configure(to_stderr=True)


QUESTION = "Does expert choice routing improve multimodal transformer accuracy on VQAv2?"


def _escalated_run(settings: Any, run_id: str) -> str:
    values = run_research(
        QUESTION, settings, run_id=run_id, services=fake_services(settings), owner_review=True
    )
    assert values["policy"] == "ESCALATE_TO_OWNER", values.get("policy_reasons")
    assert values["_interrupts"], "escalated run did not pause for the owner"
    return run_id


def test_escalate_then_approve_then_published(
    sovereign_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    run_id = _escalated_run(settings, "run-approve")
    report_id = report_id_for(run_id)
    store = store_for(settings.publications_path)
    assert store.status(report_id) == "escalated"
    assert [p.run_id for p in paused_runs(settings.checkpoint_path)] == [run_id]
    assert build_site(store, tmp_path / "before").reports == 0

    assert main(["review", "list"]) == 0
    assert report_id in capsys.readouterr().out
    code = main(["review", run_id, "--approve", "--note", "evidence checked", "--who", "lead"])
    assert code == 0
    assert "graph resumed from its owner-review interrupt" in capsys.readouterr().out

    values = load_run(run_id, settings)
    assert values["owner_decision"]["decision"] == "approve"
    assert values["owner_decision"]["who"] == "lead"
    assert not values["_interrupts"] and not values["_next"]
    assert paused_runs(settings.checkpoint_path) == []
    rep = store_for(settings.publications_path).get(report_id)
    assert [h.status for h in rep.history] == ["escalated", "approved", "published"]
    assert rep.history[1].who == "lead" and rep.history[1].note == "evidence checked"
    summary = build_site(store_for(settings.publications_path), tmp_path / "after")
    assert summary.reports == 1
    assert (tmp_path / "after" / "reports" / f"{report_id[5:]}.html").exists()


def test_rejection_is_not_published(
    sovereign_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    run_id = _escalated_run(settings, "run-reject")
    report_id = report_id_for(run_id)
    assert main(["review", report_id, "--reject", "--note", "conflicts unresolved"]) == 0
    assert "now draft" in capsys.readouterr().out
    values = load_run(run_id, settings)
    assert values["owner_decision"]["decision"] == "reject"
    store = store_for(settings.publications_path)
    assert store.status(report_id) == "draft"
    assert "published" not in [h.status for h in store.get(report_id).history]
    assert build_site(store, tmp_path / "site").reports == 0
    # a second decision on the same run is refused with one line
    assert main(["review", run_id, "--approve", "--note", "changed my mind"]) == 2
    assert "not awaiting owner review" in capsys.readouterr().err
