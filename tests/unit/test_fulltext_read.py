"""read_fulltext: format detection, the passages view, and the errors it reports."""

from __future__ import annotations

import json

import pytest

from memory.fulltext import FullTextError, detect_format, read_fulltext
from tests.conftest import shared_file

RECORD = {
    "paper_id": "2212.99999",
    "metadata": {"title": "A test paper", "versions": [{"version": "v2"}]},
    "abstract": {"text": "We test a reader. It works."},
    "body_text": [
        {"section": "Introduction", "sec_number": "1", "sec_type": "section", "text": "Intro."},
        {"section": "Results", "sec_number": "4.2", "sec_type": "subsection", "text": "Up 2%."},
    ],
    "bib_entries": {},
    "ref_entries": {},
}


def test_detect_format_from_content() -> None:
    assert detect_format(b"%PDF-1.5\n...") == "pdf"
    assert detect_format(b"\x1f\x8b\x08\x00") == "latex"
    assert detect_format(json.dumps(RECORD).encode()) == "unarxive"
    assert detect_format(b"<div class='ltx_para'>x</div>") == "latexml"
    assert detect_format(b"<!DOCTYPE html><html><body><p>x</p></body></html>") == "latexml"
    assert detect_format(b"plain text, no markup") == "unknown"
    assert detect_format(b'{"paper_id": "x"}') == "unknown"  # JSON, but not an unarXive record


def test_record_dict_bytes_and_string_give_the_same_paper() -> None:
    from_dict = read_fulltext(RECORD)
    from_bytes = read_fulltext(json.dumps(RECORD).encode())
    from_str = read_fulltext(json.dumps(RECORD))
    assert from_dict == from_bytes == from_str
    assert (from_dict.paper_id, from_dict.version) == ("2212.99999", 2)
    assert [s.label() for s in from_dict.sections] == [
        "Abstract",
        "§1 Introduction",
        "§4.2 Results",
    ]


def test_passages_carry_section_and_location() -> None:
    doc = read_fulltext(RECORD, paper_id="override")
    assert doc.paper_id == "override"
    passages = list(doc.passages())
    assert [(p.paragraph_id, p.section_number, p.location) for p in passages] == [
        ("p0", "", "Abstract"),
        ("p1", "1", "§1 Introduction"),
        ("p2", "4.2", "§4.2 Results"),
    ]
    assert passages[2].text == "Up 2%." and passages[2].paper_id == "override"
    assert doc.sentence("p0.s1") is not None and doc.sentence("p0.s1").text == "It works."
    assert doc.sentence("p0.s9") is None and doc.location("p99") == ""


def test_paths_of_each_format_are_detected() -> None:
    html = read_fulltext(shared_file("fulltext/arxiv_html/1803.07574.html"))
    assert html.source_format == "latexml" and html.paper_id == "1803.07574"
    pdf = read_fulltext(shared_file("fulltext/pdf/2304.02623v1.pdf"))
    assert pdf.source_format == "pdf" and (pdf.paper_id, pdf.version) == ("2304.02623", 1)


def test_errors_are_full_text_errors() -> None:
    with pytest.raises(FullTextError, match="unknown full-text format"):
        read_fulltext(b"just some bytes")
    with pytest.raises(FullTextError, match="cannot read"):
        read_fulltext("/nonexistent/paper.pdf")
    with pytest.raises(FullTextError, match="lacks 'body_text'"):
        read_fulltext({"paper_id": "x"})
    with pytest.raises(FullTextError, match="cannot be read as pdf"):
        read_fulltext(RECORD, fmt="pdf")
    with pytest.raises(FullTextError, match="not JSON"):
        read_fulltext(b'{"body_text": [', fmt="unarxive")
