"""`sovereign review`, `correct` and `site build` through the real console entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.cli import main
from graph.settings import load_settings
from memory.publication import record_run, store_for
from tests.pub_samples import sample_record


def test_review_approve_publishes(
    sovereign_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    escalated = sample_record(tmp_path, "esc-1", policy="ESCALATE_TO_OWNER")
    rec = record_run(escalated, settings.publications_path)
    assert main(["review", "list"]) == 0
    assert rec.report_id in capsys.readouterr().out
    assert main(["review", "esc-1", "--approve", "--note", "sources checked", "--who", "lead"]) == 0
    out = capsys.readouterr().out
    assert "now published" in out
    assert store_for(settings.publications_path).status(rec.report_id) == "published"
    assert main(["review", "list"]) == 0
    assert "no reports awaiting owner review" in capsys.readouterr().out


def test_review_reject_and_bad_input(
    sovereign_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    escalated = sample_record(tmp_path, "esc-2", policy="ESCALATE_TO_OWNER")
    rec = record_run(escalated, settings.publications_path)
    assert main(["review", rec.report_id, "--approve", "--reject", "--note", "x"]) == 2
    assert "exactly one of" in capsys.readouterr().err
    assert main(["review", rec.report_id, "--reject"]) == 2
    assert "--note is required" in capsys.readouterr().err
    assert main(["review", "no-such-run", "--reject", "--note", "x"]) == 2
    assert "no report or run" in capsys.readouterr().err
    assert main(["review", rec.report_id, "--reject", "--note", "thin evidence"]) == 0
    assert " rejected by " in capsys.readouterr().out
    assert store_for(settings.publications_path).status(rec.report_id) == "draft"
    assert main(["review", rec.report_id, "--approve", "--note", "late"]) == 2
    assert "not awaiting owner review" in capsys.readouterr().err


def test_correct_and_site_build(
    sovereign_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    rec = record_run(sample_record(tmp_path, "auto-1"), settings.publications_path)
    code = main(["correct", rec.report_id, "--note", "C2 value is 10.0", "--what", "claim C2"])
    assert code == 0
    assert "CORRECTED, 1 correction(s)" in capsys.readouterr().out
    out = tmp_path / "site"
    assert main(["site", "build", str(out)]) == 0
    assert "(1 report) in" in capsys.readouterr().out
    page = (out / "reports" / f"{rec.report_id[5:]}.html").read_text()
    assert "C2 value is 10.0" in page and "CORRECTED" in page
