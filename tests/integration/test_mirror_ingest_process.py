"""Large ingests parse in a child process: the same records, counts and bad-line report as the
in-process path, and a child failure is a one-line error, not a hang."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import pytest

from memory.errors import UserError
from memory.mirror.ingest import Filters, ingest

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mirror"


def _dump(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT rid, arxiv_id, version, title, abstract, authors, categories, published, "
            "updated, comment, journal_ref, doi FROM papers ORDER BY rid"
        ).fetchall()
        hits = conn.execute(
            "SELECT rowid FROM papers_fts WHERE papers_fts MATCH 'abstract: model' ORDER BY rowid"
        ).fetchall()
    finally:
        conn.close()
    return rows + [("fts", *hits)]


def test_child_process_parse_matches_in_process(tmp_path: Path) -> None:
    inputs = [
        FIXTURES / "bad_lines.jsonl",
        FIXTURES / "listing_small.jsonl",
        FIXTURES / "bulk_v1.jsonl",
        FIXTURES / "bulk_v2.jsonl",
    ]
    reports = {}
    for mode in (False, True):
        db = tmp_path / f"m{mode}.db"
        # batch_size 3 makes many messages, so batching and the counts across them are exercised
        reports[mode] = ingest(db, inputs, progress=False, batch_size=3, parse_process=mode)
    local, child = reports[False], reports[True]
    for name in ("lines", "good", "filtered", "inserted", "updated", "unchanged", "bad"):
        assert getattr(child, name) == getattr(local, name), name
    assert child.bad_locations == local.bad_locations
    assert child.bad_total == 7 and child.updated + child.unchanged >= 1
    assert _dump(tmp_path / "mTrue.db") == _dump(tmp_path / "mFalse.db")


def test_child_process_applies_filters(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    filters = Filters(categories=("cs.CV",))
    local = ingest(tmp_path / "l.db", [FIXTURES / "listing_small.jsonl"], filters, progress=False)
    child = ingest(
        db, [FIXTURES / "listing_small.jsonl"], filters, progress=False, parse_process=True
    )
    assert (child.good, child.filtered) == (local.good, local.filtered)
    assert child.filtered > 0 and child.good > 0


def test_child_failure_is_one_line_error(tmp_path: Path) -> None:
    good = gzip.compress((FIXTURES / "listing_small.jsonl").read_bytes())
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(UserError) as err:
        ingest(tmp_path / "m.db", [truncated], progress=False, parse_process=True)
    assert "\n" not in str(err.value) and "reading the input failed" in str(err.value)
