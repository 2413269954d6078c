"""PDF reader (pdfplumber / pdfminer.six, both MIT): pages to lines (pdf_layout), tables beside
their captions (pdf_tables), lines to sections, paragraphs and references (pdf_blocks).

Every failure of the PDF libraries becomes one FullTextError with a one-line reason: a reader
that crashes mid-run on one bad download would stop a whole research run."""

from __future__ import annotations

import io
import re
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from memory.fulltext.builder import DocBuilder
from memory.fulltext.errors import FullTextError
from memory.fulltext.model import FullText
from memory.fulltext.pdf_blocks import Assembler
from memory.fulltext.pdf_layout import (
    Line,
    body_size,
    page_lines,
    reading_order,
    strip_running,
)
from memory.fulltext.pdf_tables import FoundTable, Rule, find_tables, page_rules

_STAMP = re.compile(r"arXiv:(\d{4}\.\d{4,5}|[a-z-]+/\d{7})v(\d+)")


@dataclass
class _Page:
    number: int
    width: float
    height: float
    lines: list[Line]
    gutter: float | None
    rules: list[Rule]
    stamp: str


def _reason(exc: BaseException) -> str:
    """A one-line reason for a pdfminer/pdfplumber failure."""
    chain: list[BaseException] = [exc, *[a for a in exc.args if isinstance(a, BaseException)]]
    if exc.__context__ is not None:
        chain.append(exc.__context__)
    names = {type(e).__name__ for e in chain}
    if names & {"PDFPasswordIncorrect", "PDFEncryptionError", "PDFEncryptionWarning"}:
        return "encrypted PDF: a password is needed to read it"
    text = next((str(e) for e in chain if str(e)), type(exc).__name__)
    return f"unreadable PDF: {text.splitlines()[0][:200]}"


def _check_bytes(data: bytes) -> None:
    if b"%PDF-" not in data[:1024]:
        raise FullTextError("not a PDF: no %PDF- header")
    if b"%%EOF" not in data[-2048:]:
        raise FullTextError("truncated PDF: no %%EOF marker at the end of the file")


@contextmanager
def _opened(data: bytes) -> Iterator[Any]:
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as e:  # pdfminer raises many unrelated types for a bad file
        raise FullTextError(_reason(e)) from None
    try:
        yield pdf
    finally:
        pdf.close()


def _read_pages(pdf: Any) -> list[_Page]:
    pages: list[_Page] = []
    for i, page in enumerate(pdf.pages):
        try:
            chars = page.chars
            stamp = "".join(c["text"] for c in chars if not c.get("upright", True))
            lines, gutter = page_lines(chars, i + 1, float(page.width), float(page.height))
            rules = page_rules(page)
        except FullTextError:
            raise
        except Exception as e:
            raise FullTextError(f"page {i + 1}: {_reason(e)}") from None
        pages.append(
            _Page(
                i + 1,
                float(page.width),
                float(page.height),
                reading_order(lines, gutter),
                gutter,
                rules,
                stamp,
            )
        )
        page.close()  # drop pdfplumber's per-page caches: long papers stay small in memory
    return pages


def _pitch(lines: list[Line], body: float) -> float:
    """Typical distance between the tops of consecutive body lines in a column."""
    steps = [
        b.top - a.top
        for a, b in zip(lines, lines[1:], strict=False)
        if a.page == b.page
        and a.col == b.col
        and abs(a.size - body) < 0.6
        and abs(b.size - body) < 0.6
        and 0 < b.top - a.top < 2 * body
    ]
    return statistics.median(steps) if steps else 1.2 * body


def _stream(pages: list[_Page], body: float) -> list[Line | FoundTable]:
    """Lines in reading order with each table placed where its caption was."""
    out: list[Line | FoundTable] = []
    for p in pages:
        tables = find_tables(p.rules, p.width, p.lines, p.gutter, p.number, body)
        consumed = {i for t in tables for i in t.consumed}
        at = {id(t.caption_lines[0]): t for t in tables}
        for ln in p.lines:
            if id(ln) in at:
                out.append(at[id(ln)])
            if id(ln) not in consumed:
                out.append(ln)
    return out


def _title(pdf: Any, pages: list[_Page]) -> str:
    """The metadata title unless it is a placeholder, else the largest text atop page 1."""
    try:
        meta = str((pdf.metadata or {}).get("Title") or "").strip()
    except Exception:  # a broken info dictionary is no reason to refuse the text
        meta = ""
    if meta and not re.fullmatch(r"(untitled|microsoft word.*|.*\.(docx?|tex|dvi))", meta, re.I):
        return meta
    if not pages or not pages[0].lines:
        return ""
    top = [ln for ln in pages[0].lines if ln.top < 0.4 * pages[0].height]
    if not top:
        return ""
    biggest = max(ln.size for ln in top)
    return " ".join(ln.text for ln in top if ln.size == biggest)


def parse_pdf(data: bytes, paper_id: str = "") -> FullText:
    """Read a paper's PDF. Raises FullTextError for a file that is not a PDF, is truncated,
    encrypted with a password, corrupt, or has no text layer."""
    _check_bytes(data)
    with _opened(data) as pdf:
        pages = _read_pages(pdf)
        title = _title(pdf, pages)
    if not any(p.lines for p in pages):
        raise FullTextError("PDF has no text layer (scanned images?)")
    doc = DocBuilder("pdf")
    kept = [p.lines for p in pages]
    strip_running(kept, [p.height for p in pages])
    for p, lines in zip(pages, kept, strict=True):
        p.lines = lines
    all_lines = [ln for p in pages for ln in p.lines]
    body = body_size([p.lines for p in pages])
    stream = _stream(pages, body)
    Assembler(doc, [x for x in stream if isinstance(x, Line)], body, _pitch(all_lines, body)).run(
        stream
    )
    version = None
    stamp = next((m for p in pages[:1] if (m := _STAMP.search(p.stamp))), None)
    if stamp is not None:
        paper_id = paper_id or stamp.group(1)
        version = int(stamp.group(2))
    return doc.build(paper_id=paper_id, version=version, title=title)
