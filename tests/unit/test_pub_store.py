"""The publication state machine and the append-only guarantee."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memory.errors import UserError
from memory.publication import apply_decision, correct, record_run, store_for
from memory.run import RunRecord
from tests.pub_samples import sample_record, sample_state


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "pub.sqlite"


def test_auto_approve_publishes(tmp_path: Path, db: Path) -> None:
    rec = record_run(sample_record(tmp_path), db)
    assert rec.status == "published" and rec.published
    history = store_for(db).get(rec.report_id).history
    assert [h.status for h in history] == ["published"]
    assert history[0].decision == "auto"


def test_escalate_then_approve_then_published(tmp_path: Path, db: Path) -> None:
    rec = record_run(sample_record(tmp_path, policy="ESCALATE_TO_OWNER"), db)
    assert rec.status == "escalated" and not rec.published
    store = store_for(db)
    assert store.report_ids("escalated") == [rec.report_id]
    assert apply_decision(store, rec.report_id, "approve", "checked sources", "owner") == (
        "published"
    )
    history = store.get(rec.report_id).history
    assert [h.status for h in history] == ["escalated", "approved", "published"]
    assert history[1].who == "owner" and history[1].note == "checked sources"


def test_rejection_is_not_published(tmp_path: Path, db: Path) -> None:
    rec = record_run(sample_record(tmp_path, policy="ESCALATE_TO_OWNER"), db)
    store = store_for(db)
    assert apply_decision(store, rec.report_id, "reject", "weak evidence", "owner") == "draft"
    assert store.status(rec.report_id) == "draft"
    assert store.report_ids("published") == []
    with pytest.raises(UserError):  # a decided report is no longer awaiting review
        apply_decision(store, rec.report_id, "approve", "changed my mind", "owner")
    # recording the same run again does not sneak it back into review or publication
    assert record_run(sample_record(tmp_path, policy="ESCALATE_TO_OWNER"), db).status == "draft"


def test_decision_carried_in_state_is_applied_once(tmp_path: Path, db: Path) -> None:
    state = sample_state(tmp_path, policy="ESCALATE_TO_OWNER")
    record_run(RunRecord.from_state(state), db)
    state["owner_decision"] = {"decision": "approve", "note": "ok", "who": "lead", "at": "now"}
    rec = record_run(RunRecord.from_state(state), db)
    assert rec.status == "published"
    assert record_run(RunRecord.from_state(state), db).status == "published"
    assert len(store_for(db).get(rec.report_id).history) == 3


def test_published_cannot_be_approved_again(tmp_path: Path, db: Path) -> None:
    rec = record_run(sample_record(tmp_path), db)
    with pytest.raises(UserError, match="not awaiting owner review"):
        apply_decision(store_for(db), rec.report_id, "approve", "x", "o")


def test_same_state_is_idempotent_changed_state_adds_version(tmp_path: Path, db: Path) -> None:
    state = sample_state(tmp_path)
    first = record_run(RunRecord.from_state(state), db)
    assert record_run(RunRecord.from_state(state), db).version == first.version == 1
    state["claims"][0]["text"] = "A corrected wording of C1."
    assert record_run(RunRecord.from_state(state), db).version == 2


def test_corrections_are_additive(tmp_path: Path, db: Path) -> None:
    rec = record_run(sample_record(tmp_path), db)
    store = store_for(db)
    correct(store, rec.report_id, "ann", "claim C1", "value is 10.0")
    after = correct(store, rec.report_id.lower(), "bob", "claim C3", "DocVQA, not ChartQA")
    assert [c["who"] for c in after.corrections["corrections"]] == ["ann", "bob"]
    assert after.corrections["correction_count"] == 2
    assert after.manifest["counts"]["corrections"] == 2
    assert after.status == "published"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE corrections SET why = 'rewritten'",
        "DELETE FROM corrections",
        "UPDATE status_events SET status = 'published'",
        "DELETE FROM status_events",
        "UPDATE versions SET markdown = 'edited'",
        "DELETE FROM versions",
        "UPDATE reports SET run_id = 'other'",
        "DELETE FROM reports",
    ],
)
def test_update_and_delete_are_refused(tmp_path: Path, db: Path, sql: str) -> None:
    rec = record_run(sample_record(tmp_path), db)
    correct(store_for(db), rec.report_id, "ann", "claim C1", "value is 10.0")
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(sql)
    conn.close()
    assert store_for(db).get(rec.report_id).corrections[0]["why"] == "value is 10.0"


def test_retraction_is_a_record_and_a_status(tmp_path: Path, db: Path) -> None:
    rec = record_run(sample_record(tmp_path), db)
    out = correct(store_for(db), rec.report_id, "ann", "report", "wrong paper", retract=True)
    assert out.status == "retracted"
    assert out.corrections["status"] == "RETRACTED"
    assert out.corrections["corrections"][0]["kind"] == "retraction"
    with pytest.raises(UserError):
        correct(store_for(db), rec.report_id, "ann", "report", "again", retract=True)


def test_empty_correction_and_unknown_report_are_one_line_errors(tmp_path: Path, db: Path) -> None:
    rec = record_run(sample_record(tmp_path), db)
    with pytest.raises(UserError, match="who, what and why"):
        correct(store_for(db), rec.report_id, "ann", "claim C1", "  ")
    with pytest.raises(UserError, match="no report or run"):
        correct(store_for(db), "SRCH:00000000", "ann", "x", "y")


def test_state_without_run_id_or_answer_is_refused(tmp_path: Path, db: Path) -> None:
    state = sample_state(tmp_path)
    del state["run_id"]
    with pytest.raises(ValueError, match="run_id"):
        record_run(RunRecord.from_state(state), db)
    unanswered = {
        "input_error": {"input_error": "the question is empty", "question": "   "},
        "not_found": {"target_status": "not_found", "target_note": "2601.99999 was not found"},
        "halted": {"halted": "arXiv source unavailable: connection refused"},
    }
    for run_id, fields in unanswered.items():
        state = {**sample_state(tmp_path, run_id, policy="ESCALATE_TO_OWNER"), **fields}
        with pytest.raises(UserError, match="did not answer its question"):
            record_run(RunRecord.from_state(state), db)
    assert store_for(db).report_ids() == []  # nothing reached the append-only store


def test_store_refuses_publication_without_policy_or_approval(tmp_path: Path, db: Path) -> None:
    store = store_for(db)
    rec = record_run(sample_record(tmp_path, "held", policy="ESCALATE_TO_OWNER"), db)
    with pytest.raises(UserError, match="cannot become published"):
        store.set_status(rec.report_id, "published", "someone")  # skipping approval
    store.add_version("SRCH:0000ABCD", "bare", "d", {}, {}, {}, None)
    with pytest.raises(UserError, match="only the AUTO_APPROVE policy"):
        store.set_status("SRCH:0000ABCD", "published", "someone")
    apply_decision(store, rec.report_id, "reject", "no", "owner")
    with pytest.raises(UserError, match="cannot become published"):
        store.set_status(rec.report_id, "published", "someone")
