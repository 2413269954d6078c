"""A small GROBID TEI reader, used only to measure the PDF reader against GROBID's output for
the same PDF: body sections (`<div><head n=...>`) and paragraphs (`<p>`), and the share of
those paragraphs the PDF reader recovered.

A TEI paragraph counts as recovered when more than half of its sentences (the kernel's
splitter) occur in the reader's text after `normalize_for_match`. Two looser comparisons are
available and reported separately by the bench: `squash` removes spaces on both sides (GROBID
and the reader disagree on spacing the text does not: GROBID joins "document-level" broken at
a line end into "documentlevel", and writes "sentence-and token-level" as "sentenceand"), and
`drop_marks` also removes standalone one- or two-digit numbers on both sides, because GROBID
often keeps footnote marks as plain text ("PDFBox library 3 to convert") where the reader
drops raised marks. Both are applied symmetrically to the reference and the reader."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from memory.fulltext.errors import FullTextError
from memory.fulltext.model import FullText
from memory.text import clean_whitespace, normalize_for_match, split_sentences

_NS = {"t": "http://www.tei-c.org/ns/1.0"}


@dataclass
class TeiSection:
    number: str
    title: str
    paragraphs: list[str]


def read_tei(source: str | Path | bytes) -> list[TeiSection]:
    """The body sections of a GROBID TEI file with their paragraphs (formulas and notes left
    out: they are not paragraphs)."""
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        root = etree.fromstring(data)
    except (OSError, etree.XMLSyntaxError) as e:
        raise FullTextError(f"unreadable TEI: {e}") from None
    body = root.find(".//t:text/t:body", _NS)
    if body is None:
        raise FullTextError("TEI has no <text><body>")
    sections: list[TeiSection] = []
    for ref in body.findall(".//t:ref[@type='foot']", _NS):
        _drop_keep_tail(ref)  # footnote marks: markup in TEI, dropped by the PDF reader too
    for div in body.findall("t:div", _NS):
        head = div.find("t:head", _NS)
        paras = [clean_whitespace("".join(p.itertext())) for p in div.findall("t:p", _NS)]
        sections.append(
            TeiSection(
                number=(head.get("n") or "") if head is not None else "",
                title=clean_whitespace("".join(head.itertext())) if head is not None else "",
                paragraphs=[p for p in paras if p],
            )
        )
    return sections


def _drop_keep_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail or ""
    prev = el.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(el)


def match_form(text: str, squash: bool = True, drop_marks: bool = True) -> str:
    """The form both sides are compared in (see the module docstring)."""
    text = normalize_for_match(text)
    if drop_marks:
        text = " ".join(t for t in text.split(" ") if not re.fullmatch(r"\d{1,2}", t))
    return text.replace(" ", "") if squash else f" {text} "


@dataclass
class Recall:
    recovered: int
    total: int
    missed: list[str]

    @property
    def ratio(self) -> float:
        return self.recovered / self.total if self.total else 0.0


def paragraph_recall(
    sections: list[TeiSection],
    doc: FullText,
    need: float = 0.5,
    squash: bool = True,
    drop_marks: bool = True,
) -> Recall:
    """Share of TEI body paragraphs whose sentences (more than `need` of them) occur in the
    reader's paragraphs, table and figure captions (with their labels: GROBID keeps captions
    in the body text)."""
    parts = [p.text for p in doc.paragraphs]
    parts += [f"{t.label}: {t.caption}" for t in doc.tables]
    parts += [f"{f.label}: {f.caption}" for f in doc.figures]
    haystack = match_form(" ".join(parts), squash, drop_marks)
    recovered, missed, total = 0, [], 0
    for section in sections:
        for para in section.paragraphs:
            forms = [match_form(s, squash, drop_marks) for s in split_sentences(para)]
            forms = [f for f in forms if f.strip()]
            if not forms:
                continue
            total += 1
            found = sum(1 for f in forms if f in haystack)
            if found > need * len(forms):
                recovered += 1
            else:
                missed.append(para)
    return Recall(recovered, total, missed)
