"""Runs as `sovereign list|show|resume|review` see them, in process over the hand-written
fixture: a run started from Python is listed, shown and decided like a CLI run; a run that
could not answer keeps a report marked so and never reaches the review queue or the site; the
owner's decision rewrites the report's header and keeps the run's own account of its services;
every run's transcript lands in events.jsonl beside its report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph import build_graph
from graph.cli import main
from graph.runner import run_research
from graph.settings import Settings, load_settings
from graph.site.builder import build_site
from memory.errors import UserError
from memory.publication import report_id_for, store_for
from tests.unit.graph_fakes import fake_services

FLEX_Q = (
    "What accuracy does FlexMoE reach on MMMU compared with dense VLMs of similar activated size?"
)
MISSING_Q = "What accuracy does arXiv 2601.99999 reach on MMMU?"


@pytest.fixture(autouse=True)
def _stderr_transcripts() -> Iterator[None]:
    """main() routes transcripts away from stderr; give the next test the default back."""
    from graph import transcript

    yield
    transcript.configure(to_stderr=True)


def _settings(home: Path) -> Settings:
    return load_settings().with_overrides(verifier="tfidf", home=home)


def _api_run(settings: Settings, question: str) -> dict[str, Any]:
    """A run as the README's Python line starts it: no checkpointer, no CLI."""
    graph = build_graph(settings, services=fake_services(settings))
    return dict(graph.invoke({"question": question}))


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_python_api_run_is_listed_shown_and_decided(
    sovereign_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(sovereign_home)
    state = _api_run(settings, FLEX_Q)
    run_id = state["run_id"]
    assert state["policy"] == "ESCALATE_TO_OWNER"
    report = Path(state["report_path"])
    assert (report.parent / "events.jsonl").exists()

    code, out, _ = _cli(capsys, "list")
    assert code == 0
    head, row = out.splitlines()[0], next(r for r in out.splitlines() if r.startswith(run_id))
    assert head.split() == ["RUN", "STARTED", "(UTC)", "QUESTION", "STATUS", "POLICY", "SCORE"]
    assert "awaiting review" in row and "ESCALATE_TO_OWNER" in row
    assert f"{state['consensus']:.2f}" in row

    code, out, _ = _cli(capsys, "show", run_id)
    assert code == 0 and out.splitlines()[-1] == f"report: {report}"
    assert f"sovereign review {run_id}" in out

    code, _, err = _cli(capsys, "resume", run_id)
    assert code == 2 and "without a checkpointer" in err

    code, out, _ = _cli(capsys, "review", run_id, "--approve", "--note", "ok", "--who", "lead")
    assert code == 0 and "approved by lead: now published" in out
    assert "Approved for publication by lead on " in report.read_text(encoding="utf-8")
    store = store_for(settings.publications_path)
    stored = store.get(report_id_for(run_id))
    assert stored.status == "published"
    assert "Approved for publication by lead" in (stored.markdown or "")
    assert build_site(store, tmp_path / "site").reports == 1
    code, out, _ = _cli(capsys, "show", run_id)
    assert "status: published" in out and "owner: approve by lead: ok" in out


def test_a_run_that_could_not_answer_stays_out_of_review_and_site(
    sovereign_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(sovereign_home)
    state = _api_run(settings, MISSING_Q)
    assert state["target_status"] == "not_found" and state.get("publication") is None
    report = Path(state["report_path"]).read_text(encoding="utf-8")
    header = report.splitlines()[3]
    assert header.startswith("Not answered — ") and "2601.99999" in header
    assert "Only the paper lookup ran" in report and "dim=unknown" not in report
    assert "No tribunal was held" in report and "Tribunal: 0.00/10" not in report
    blank = _api_run(settings, "   ")
    assert blank["input_error"] and blank.get("publication") is None
    assert "Nothing was searched or analysed" in Path(blank["report_path"]).read_text("utf-8")

    store = store_for(settings.publications_path)
    assert store.report_ids() == []
    # an entry an older version recorded: listed with --all only (nothing to decide)
    legacy = report_id_for(state["run_id"])
    manifest = {"quality": {"verification_level": {"code": "L1"}, "tier": "Provisional"},
                "scores": {"review_score": 0.0}, "question": MISSING_Q}  # fmt: skip
    store.add_version(legacy, state["run_id"], "d", state, manifest, {}, None)
    store.set_status(legacy, "escalated", "sovereign-policy", "paper not found")
    code, out, _ = _cli(capsys, "review", "list")
    assert code == 0 and out.strip() == "no reports awaiting owner review"
    code, out, _ = _cli(capsys, "review", "list", "--all")
    assert legacy in out
    assert build_site(store, tmp_path / "site").reports == 0
    code, out, _ = _cli(capsys, "list")
    assert "not answered" in next(r for r in out.splitlines() if r.startswith(state["run_id"]))


def test_owner_review_keeps_the_runs_own_account_of_its_services(
    sovereign_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The `sovereign review` process never loads the embedder: the rewritten report and
    run.json must still say what the run used (they said "unknown" before)."""
    settings = _settings(sovereign_home)
    values = run_research(FLEX_Q, settings, run_id="paused", services=fake_services(settings))
    assert values["_interrupts"]
    code, out, _ = _cli(capsys, "review", "paused", "--reject", "--note", "conflict", "--who", "x")
    assert code == 0 and "paused rejected by x" not in out and "rejected by x: now draft" in out
    run_json = json.loads(Path(values["json_path"]).read_text(encoding="utf-8"))
    assert run_json["run_info"]["embedding"]["model"] == "tfidf"
    report = Path(values["report_path"]).read_text(encoding="utf-8")
    assert "lexical-tfidf embeddings tfidf" in report
    assert report.splitlines()[3].startswith("Rejected by x on ")
    code, out, _ = _cli(capsys, "show", "paused")
    assert "waiting for the owner's decision" in out and "status: rejected" in out


def test_run_research_refuses_a_question_before_storing_anything(sovereign_home: Path) -> None:
    settings = _settings(sovereign_home)
    with pytest.raises(UserError, match="no words"):
        run_research("¿?", settings, services=fake_services(settings))
    assert list(sovereign_home.iterdir()) == []
