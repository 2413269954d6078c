"""Ingest: both formats, bad lines counted with line numbers, idempotent upsert, filters, gz."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from memory.errors import UserError
from memory.mirror.ingest import Filters, ingest, parse_since
from memory.mirror.records import BadRecord, parse_line

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mirror"


def _ids(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT arxiv_id FROM papers ORDER BY arxiv_id")]
    finally:
        conn.close()


def test_bad_lines_are_counted_and_every_good_line_kept(tmp_path: Path) -> None:
    report = ingest(tmp_path / "m.db", [FIXTURES / "bad_lines.jsonl"], progress=False)
    assert _ids(tmp_path / "m.db") == [f"2507.{i:05d}" for i in range(1, 8)]
    assert report.good == 7
    assert report.bad_total == 7
    assert report.bad["invalid JSON"] == 1
    assert report.bad["invalid UTF-8"] == 1
    assert report.bad["missing id"] == 1
    assert report.bad["missing title"] == 1
    assert report.bad["wrong type"] == 2
    assert report.bad["not an object"] == 1
    # first few line numbers (1-based, blank line 7 counted in numbering but not as bad)
    assert report.bad_locations == [f"bad_lines.jsonl:{n}" for n in (2, 4, 6, 9, 11)]
    summary = report.summary()
    assert "skipped 7 bad lines" in summary and "bad_lines.jsonl:2" in summary
    assert "\n" not in summary


def test_reingest_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    first = ingest(db, [FIXTURES / "listing_small.jsonl"], progress=False)
    second = ingest(db, [FIXTURES / "listing_small.jsonl"], progress=False)
    assert first.inserted == 12
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 12)
    assert len(_ids(db)) == 12
    conn = sqlite3.connect(db)
    # the FTS index holds each paper once, not twice
    hits = conn.execute(
        "SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'title: hallucinate'"
    ).fetchone()[0]
    conn.close()
    assert hits == 1


def test_newest_version_wins_in_either_order(tmp_path: Path) -> None:
    for order in (
        [FIXTURES / "bulk_v1.jsonl", FIXTURES / "bulk_v2.jsonl"],
        [FIXTURES / "bulk_v2.jsonl", FIXTURES / "bulk_v1.jsonl"],
    ):
        db = tmp_path / f"m{len(list(tmp_path.iterdir()))}.db"
        for path in order:
            ingest(db, [path], progress=False)
        conn = sqlite3.connect(db)
        row = conn.execute("SELECT version, title, published, updated FROM papers").fetchone()
        old = conn.execute(
            "SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'title: old'"
        ).fetchone()[0]
        conn.close()
        assert row == (
            2,
            "New title of a physics paper",
            "2007-04-02T19:18:42Z",
            "2007-07-24T20:10:27Z",
        )
        assert old == 0  # the replaced title is gone from the index too


def test_bulk_format_fields() -> None:
    rec = parse_line((FIXTURES / "bulk_v1.jsonl").read_bytes().strip())
    assert rec.arxiv_id == "0704.0001" and rec.version == 1
    assert rec.title == "  Old title of\n  a physics paper"  # stored as arXiv serves it
    assert rec.authors == ["C. Balázs", "E. L. Berger"]
    assert rec.categories == ["hep-ph"]
    assert rec.journal_ref == "Phys.Rev.D76:013009,2007"
    assert rec.doi == "10.1103/PhysRevD.76.013009"
    assert rec.comment == "37 pages"


def test_listing_format_filters_non_arxiv_codes_and_dates() -> None:
    line = json.dumps(
        {
            "id": "2311.03057",
            "title": "T",
            "summary": "S",
            "authors": ["A"],
            "categories": ["cs.IR", "cs.CL", "I.2.7", "68T07"],
            "comment": None,
            "listing_date": "2025-06-02",
        }
    ).encode()
    rec = parse_line(line)
    assert rec.categories == ["cs.IR", "cs.CL"]
    assert rec.published == "2023-11-01T00:00:00Z"  # id month older than the listing
    assert rec.updated == "2025-06-02T00:00:00Z"


def test_wrong_types_are_bad_records() -> None:
    with pytest.raises(BadRecord) as info:
        parse_line(b'{"id": "2501.00001", "title": "T", "categories": 5, "summary": "s"}')
    assert info.value.reason == "wrong type"


def test_category_and_since_filters(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    report = ingest(
        db,
        [FIXTURES / "listing_small.jsonl"],
        Filters(categories=("cs.CV", "eess"), since="2025-03"),
        progress=False,
    )
    assert _ids(db) == ["2503.00006", "2505.00009", "2505.00011"]
    assert report.filtered == 9


def test_gzip_is_streamed(tmp_path: Path) -> None:
    gz = tmp_path / "listing.jsonl.gz"
    with gzip.open(gz, "wb") as fh:
        fh.write((FIXTURES / "listing_small.jsonl").read_bytes())
    report = ingest(tmp_path / "m.db", [gz], progress=False)
    assert report.inserted == 12


def test_missing_file_and_bad_since_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        ingest(tmp_path / "m.db", [tmp_path / "absent.jsonl"], progress=False)
    assert not (tmp_path / "m.db").exists()
    with pytest.raises(UserError, match="YYYY-MM"):
        parse_since("2024")


def test_directory_stands_for_its_jsonl_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jsonl").write_bytes((FIXTURES / "listing_small.jsonl").read_bytes())
    (src / "b.jsonl").write_bytes((FIXTURES / "bulk_v1.jsonl").read_bytes())
    (src / "notes.txt").write_text("not data")
    report = ingest(tmp_path / "m.db", [src], progress=False)
    assert report.inserted == 13 and report.bad_total == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no .json"):
        ingest(tmp_path / "m2.db", [empty], progress=False)


def test_failed_first_ingest_leaves_no_mirror_and_a_failed_update_keeps_it(
    tmp_path: Path,
) -> None:
    whole = gzip.compress((FIXTURES / "listing_small.jsonl").read_bytes())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    db = tmp_path / "m.db"
    with pytest.raises((EOFError, OSError)):
        ingest(db, [cut], progress=False, batch_size=1, parse_process=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.jsonl.gz"]
    ingest(db, [FIXTURES / "bulk_v1.jsonl"], progress=False)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with pytest.raises((EOFError, OSError)):
        ingest(db, [cut], progress=False, batch_size=1, parse_process=False)
    assert _ids(db) == ["0704.0001"]
    assert not (tmp_path / "m.db.partial").exists()
