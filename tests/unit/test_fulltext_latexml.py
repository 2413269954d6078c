"""arXiv HTML (LaTeXML): the three real renderings and the tables fixture."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from memory.fulltext import FullText, FullTextError, read_fulltext
from memory.fulltext.latexml import parse_latexml
from tests.conftest import shared_file

PAPERS = {  # file: (min sections, min paragraphs, references)
    "1707.08043.html": (4, 40, 10),
    "1708.00137.html": (20, 80, 59),
    "1803.07574.html": (18, 80, 31),
}


@cache
def _read(path: Path) -> FullText:
    return read_fulltext(path)


def _doc(name: str) -> FullText:
    return _read(shared_file(f"fulltext/arxiv_html/{name}"))


@pytest.mark.parametrize("name", sorted(PAPERS))
def test_papers_have_sections_paragraphs_and_references(name: str) -> None:
    doc = _doc(name)
    min_sections, min_paras, refs = PAPERS[name]
    assert doc.source_format == "latexml" and doc.paper_id == name[:-5]
    assert doc.title and doc.abstract
    assert len(doc.sections) >= min_sections
    assert len(doc.paragraphs) >= min_paras
    assert len(doc.references) == refs
    assert doc.sections[0].title == "Abstract"
    assert all("ltx_" not in p.text and "mjx" not in p.text for p in doc.paragraphs)


def test_numbered_sections_and_locations() -> None:
    doc = _doc("1708.00137.html")
    by_number = {s.number: s for s in doc.sections}
    assert by_number["3.2"].title == "Instruments" and by_number["3.2"].level == 2
    assert by_number["5.1.2"].level == 3
    assert by_number["A"].title.startswith("Wharton")
    para = next(p for p in doc.paragraphs if p.section_id == by_number["3.2"].id)
    assert doc.location(para.id) == "§3.2 Instruments"
    assert doc.location(para.sentences[0].id) == "§3.2 Instruments"


def test_math_is_kept_as_latex_and_numeric_citations_left_out() -> None:
    doc = _doc("1708.00137.html")
    text = doc.text()
    assert "$\\omega$" in text
    cited = [p for p in doc.paragraphs if p.citations]
    assert cited and all(c.startswith("bib.") for p in cited for c in p.citations)
    assert "[1, 2, 3]" not in text
    notes = [p for p in doc.paragraphs if p.kind == "footnote"]
    assert any("transformation between preparation and measurement" in n.text for n in notes)


def test_author_year_citations_stay_in_the_sentence() -> None:
    doc = _doc("1803.07574.html")
    assert "Cirpka et al." in doc.text()
    assert doc.references[0].doi == "10.1137/0320018"
    assert [f.label for f in doc.figures[:2]] == ["Figure 1", "Figure 2"]


def test_tables_fixture() -> None:
    doc = _doc("latexml_tables_fixture.html")
    assert len(doc.tables) == 16
    captioned = [t for t in doc.tables if t.label]
    assert [(t.label, t.caption) for t in captioned] == [
        ("Table 1", "Some numbers."),
        ("Table 2", "Caption at the top is put at the bottom."),
    ]
    assert [c.text for c in captioned[0].rows[2]] == ["cell7", "cell8", "cell9"]
    league = next(t for t in doc.tables if t.column_names()[:2] == ["Team", "P"])
    assert league.column_names() == ["Team", "P", "W", "D", "L", "F", "A", "Pts"]
    united = league.rows[0]
    assert united[0].text == "Manchester United" and united[-1].number == 12.0
    assert league.cell_location(1, 7) == "table " + league.id + ", row Celtic, column Pts"
    sheet = next(t for t in doc.tables if t.header_rows and t.header_rows[0][0].colspan == 3)
    defenders = sheet.body_grid()[2]
    assert [c.text for c in defenders] == ["Defenders", "DC", "Michael Duburry"]
    weather = next(t for t in doc.tables if t.column_names()[:1] == ["Day"])
    assert weather.rows[0][1].text == "11C" and weather.rows[0][1].unit == "C"
    assert "However, the strong breeze" in weather.rows[0][3].text  # long cells whole


def test_ids_are_stable_when_parsing_twice() -> None:
    for name in [*PAPERS, "latexml_tables_fixture.html"]:
        data = shared_file(f"fulltext/arxiv_html/{name}").read_bytes()
        a, b = parse_latexml(data), parse_latexml(data)
        assert [(s.id, s.text) for p in a.paragraphs for s in p.sentences] == [
            (s.id, s.text) for p in b.paragraphs for s in p.sentences
        ]
        assert [t.model_dump() for t in a.tables] == [t.model_dump() for t in b.tables]


def test_html_without_sections_gives_paragraphs_and_a_warning() -> None:
    html = (
        "<html><body><div class='ltx_para'><p class='ltx_p'>First paragraph. It has two "
        "sentences.</p></div><div class='ltx_para'><p class='ltx_p'>Second one with "
        "<math alttext='x^2'>x2</math>.</p></div></body></html>"
    )
    doc = read_fulltext(html)
    assert [p.text for p in doc.paragraphs] == [
        "First paragraph. It has two sentences.",
        "Second one with $x^2$.",
    ]
    assert doc.sections == [] and doc.paragraphs[0].section_id is None
    assert any("no ltx_section" in w for w in doc.warnings)
    assert doc.paragraphs[0].sentences[1].id == "p0.s1"


def test_plain_html_falls_back_to_p_elements() -> None:
    doc = read_fulltext(b"<html><body><p>Just a page.</p><p>Two paragraphs.</p></body></html>")
    assert [p.text for p in doc.paragraphs] == ["Just a page.", "Two paragraphs."]
    assert any("plain <p>" in w for w in doc.warnings)


def test_html_without_text_is_an_error() -> None:
    with pytest.raises(FullTextError, match="no paragraphs"):
        read_fulltext(b"<html><body><div class='ltx_page_main'></div></body></html>")
