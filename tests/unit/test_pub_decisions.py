"""The owner's decision is one final row per run: the first recorded stands, a contradicting
one is refused with one line, the row cannot be edited, and the store is settled from
wherever an interrupted application left it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memory.errors import UserError
from memory.publication import record_run, store_for
from memory.publication.decisions import Decision, all_recorded, record, recorded
from memory.publication.service import settle
from tests.pub_samples import sample_record


def _decision(decision: str, note: str = "checked") -> Decision:
    return Decision(run_id="r1", decision=decision, note=note, who="lead", at="2026-01-01T00:00")


def test_the_first_decision_stands_and_the_contrary_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "pub.sqlite"
    assert recorded(db, "r1") is None
    assert record(db, _decision("approve")) == _decision("approve")
    stands = record(db, _decision("reject", "changed my mind"))
    assert stands == _decision("approve")  # the later one was not recorded
    stands.refuse("approve")  # the same decision again: no error, it only finishes
    with pytest.raises(UserError) as err:
        stands.refuse("reject")
    assert "already decided to approve" in str(err.value) and "\n" not in str(err.value)
    assert all_recorded(db) == [_decision("approve")]


def test_a_recorded_decision_cannot_be_edited_or_deleted(tmp_path: Path) -> None:
    db = tmp_path / "pub.sqlite"
    record(db, _decision("reject"))
    conn = sqlite3.connect(db)
    for sql in ("UPDATE owner_decisions SET decision='approve'", "DELETE FROM owner_decisions"):
        with pytest.raises(sqlite3.DatabaseError, match="final"):
            conn.execute(sql)
    conn.close()
    with pytest.raises(UserError, match="approve' or 'reject"):
        record(db, Decision("r2", "maybe", "", "lead", "2026-01-01T00:00"))


def test_settle_finishes_an_approval_killed_between_approved_and_published(
    tmp_path: Path,
) -> None:
    db = tmp_path / "pub.sqlite"
    rec = record_run(sample_record(tmp_path, policy="ESCALATE_TO_OWNER"), db)
    store = store_for(db)
    store.set_status(rec.report_id, "approved", "lead", "checked", "approve")  # then killed
    assert settle(store, rec.report_id, "approve", "checked", "lead") == "published"
    assert settle(store, rec.report_id, "approve", "checked", "lead") == "published"
    history = [h.status for h in store.get(rec.report_id).history]
    assert history == ["escalated", "approved", "published"]
    assert _decision("approve").settled("published") and not _decision("reject").settled(
        "published"
    )
