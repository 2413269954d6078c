"""unarXive 2022 JSONL: every real line of the sample, and the lines a reader must skip."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from memory.fulltext import FullText, FullTextError, read_fulltext
from memory.fulltext.unarxive import parse_record, read_unarxive, read_unarxive_lines
from memory.text import split_sentences
from tests.conftest import shared_file

SAMPLE = "fulltext/unarxive/arXiv_src_2212_086_part.jsonl"


@cache
def _records(path: Path) -> tuple[dict, ...]:
    return tuple(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="module")
def records() -> tuple[dict, ...]:
    return _records(shared_file(SAMPLE))


@pytest.fixture(scope="module")
def papers(records: tuple[dict, ...]) -> list[FullText]:
    return [parse_record(r) for r in records]


def test_every_line_is_read_with_sections_and_paragraphs(
    records: tuple[dict, ...], papers: list[FullText]
) -> None:
    assert len(papers) == len(records) == 34
    for rec, doc in zip(records, papers, strict=True):
        assert doc.paper_id == rec["paper_id"] and doc.source_format == "unarxive"
        assert doc.title == " ".join(rec["metadata"]["title"].split())
        assert doc.sections and doc.paragraphs, doc.paper_id
        floats = re.compile(r"\{\{(?:table|figure|cite):[^}]*\}\}")
        body_texts = [b for b in rec["body_text"] if floats.sub("", b["text"]).strip().strip(",.")]
        # one paragraph per body block with text (plus the abstract when the body lacks it)
        assert len(body_texts) <= len(doc.paragraphs) <= len(body_texts) + 1
        numbers = {s.number for s in doc.sections}
        assert numbers >= {b["sec_number"] for b in rec["body_text"] if b.get("sec_number")}


def test_placeholders_are_resolved_and_citations_kept_aside(
    records: tuple[dict, ...], papers: list[FullText]
) -> None:
    for rec, doc in zip(records, papers, strict=True):
        ref_ids = {r.id for r in doc.references}
        for para in doc.paragraphs:
            assert not re.search(r"\{\{(cite|formula|table|figure):", para.text), para.id
            assert set(para.citations) <= ref_ids
        cited = sum(len(re.findall(r"\{\{cite:", b["text"])) for b in rec["body_text"])
        linked = sum(len(p.citations) for p in doc.paragraphs)
        if cited and rec["bib_entries"]:
            assert linked > 0, doc.paper_id


def test_formulas_become_their_latex() -> None:
    rec = {
        "paper_id": "2212.00001",
        "metadata": {"title": "T", "versions": [{"version": "v1"}, {"version": "v3"}]},
        "abstract": {"text": "An abstract."},
        "body_text": [
            {
                "section": "Method",
                "sec_number": "2",
                "sec_type": "section",
                "content_type": "paragraph",
                "text": "We set {{formula:f1}} as in prior work{{cite:h1}}. It works.",
            }
        ],
        "bib_entries": {"h1": {"bib_entry_raw": "A. Author. Title. arXiv:2101.00001, 2021."}},
        "ref_entries": {"f1": {"latex": "\\alpha = 0.5", "type": "formula"}},
    }
    doc = parse_record(rec)
    assert doc.version == 3
    body = doc.paragraphs[-1]
    assert body.text == "We set $\\alpha = 0.5$ as in prior work. It works."
    assert body.citations == ["b0"] and doc.references[0].arxiv_id == "2101.00001"
    assert [s.id for s in body.sentences] == [f"{body.id}.s0", f"{body.id}.s1"]
    assert doc.location(body.id) == "§2 Method"


def test_references_match_bib_entries(records: tuple[dict, ...], papers: list[FullText]) -> None:
    for rec, doc in zip(records, papers, strict=True):
        with_text = [e for e in rec["bib_entries"].values() if e.get("bib_entry_raw", "").strip()]
        assert len(doc.references) == len(with_text)
    assert sum(1 for d in papers if d.references) >= 25
    assert any(r.arxiv_id for d in papers for r in d.references)
    assert any(r.doi for d in papers for r in d.references)


def test_tables_and_figures_keep_their_captions(papers: list[FullText]) -> None:
    doc = next(d for d in papers if d.paper_id == "2212.11808")
    captions = [t.caption for t in doc.tables]
    assert "Experimental mutation operators" in captions
    assert all(not t.rows for t in doc.tables)  # this unarXive subset has no cells
    assert any("captions only" in w for w in doc.warnings)
    assert sum(len(d.figures) for d in papers) > 100


def test_ids_are_stable_across_reads(records: tuple[dict, ...], papers: list[FullText]) -> None:
    again = [parse_record(r) for r in records]
    for a, b in zip(papers, again, strict=True):
        assert [p.id for p in a.paragraphs] == [p.id for p in b.paragraphs]
        assert [(s.id, s.text) for p in a.paragraphs for s in p.sentences] == [
            (s.id, s.text) for p in b.paragraphs for s in p.sentences
        ]
    for doc in papers:
        for i, para in enumerate(doc.paragraphs):
            assert para.id == f"p{i}"
            assert [s.text for s in para.sentences] == split_sentences(para.text)


def test_bad_lines_are_skipped_and_counted() -> None:
    good = json.dumps(
        {"paper_id": "x", "body_text": [{"section": "A", "sec_number": "1", "text": "Hi."}]}
    )
    lines = [
        good,
        "",
        json.dumps({"paper_id": "y"}),  # no body_text
        json.dumps({"body_text": []}),  # no paper_id
        "{not json",
        json.dumps({"paper_id": "z", "body_text": "text"}),
        json.dumps([1, 2]),
    ]
    papers, skipped = read_unarxive_lines(lines)
    assert [p.paper_id for p in papers] == ["x"]
    assert [n for n, _ in skipped] == [3, 4, 5, 6, 7]
    reasons = [r for _, r in skipped]
    assert "body_text" in reasons[0] and "paper_id" in reasons[1]
    assert reasons[2].startswith("not JSON")


def test_file_reader_and_read_fulltext(tmp_path: Path) -> None:
    sample = shared_file(SAMPLE)
    papers, skipped = read_unarxive(sample)
    assert len(papers) == 34 and skipped == []
    first = sample.read_text(encoding="utf-8").splitlines()[0]
    doc = read_fulltext(first.encode())
    assert doc.paper_id == papers[0].paper_id
    assert [p.text for p in doc.paragraphs] == [p.text for p in papers[0].paragraphs]
    with pytest.raises(FullTextError, match="read_unarxive"):
        read_fulltext(sample)  # 34 papers: not one full text
    with pytest.raises(FullTextError, match="cannot read"):
        read_unarxive(tmp_path / "missing.jsonl")
