"""Full texts in the mirror: every shared unarXive line and every shared PDF/HTML ingested into
a temp mirror, stable ids on re-ingest, a changed file replacing its row, bad inputs counted by
reason, stats by format, /html and /pdf served over loopback like arxiv.org, the LaTeXML-style
rendering of unarXive read back by the LaTeXML reader, and the schema-1 migration."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from memory.fulltext import FullText, Table
from memory.fulltext.latexml import parse_latexml
from memory.fulltext.render import render_latexml
from memory.fulltext.unarxive import read_unarxive
from memory.mirror import fulltext_db
from memory.mirror.fulltext_ingest import FullTextReport, ingest_fulltext
from memory.mirror.ingest import ingest
from memory.mirror.inputs import classify
from memory.mirror.server import start_background
from tests.conftest import import_component, run_cli, shared_file

UNARXIVE = "fulltext/unarxive/arXiv_src_2212_086_part.jsonl"
ARXIV_PDFS = ("2203.00130v1", "2206.10883v3", "2302.07302v1", "2304.02623v1")
ARXIV_HTML = ("1707.08043", "1708.00137", "1803.07574")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mirror"


def _ingest(db: Path, *paths: Path) -> FullTextReport:
    inputs = classify(list(paths))
    assert not inputs.metadata
    return ingest_fulltext(db, inputs.unarxive, inputs.documents, progress=False)


def _rows(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT fid, arxiv_id, version, format, sha256 FROM fulltext ORDER BY fid"
        ).fetchall()
    finally:
        conn.close()


def _stored(db: Path, arxiv_id: str, fmt: str) -> fulltext_db.StoredFullText:
    conn = sqlite3.connect(db)
    try:
        found = fulltext_db.find(conn, arxiv_id, None, (fmt,))
    finally:
        conn.close()
    assert found is not None
    return found


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every shared full-text file in one mirror (the PDF parse makes this ~20 s)."""
    data = shared_file(UNARXIVE).parents[1]
    db = tmp_path_factory.mktemp("ft") / "mirror.db"
    report = _ingest(db, data / "unarxive", data / "arxiv_html", data / "pdf")
    return {"db": db, "data": data, "report": report, "rows": _rows(db)}


def test_every_shared_full_text_is_ingested(mirror: dict[str, Any]) -> None:
    report: FullTextReport = mirror["report"]
    assert (report.inserted, report.updated, report.unchanged) == (41, 0, 0)
    assert report.by_format == {"unarxive": 34, "latexml": 3, "pdf": 4}
    assert report.metadata_added == 34
    # the non-arXiv fixtures beside them are skipped by name, with the count in the summary
    assert report.skipped == {"file name is not an arXiv id": 3}
    summary = report.summary()
    assert "3 file name is not an arXiv id" in summary and "N18-3011.pdf" in summary
    assert "\n" not in summary
    keys = {(r[1], r[2], r[3]) for r in mirror["rows"]}
    assert {(i.split("v")[0], int(i.split("v")[1]), "pdf") for i in ARXIV_PDFS} <= keys
    assert {(i, 0, "latexml") for i in ARXIV_HTML} <= keys  # named without version: 0


def test_stored_unarxive_text_equals_the_reader_output(mirror: dict[str, Any]) -> None:
    papers, _ = read_unarxive(mirror["data"] / "unarxive" / Path(UNARXIVE).name)
    for paper in papers:
        stored = _stored(mirror["db"], paper.paper_id, "unarxive")
        assert stored.original() is None
        doc = stored.fulltext()
        assert [(p.id, p.text) for p in doc.paragraphs] == [
            (p.id, p.text) for p in paper.paragraphs
        ]
        assert doc.tables == paper.tables and doc.sections == paper.sections


def test_unarxive_metadata_rows_answer_the_api(mirror: dict[str, Any]) -> None:
    conn = sqlite3.connect(mirror["db"])
    try:
        row = conn.execute(
            "SELECT title, categories FROM papers WHERE arxiv_id = '2212.11808'"
        ).fetchone()
        hits = conn.execute(
            "SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'title: mutation'"
        ).fetchone()[0]
        schema = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    finally:
        conn.close()
    assert row[0].startswith("A Mutation-based Text Generation") and row[1] == "cs.CL cs.LG"
    assert hits == 1 and schema == ("2",)


def test_reingest_keeps_ids_and_parses_nothing(
    mirror: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(mirror["db"], db)

    def no_parse(*args: object, **kwargs: object) -> FullText:
        raise AssertionError("an unchanged input was parsed again")

    monkeypatch.setattr("memory.mirror.fulltext_ingest.read_fulltext", no_parse)
    monkeypatch.setattr("memory.mirror.fulltext_ingest.parse_unarxive", no_parse)
    data = mirror["data"]
    again = _ingest(db, data / "unarxive", data / "arxiv_html", data / "pdf")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 41)
    assert again.metadata_added == 0
    assert _rows(db) == mirror["rows"]


def test_changed_file_replaces_its_row_and_its_index(tmp_path: Path) -> None:
    html = shared_file("fulltext/arxiv_html/1707.08043.html").read_bytes()
    path = tmp_path / "1707.08043v2.html"
    path.write_bytes(html)
    db = tmp_path / "m.db"
    assert _ingest(db, path).inserted == 1
    before = _rows(db)
    marker = b"zyxwvutsrq"
    start = html.index(b'class="ltx_p"')
    text_at = html.index(b">", start) + 1
    path.write_bytes(html[:text_at] + marker + b" " + html[text_at:])
    report = _ingest(db, path)
    assert (report.inserted, report.updated) == (0, 1)
    after = _rows(db)
    assert [r[:4] for r in after] == [r[:4] for r in before] and after[0][4] != before[0][4]
    conn = sqlite3.connect(db)
    try:
        hits = fulltext_db.search_body(conn, marker.decode())
        total = conn.execute("SELECT count(*) FROM fulltext_fts").fetchone()[0]
    finally:
        conn.close()
    doc = _stored(db, "1707.08043", "latexml").fulltext()
    assert [h.arxiv_id for h in hits] == ["1707.08043"]
    assert total == len(doc.paragraphs)  # the old paragraphs left the index


def test_body_search_finds_paragraphs(mirror: dict[str, Any]) -> None:
    conn = sqlite3.connect(mirror["db"])
    try:
        hits = fulltext_db.search_body(conn, "hopping matrix element")
        assert fulltext_db.search_body(conn, '" ') == []
        # no FTS5 syntax gets through: "NEAR(" and "hopping*" are searched as words
        assert fulltext_db.search_body(conn, 'NEAR( "hopping* ) matrix') == []
    finally:
        conn.close()
    assert hits and hits[0].arxiv_id == "2212.11831"
    doc = _stored(mirror["db"], "2212.11831", "unarxive").fulltext()
    para = doc.paragraph(hits[0].paragraph_id)
    assert para is not None and "hopping" in para.text.lower()


def _encrypted_pdf() -> bytes:
    pypdf = import_component("pypdf", "pip install -e '.[dev]'")
    source = shared_file("fulltext/pdf/2304.02623v1.pdf").read_bytes()
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(source)))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _unarxive_line(ident: str, *drop: str) -> str:
    record: dict[str, Any] = {
        "paper_id": ident,
        "metadata": {
            "id": ident,
            "title": f"Paper {ident}",
            "authors": "A. Author",
            "abstract": "An abstract.",
            "categories": "cs.CL",
            "versions": [{"version": "v1", "created": "Mon, 1 Jan 2024 10:00:00 GMT"}],
        },
        "body_text": [{"section": "Intro", "sec_number": "1", "text": "Body text here."}],
    }
    for name in drop:
        record.pop(name)
    return json.dumps(record)


def test_bad_inputs_are_skipped_with_counted_reasons(tmp_path: Path) -> None:
    pdf = shared_file("fulltext/pdf/2304.02623v1.pdf").read_bytes()
    (tmp_path / "2401.00001v1.pdf").write_bytes(pdf[: len(pdf) // 2])
    (tmp_path / "2401.00002v1.pdf").write_bytes(_encrypted_pdf())
    (tmp_path / "2401.00003.html").write_text("<html><body><p>Only a paragraph.</p></body></html>")
    (tmp_path / "notes.html").write_text("<html><body><p>x</p></body></html>")
    lines = [
        _unarxive_line("2401.00010"),
        _unarxive_line("2401.00011", "body_text"),
        "{not json",
        _unarxive_line("2401.00012", "paper_id"),
        _unarxive_line("2401.00013", "metadata"),
    ]
    (tmp_path / "u.jsonl").write_text("\n".join(lines) + "\n")
    report = _ingest(tmp_path / "m.db", *sorted(tmp_path.iterdir()))
    assert report.skipped == {
        "corrupt or encrypted PDF": 2,
        "HTML has no sections": 1,
        "file name is not an arXiv id": 1,
        "missing body_text": 1,
        "invalid JSON": 1,
        "missing paper_id": 1,
    }
    # nothing else lost: both good lines stored, the one without metadata gets no papers row
    assert report.inserted == 2 and report.metadata_added == 1
    assert report.no_metadata == {"missing metadata": 1}
    summary = report.summary()
    assert "u.jsonl:2 (missing body_text)" in summary and "encrypted" in summary
    assert "2401.00001v1.pdf (" in summary and "\n" not in summary


def test_cli_exits_nonzero_when_nothing_valid_and_stats_count_formats(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = dict(os.environ, SOVEREIGN_HOME=str(home))
    (tmp_path / "2401.00001v1.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00" * 100)
    bad = run_cli("mirror", "ingest", str(tmp_path / "2401.00001v1.pdf"), "--quiet", env=env)
    assert bad.returncode == 1 and "nothing valid was ingested" in bad.stderr
    assert "Traceback" not in bad.stderr and "1 corrupt or encrypted PDF" in bad.stdout
    html = shared_file("fulltext/arxiv_html/1803.07574.html")
    line = tmp_path / "u.jsonl"
    line.write_text(_unarxive_line("2401.00010") + "\n")
    listing = FIXTURES / "listing_small.jsonl"
    good = run_cli("mirror", "ingest", str(listing), str(line), str(html), "--quiet", env=env)
    assert good.returncode == 0, good.stderr
    assert "ingested 12 records" in good.stdout and "full text: 2 papers" in good.stdout
    stats = run_cli("mirror", "stats", env=env)
    assert stats.returncode == 0, stats.stderr
    assert "13 papers" in stats.stdout
    assert "full text: 2 papers (latexml 1, unarxive 1)" in stats.stdout


def _same_structure(a: FullText, b: FullText) -> None:
    assert [(s.number, s.title, s.level) for s in a.sections] == [
        (s.number, s.title, s.level) for s in b.sections
    ]
    assert [(p.id, p.section_id, p.kind, p.text, p.citations) for p in a.paragraphs] == [
        (p.id, p.section_id, p.kind, p.text, p.citations) for p in b.paragraphs
    ]
    assert [s.id for p in a.paragraphs for s in p.sentences] == [
        s.id for p in b.paragraphs for s in p.sentences
    ]
    assert [(t.id, t.label, t.caption, t.header_rows, t.rows) for t in a.tables] == [
        (t.id, t.label, t.caption, t.header_rows, t.rows) for t in b.tables
    ]


def test_rendered_html_reads_back_to_the_same_document(mirror: dict[str, Any]) -> None:
    papers, _ = read_unarxive(mirror["data"] / "unarxive" / Path(UNARXIVE).name)
    for paper in papers:
        _same_structure(paper, parse_latexml(render_latexml(paper), paper_id=paper.paper_id))
    # tables with cells and spans (the LaTeXML fixture), bold, italic and ± cells survive too
    fixture_html = shared_file("fulltext/arxiv_html/latexml_tables_fixture.html").read_bytes()
    fixture = parse_latexml(fixture_html)
    assert any(c.colspan > 1 for t in fixture.tables for r in t.header_rows + t.rows for c in r)
    marked = Table.from_rows(
        ["Model", "F1"],
        [["[BOLD] Ours", "[BOLD] 85.3±0.4"], ["[ITALIC] Base", "81.0 %"]],
        caption="Results on the test set.",
        id=f"t{len(fixture.tables)}",
        label="Table 9",
    )
    fixture.tables.append(marked.model_copy(update={"section_id": fixture.sections[-1].id}))
    back = parse_latexml(render_latexml(fixture))
    _same_structure(fixture, back)
    assert back.tables[-1].rows[0][1].bold and back.tables[-1].rows[0][1].pm == 0.4


@pytest.fixture(scope="module")
def served(mirror: dict[str, Any]) -> Iterator[str]:
    with start_background(mirror["db"]) as handle:
        yield handle.base_url


def test_served_documents_are_the_stored_ones(mirror: dict[str, Any], served: str) -> None:
    data = mirror["data"]
    for ident in ("2304.02623v1", "2304.02623", "2304.02623v1.pdf"):
        resp = requests.get(f"{served}/pdf/{ident}", timeout=10)
        assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/pdf"
        assert resp.content == (data / "pdf" / "2304.02623v1.pdf").read_bytes()
    resp = requests.get(f"{served}/html/1707.08043", timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    assert resp.content == (data / "arxiv_html" / "1707.08043.html").read_bytes()


def test_unarxive_paper_served_as_latexml_html(mirror: dict[str, Any], served: str) -> None:
    stored = _stored(mirror["db"], "2212.11808", "unarxive").fulltext()
    for ident in ("2212.11808", "2212.11808v1"):
        resp = requests.get(f"{served}/html/{ident}", timeout=10)
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
        page = resp.text
        for cls in ("ltx_section", "ltx_title", "ltx_para", "ltx_p", "ltx_table", "ltx_caption"):
            assert f'class="{cls}' in page or f" {cls}" in page, cls
        _same_structure(stored, parse_latexml(resp.content, paper_id="2212.11808"))


@pytest.mark.parametrize(
    "path",
    [
        "/pdf/2212.11808",  # unarXive only: no PDF bytes
        "/html/2304.02623v1",  # PDF only: arXiv has no HTML either
        "/html/2212.11808v2",  # a version the mirror does not hold
        "/pdf/2304.02623v2",
        "/html/9912.99999",
        "/pdf/not-an-id",
    ],
)
def test_absent_documents_are_short_404s(served: str, path: str) -> None:
    resp = requests.get(served + path, timeout=10)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("text/plain") and len(resp.content) < 120


def test_api_query_is_unchanged_beside_documents(served: str) -> None:
    resp = requests.get(f"{served}/api/query", params={"id_list": "2212.11808"}, timeout=10)
    assert resp.status_code == 200 and resp.text.count("<entry>") == 1
    assert "A Mutation-based Text Generation" in resp.text


def test_schema_1_mirror_serves_404_then_migrates(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    ingest(db, [FIXTURES / "listing_small.jsonl"], progress=False)
    conn = sqlite3.connect(db)
    conn.executescript(
        "DROP TABLE fulltext; DROP TABLE fulltext_fts; "
        "UPDATE meta SET value = '1' WHERE key = 'schema_version';"
    )
    conn.close()
    with start_background(db) as handle:
        resp = requests.get(f"{handle.base_url}/html/2507.00001", timeout=10)
    assert resp.status_code == 404
    html = shared_file("fulltext/arxiv_html/1803.07574.html")
    assert _ingest(db, html).inserted == 1
    conn = sqlite3.connect(db)
    try:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    finally:
        conn.close()
    assert version == ("2",) and papers == 12


def test_mirror_of_documents_alone_serves_and_counts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    html = shared_file("fulltext/arxiv_html/1803.07574.html")
    assert _ingest(home / "mirror.db", html).inserted == 1
    with start_background(home / "mirror.db") as handle:
        assert requests.get(f"{handle.base_url}/html/1803.07574", timeout=10).status_code == 200
        empty = requests.get(handle.query_url, params={"id_list": "1803.07574"}, timeout=10)
        assert empty.status_code == 200 and "<entry>" not in empty.text
    stats = run_cli("mirror", "stats", env=dict(os.environ, SOVEREIGN_HOME=str(home)))
    assert stats.returncode == 0, stats.stderr
    assert "0 papers" in stats.stdout and "full text: 1 papers (latexml 1)" in stats.stdout
