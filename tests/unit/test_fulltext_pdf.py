"""PDF reader on every real PDF of the shared data, its recall against GROBID's TEI for the
two PDFs that have one, and the clean failure on corrupt, truncated and encrypted files."""

from __future__ import annotations

import io
import re
from functools import cache
from pathlib import Path

import pytest

from memory.fulltext import FullText, FullTextError, read_fulltext
from memory.fulltext.pdf import parse_pdf
from memory.fulltext.tei import paragraph_recall, read_tei
from tests.conftest import import_component, shared_file

# file: (arXiv id from the margin stamp, min sections, min paragraphs, min references)
PDFS = {
    "2020.acl-main.207.pdf": ("", 18, 60, 50),
    "N18-3011.pdf": ("", 12, 60, 25),
    "2203.00130v1.pdf": ("2203.00130", 40, 150, 100),
    "2206.10883v3.pdf": ("2206.10883", 25, 150, 60),
    "2302.07302v1.pdf": ("2302.07302", 25, 90, 60),
    "2304.02623v1.pdf": ("2304.02623", 6, 20, 30),
}


@cache
def _parse(path: Path) -> FullText:
    return read_fulltext(path)


def _doc(name: str) -> FullText:
    return _parse(shared_file(f"fulltext/pdf/{name}"))


@pytest.mark.parametrize("name", sorted(PDFS))
def test_sections_paragraphs_and_references(name: str) -> None:
    doc = _doc(name)
    arxiv_id, min_sections, min_paras, min_refs = PDFS[name]
    assert doc.source_format == "pdf" and doc.title
    assert doc.paper_id == arxiv_id
    assert len(doc.sections) >= min_sections
    assert len([p for p in doc.paragraphs if p.kind != "footnote"]) >= min_paras
    assert len(doc.references) >= min_refs
    numbered = [s for s in doc.sections if s.number]
    assert [s.number for s in numbered[:2]] == ["1", "2"] or numbered[0].number == "1"
    assert doc.sections[0].title.lower() == "abstract" and doc.abstract
    assert all(p.page is not None for p in doc.paragraphs)
    refs = [s for s in doc.sections if s.title.lower() == "references"]
    assert len(refs) == 1


@pytest.mark.parametrize("name", sorted(n for n, v in PDFS.items() if v[0]))
def test_margin_stamp_is_read_not_kept_in_the_text(name: str) -> None:
    doc = _doc(name)
    assert doc.version is not None
    assert f"arXiv:{doc.paper_id}" not in doc.text()
    assert not any(
        re.search(r"\[cs\.[A-Z]{2}\]\s+\d{1,2} \w{3} 20\d\d", p.text) for p in doc.paragraphs
    )


def test_running_heads_and_page_numbers_are_removed() -> None:
    citesee = _doc("2302.07302v1.pdf")  # running head "Chang et al." on even pages
    assert not any("Chang et al." in p.text for p in citesee.paragraphs)
    plain = _doc("2203.00130v1.pdf")  # "Paper Plain: Making ... Natural Language Processing"
    head = "Approachable to Healthcare Consumers with Natural Language Processing"
    assert sum(head in p.text for p in plain.paragraphs) <= 1
    assert not any(re.fullmatch(r"\d{1,3}", p.text) for d in (citesee, plain) for p in d.paragraphs)


def test_two_columns_are_read_in_order_and_lines_dehyphenated() -> None:
    doc = _doc("2020.acl-main.207.pdf")
    text = doc.text()
    # one sentence that runs from the bottom of the left column into the right one
    assert "the embeddings power strong performance on end tasks." in text
    assert "we propose to incorporate citations into the model as a signal" in text
    assert "cita- tions" not in text and "citations into" in text
    para = next(p for p in doc.paragraphs if "inter-document relatedness, while" in p.text)
    assert doc.location(para.id) == "§2.2 Background: Pretrained Transformers"


def test_footnote_marks_are_dropped_and_footnotes_kept_apart() -> None:
    doc = _doc("2020.acl-main.207.pdf")
    assert "citation graph at training and test time. Note that methods like SGC" in doc.text()
    notes = [p for p in doc.paragraphs if p.kind == "footnote"]
    assert any(n.text.startswith("For SGC, we remove development and test set") for n in notes)


def test_tables_are_found_with_captions_and_numbers() -> None:
    doc = _doc("2020.acl-main.207.pdf")
    assert [t.label for t in doc.tables] == ["Table 1", "Table 2", "Table 3"]
    main = doc.tables[0]
    assert main.caption.startswith("Results on the SCIDOCS evaluation suite")
    ours = next(r for r in main.body_grid() if r[0].text == "SPECTER (Ours)")
    assert [c.number for c in ours[1:4]] == [82.0, 86.4, 83.6]
    assert all(c.bold for c in ours[1:5])  # the best scores are set in bold
    assert main.cell_location(0, 1) == "Table 1, row Random, column Classification / MAG / F1"
    ablation = doc.tables[1]
    assert ablation.column_names()[1:] == ["CLS", "USR", "CITE", "REC", "Avg."]
    assert ablation.rows[2][1].number == 84.5 and ablation.rows[2][1].bold
    # table cells do not leak into the paragraphs
    assert not any("Fasttext-sum (2017)" in p.text for p in doc.paragraphs)
    s2 = _doc("N18-3011.pdf")
    first = s2.tables[0]
    assert first.column_names() == ["Field", "Precision", "Recall", "F1"]
    assert [c.number for c in first.rows[0][1:]] == [85.5, 85.5, 85.5]


def test_wrapped_table_cells_are_joined() -> None:
    doc = _doc("2203.00130v1.pdf")
    barriers = doc.tables[0]
    assert barriers.column_names() == ["Barrier", "Description", "Example", "Readers"]
    assert barriers.rows[0][0].text == "Unfamiliar terminology"
    assert barriers.rows[0][2].text == "“What does this word mean?”"


def test_references_are_split_into_entries() -> None:
    plain = _doc("2203.00130v1.pdf")
    assert plain.references[0].text.startswith("[1] 2021. Fermat’s Library.")
    assert plain.references[-1].text.startswith("[111] ")
    lexsum = _doc("2206.10883v3.pdf")
    assert lexsum.references[0].arxiv_id == "2004.05150"
    assert any(r.doi == "10.18653/v1/P18-2041" for r in lexsum.references)
    acl = _doc("2020.acl-main.207.pdf")  # author-year list, hanging indentation
    assert acl.references[2].text == (
        "Sanjeev Arora, Yingyu Liang, and Tengyu Ma. 2017. A simple but tough-to-beat "
        "baseline for sentence embeddings. In ICLR."
    )


@pytest.mark.parametrize("name", ["2020.acl-main.207.pdf", "N18-3011.pdf"])
def test_tei_paragraph_recall_is_at_least_90_percent(name: str) -> None:
    tei = read_tei(shared_file(f"fulltext/pdf/{name[:-4]}.tei.xml"))
    assert sum(len(s.paragraphs) for s in tei) > 50
    recall = paragraph_recall(tei, _doc(name))
    assert recall.ratio >= 0.90, recall.missed
    strict = paragraph_recall(tei, _doc(name), squash=False, drop_marks=False)
    assert strict.ratio <= recall.ratio


@pytest.mark.parametrize("name", ["2304.02623v1.pdf", "N18-3011.pdf"])
def test_ids_are_stable_when_parsing_twice(name: str) -> None:
    data = shared_file(f"fulltext/pdf/{name}").read_bytes()
    again = parse_pdf(data)
    first = _doc(name)
    assert [(s.id, s.text) for p in first.paragraphs for s in p.sentences] == [
        (s.id, s.text) for p in again.paragraphs for s in p.sentences
    ]
    assert [t.model_dump() for t in first.tables] == [t.model_dump() for t in again.tables]


def _one_line_error(data: bytes) -> str:
    with pytest.raises(FullTextError) as info:
        read_fulltext(data, fmt="pdf")
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert info.value.__cause__ is None  # no library exception chained into the report
    assert info.value.__context__ is None or info.value.__suppress_context__
    return message


def test_bad_pdfs_raise_one_clear_error() -> None:
    data = shared_file("fulltext/pdf/2304.02623v1.pdf").read_bytes()
    assert "truncated" in _one_line_error(data[: len(data) // 2])
    assert "not a PDF" in _one_line_error(b"hello, world")
    assert "unreadable PDF" in _one_line_error(b"%PDF-1.7\n" + b"\x00garbage" * 500 + b"\n%%EOF\n")
    corrupt = bytearray(data)
    corrupt[200 : len(data) - 200] = bytes(len(data) - 400)  # zeroed body, header and tail kept
    assert _one_line_error(bytes(corrupt)).startswith(("unreadable PDF", "PDF has no text"))


def test_encrypted_pdf_raises_and_empty_password_reads() -> None:
    pypdf = import_component("pypdf", "pip install -e '.[dev]'")
    source = shared_file("fulltext/pdf/2304.02623v1.pdf").read_bytes()

    def encrypted(user_password: str) -> bytes:
        writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(source)))
        writer.encrypt(user_password=user_password, owner_password="owner")
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    assert "encrypted PDF" in _one_line_error(encrypted("secret"))
    opened = parse_pdf(encrypted(""))  # readable without a password: read it
    assert len(opened.paragraphs) == len(_doc("2304.02623v1.pdf").paragraphs)
