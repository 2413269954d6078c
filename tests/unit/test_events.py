"""The event log (`memory.events`), the events the mirror and the publication store append in
their own transactions, owner notifications, and re-verification against a later paper."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agents.reverify import reverify_claim, revised_record
from agents.verification import get_verifier
from memory import events
from memory.events import SqliteEventLog, SqliteOffsets
from memory.mirror import db
from memory.mirror.records import MirrorRecord
from memory.models import DocVerdict, EvidenceDoc, Paper
from memory.publication import apply_decision, correct, record_run, store_for
from memory.publication.notices import WATCH, notices
from tests.pub_samples import sample_record


def _rec(arxiv_id: str, version: int = 1, title: str = "A paper") -> MirrorRecord:
    return MirrorRecord(
        arxiv_id=arxiv_id, version=version, title=title, abstract="Text.", authors=["A. B"],
        categories=["cs.CL"], published="2026-07-01T00:00:00Z", updated="2026-07-01T00:00:00Z",
    )  # fmt: skip


def test_append_read_after_and_head(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    log = SqliteEventLog(path, "x")
    assert log.head() == 0 and log.read_after(0) == []  # no file yet: an empty log
    conn = sqlite3.connect(path)
    events.ensure(conn)
    with conn:
        events.append(conn, [("a", "s1", {"n": 1}), ("b", "s2", {})], at="2026-01-01T00:00:00Z")
    with conn:
        events.append(conn, [("c", "s3", {})])
    conn.close()
    got = log.read_after(0)
    assert [(e.cursor, e.kind, e.subject) for e in got] == [(1, "a", "s1"), (2, "b", "s2"),
                                                           (3, "c", "s3")]  # fmt: skip
    assert got[0].payload == {"n": 1} and got[0].key == "x#1"
    assert [e.cursor for e in log.read_after(1, limit=1)] == [2]
    assert log.head() == 3


def test_offsets_only_move_forward(tmp_path: Path) -> None:
    offsets = SqliteOffsets(tmp_path / "pub.sqlite")
    assert offsets.get("watch", "mirror") == 0
    offsets.commit("watch", "mirror", 5)
    offsets.commit("watch", "mirror", 3)  # a late duplicate commit
    assert offsets.get("watch", "mirror") == 5
    assert offsets.get("watch", "publication") == 0 and offsets.get("other", "mirror") == 0


def test_mirror_upsert_appends_one_event_per_change_in_its_transaction(tmp_path: Path) -> None:
    path = tmp_path / "mirror.db"
    conn = db.connect(path, create=True)
    db.upsert(conn, [db.prepare(_rec("2607.00001")), db.prepare(_rec("2607.00002"))])
    conn.commit()
    db.upsert(conn, [db.prepare(_rec("2607.00001", 2)), db.prepare(_rec("2607.00002"))])
    conn.commit()
    db.upsert(conn, [db.prepare(_rec("2607.00003"))])
    conn.rollback()  # the paper and its event go together
    conn.close()
    got = [(e.kind, e.subject, e.payload) for e in SqliteEventLog(path, "mirror").read_after(0)]
    assert got == [
        ("paper.new", "2607.00001", {"version": 1}),
        ("paper.new", "2607.00002", {"version": 1}),
        ("paper.updated", "2607.00001", {"version": 2}),
    ]


def test_publication_writes_append_events(tmp_path: Path) -> None:
    db_path = tmp_path / "pub.sqlite"
    rec = record_run(sample_record(tmp_path, policy="ESCALATE_TO_OWNER"), db_path)
    store = store_for(db_path)
    apply_decision(store, rec.report_id, "approve", "checked", "owner")
    correct(store, rec.report_id, "owner", "claim C1", "value is 10.0")
    got = [(e.kind, e.payload.get("decision")) for e in SqliteEventLog(db_path, "p").read_after(0)]
    assert got == [
        ("run.finished", None),
        ("report.status", None),  # escalated by the policy
        ("owner.decision", "approve"),  # approved
        ("owner.decision", "approve"),  # published
        ("report.correction", None),
    ]


def test_watch_corrections_are_notices_until_the_owner_acts(tmp_path: Path) -> None:
    db_path = tmp_path / "pub.sqlite"
    rec = record_run(sample_record(tmp_path), db_path)
    store = store_for(db_path)
    store.add_correction(rec.report_id, WATCH, "claim C1 (mirror#1)", "contradicted", "correction")
    assert [n.what for n in notices(store)] == ["claim C1 (mirror#1)"]
    correct(store, rec.report_id, "owner", "claim C1", "the later paper measured another setup")
    assert notices(store) == [] and len(notices(store, pending_only=False)) == 1


class _Says:
    """A verifier that gives one label (for the aggregation paths, not the model)."""

    name = "fixed"

    def __init__(self, label: str) -> None:
        self.label = label

    def verify(self, claim: str, docs: list[EvidenceDoc]) -> list[DocVerdict]:
        return [DocVerdict(doc_id=d.doc_id, label=self.label, confidence=0.7, rationale=[0])
                for d in docs]  # fmt: skip


def _later(arxiv_id: str, abstract: str, version: int = 1) -> Paper:
    return Paper(arxiv_id=arxiv_id, version=version, title="SMoES revisited", abstract=abstract)


def test_a_new_version_of_the_supporting_source_can_contradict(tmp_path: Path) -> None:
    record = sample_record(tmp_path)  # C1 verified by 2605.00002's SUPPORT
    claim = record.claims[0]
    update = _later("2605.00002", "We re-run SMoES and find that SMoES increases TTFT by 4% "
                    "on MMMU.", version=3)  # fmt: skip
    change = reverify_claim(record, claim, update, get_verifier("default"))
    assert change is not None and (change.before, change.after.status) == (
        "verified", "contradicted",
    )  # fmt: skip
    assert [v.doc_id for v in change.after.evidence] == ["2605.00002"]  # the old verdict replaced
    revised = revised_record(record, [change])
    assert revised.verification_of("C1").status == "contradicted"  # type: ignore[union-attr]
    assert [p.version for p in revised.papers if p.arxiv_id == "2605.00002"] == [3]


def test_abstaining_or_own_source_papers_change_nothing(tmp_path: Path) -> None:
    record = sample_record(tmp_path, verified=0)
    claim = record.claims[0]
    assert reverify_claim(record, claim, _later("2607.9", "x"), _Says("NOT_ENOUGH_INFO")) is None
    own = _later(claim.source_id, "SMoES is slower.", version=5)
    assert reverify_claim(record, claim, own, _Says("CONTRADICT")) is None
    change = reverify_claim(record, claim, _later("2607.9", "SMoES is slow."), _Says("SUPPORT"))
    assert change is not None and change.after.status == "verified"


@pytest.mark.parametrize("status", ["verified", "unverified"])
def test_support_still_wins_over_a_later_contradiction(tmp_path: Path, status: str) -> None:
    """The run's own rule: a claim some other source supports stays verified, but the new
    contradiction is reported (contested), once: the revised record already holds it."""
    record = sample_record(tmp_path, verified=3 if status == "verified" else 0)
    later = _later("2607.9", "SMoES is slow.")
    change = reverify_claim(record, record.claims[0], later, _Says("CONTRADICT"))
    assert change is not None
    if status == "unverified":
        assert change.after.status == "contradicted" and not change.contested
        return
    assert change.contested and change.after.status == "verified"
    assert change.supported_by == ["2605.00002"]
    assert (change.quotes, change.places) == (("SMoES is slow.",), ("Abstract",))
    revised = revised_record(record, [change])
    assert reverify_claim(revised, revised.claims[0], later, _Says("CONTRADICT")) is None


def test_a_contradiction_about_another_subject_does_not_contest(tmp_path: Path) -> None:
    """As in the aggregation, only a source naming the claim's subject (SMoES) can decide."""
    record = sample_record(tmp_path)
    other = Paper(arxiv_id="2607.9", version=1, title="Hard routing", abstract="It is slow.")
    assert reverify_claim(record, record.claims[0], other, _Says("CONTRADICT")) is None


def test_a_stored_full_text_is_an_event_and_the_watch_reads_its_paragraphs(
    tmp_path: Path,
) -> None:
    from memory.fulltext import FullText
    from memory.fulltext.model import Paragraph
    from memory.mirror import fulltext_db
    from memory.mirror.fulltext_db import StoredFormat, sha256

    path = tmp_path / "mirror.db"
    conn = db.connect(path, create=True)
    doc = FullText(source_format="unarxive", paragraphs=[
        Paragraph(id="p0", index=0, text="We re-run SMoES on MMMU."),
        Paragraph(id="p1", index=1, text="TTFT rises by 4%."),
    ])  # fmt: skip
    key: tuple[str, int, StoredFormat] = ("2607.01234", 1, "unarxive")
    assert fulltext_db.put(conn, doc, key, sha256(b"v1"), "test") == "inserted"
    assert fulltext_db.put(conn, doc, key, sha256(b"v1"), "test") == "unchanged"  # no event
    conn.commit()
    conn.close()
    (event,) = SqliteEventLog(path, "mirror").read_after(0)
    assert (event.kind, event.subject, event.payload) == (
        "fulltext.new", "2607.01234", {"version": 1, "format": "unarxive"},
    )  # fmt: skip
    from graph.watch.sources import MirrorPapers

    mirror = MirrorPapers(path)
    try:
        assert mirror.paragraphs(event) == ["We re-run SMoES on MMMU.", "TTFT rises by 4%."]
    finally:
        mirror.close()


def test_each_log_file_draws_its_own_id_once(tmp_path: Path) -> None:
    """What tells a relay that a recreated file's cursors are new (graph/watch/shared.py)."""
    assert SqliteEventLog(tmp_path / "none.db", "x").log_id() is None
    ids = []
    for name in ("a.db", "b.db"):
        conn = sqlite3.connect(tmp_path / name)
        events.ensure(conn)
        first = SqliteEventLog(tmp_path / name, "x").log_id()
        events.ensure(conn)  # a writer's next open
        conn.close()
        assert first is not None and SqliteEventLog(tmp_path / name, "x").log_id() == first
        ids.append(first)
    assert ids[0] != ids[1]
