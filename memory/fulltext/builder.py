"""One accumulator all readers feed in document order, so ids are assigned in a single place
and the same file always yields the same ids."""

from __future__ import annotations

import re
from collections.abc import Sequence

from memory.fulltext.model import (
    Cell,
    Figure,
    FullText,
    Paragraph,
    ParagraphKind,
    Reference,
    Section,
    SourceFormat,
    Table,
)
from memory.text import clean_whitespace

_ARXIV_NEW = re.compile(
    r"(?:arXiv\s*[:/]?\s*(?:abs/)?|arxiv\.org/(?:abs|pdf)/)(\d{4}\.\d{4,5})(?:v\d+)?", re.I
)
_ARXIV_OLD = re.compile(
    r"(?:arXiv\s*[:/]?\s*|arxiv\.org/(?:abs|pdf)/)([a-z-]+(?:\.[A-Z]{2})?/\d{7})", re.I
)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)")
_LABEL = re.compile(
    r"^\s*((?:Table|Figure|Fig\.|TABLE|FIGURE)\s*[A-Z]?\d+[a-z]?)\s*[:.|]?\s*", re.I
)


def arxiv_id_in(text: str) -> str | None:
    """An arXiv identifier printed in a reference ('arXiv:1903.10676', 'arxiv.org/abs/...')."""
    m = _ARXIV_NEW.search(text) or _ARXIV_OLD.search(text)
    return m.group(1) if m else None


def doi_in(text: str) -> str | None:
    m = _DOI.search(text)
    return m.group(1).rstrip(".,;)]") if m else None


def split_label(caption: str) -> tuple[str, str]:
    """('Table 2', 'Results on ...') from 'Table 2: Results on ...'; ('', caption) otherwise."""
    caption = clean_whitespace(caption)
    m = _LABEL.match(caption)
    if not m:
        return "", caption
    label = re.sub(r"\s+", " ", m.group(1)).replace("Fig.", "Figure")
    label = label[:1].upper() + label[1:].lower() if label.isupper() else label
    return label, caption[m.end() :].strip()


class DocBuilder:
    """Collects sections, paragraphs, tables, figures and references in reading order."""

    def __init__(self, source_format: SourceFormat) -> None:
        self.source_format: SourceFormat = source_format
        self.sections: list[Section] = []
        self.paragraphs: list[Paragraph] = []
        self.tables: list[Table] = []
        self.figures: list[Figure] = []
        self.references: list[Reference] = []
        self.warnings: list[str] = []
        self.current: str | None = None

    def section(self, number: str, title: str, level: int = 1) -> str:
        """Open a section; later paragraphs belong to it. Returns its id."""
        sid = f"sec{len(self.sections)}"
        number = number.strip().rstrip(".")
        self.sections.append(
            Section(id=sid, number=number, title=clean_whitespace(title), level=max(1, level))
        )
        self.current = sid
        return sid

    def paragraph(
        self,
        text: str,
        kind: ParagraphKind = "text",
        citations: Sequence[str] = (),
        page: int | None = None,
    ) -> Paragraph | None:
        """Add a paragraph unless it is blank."""
        if not clean_whitespace(text):
            return None
        para = Paragraph.build(len(self.paragraphs), text, self.current, kind, citations, page)
        self.paragraphs.append(para)
        return para

    def table(
        self,
        caption: str,
        header_rows: list[list[Cell]] | None = None,
        rows: list[list[Cell]] | None = None,
        page: int | None = None,
        label: str = "",
    ) -> Table:
        """Add a table; its label is read from the caption when not given."""
        found, rest = split_label(caption)
        table = Table(
            id=f"t{len(self.tables)}",
            label=label or found,
            caption=rest if found and not label else clean_whitespace(caption),
            header_rows=header_rows or [],
            rows=rows or [],
            section_id=self.current,
            page=page,
        )
        self.tables.append(table)
        return table

    def figure(self, caption: str, page: int | None = None) -> Figure:
        label, rest = split_label(caption)
        fig = Figure(
            id=f"f{len(self.figures)}",
            label=label,
            caption=rest,
            section_id=self.current,
            page=page,
        )
        self.figures.append(fig)
        return fig

    def reference(
        self, text: str, arxiv_id: str | None = None, doi: str | None = None
    ) -> Reference | None:
        text = clean_whitespace(text)
        if not text:
            return None
        ref = Reference(
            id=f"b{len(self.references)}",
            text=text,
            arxiv_id=arxiv_id or arxiv_id_in(text),
            doi=doi or doi_in(text),
        )
        self.references.append(ref)
        return ref

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def build(
        self, paper_id: str = "", version: int | None = None, title: str = "", abstract: str = ""
    ) -> FullText:
        if not self.paragraphs:
            self.warn("no paragraphs found")
        if not abstract:
            abstract = " ".join(
                p.text
                for p in self.paragraphs
                if (s := self._section(p.section_id)) and s.title.lower().startswith("abstract")
            )
        return FullText(
            paper_id=paper_id,
            version=version,
            source_format=self.source_format,
            title=clean_whitespace(title),
            abstract=clean_whitespace(abstract),
            sections=self.sections,
            paragraphs=self.paragraphs,
            tables=self.tables,
            figures=self.figures,
            references=self.references,
            warnings=self.warnings,
        )

    def _section(self, sid: str | None) -> Section | None:
        return next((s for s in self.sections if s.id == sid), None)
