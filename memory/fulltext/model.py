"""The full text of one paper as every reader returns it, whatever the source format.

Identities are positional and deterministic: paragraph `p{i}` is the i-th paragraph in document
order and sentence `p{i}.s{j}` is item j of `memory.text.split_sentences(paragraph.text)`, the
kernel's one splitter, so re-reading the same file gives the same ids and a quote can be cited
as "p12.s3" and checked later. Indices are 0-based like the kernel's abstract sentence indices.
Text is stored whole; only display code may shorten it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from memory.fulltext.cells import parse_cell
from memory.text import clean_whitespace, split_sentences

SourceFormat = Literal["unarxive", "latexml", "pdf", "latex"]
ParagraphKind = Literal["text", "list", "proof", "footnote"]


class Section(BaseModel):
    """A heading: `number` as printed ("4.2", "A", "" when unnumbered), `level` 1 for a section."""

    id: str
    number: str = ""
    title: str = ""
    level: int = 1

    def label(self) -> str:
        """'§4.2 Results', or the bare title of an unnumbered section."""
        if self.number:
            return f"§{self.number} {self.title}".rstrip()
        return self.title or self.id


class Sentence(BaseModel):
    id: str
    index: int
    text: str


class Paragraph(BaseModel):
    """One paragraph; `citations` holds the ids of the references it cites, in order."""

    id: str
    index: int
    section_id: str | None = None
    kind: ParagraphKind = "text"
    text: str
    sentences: list[Sentence] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)
    page: int | None = Field(default=None, description="1-based page of its first line (PDF)")

    @classmethod
    def build(
        cls,
        index: int,
        text: str,
        section_id: str | None = None,
        kind: ParagraphKind = "text",
        citations: Sequence[str] = (),
        page: int | None = None,
    ) -> Paragraph:
        """A paragraph with its sentence ids derived from the project's splitter."""
        text = clean_whitespace(text)
        pid = f"p{index}"
        sentences = [
            Sentence(id=f"{pid}.s{j}", index=j, text=s) for j, s in enumerate(split_sentences(text))
        ]
        return cls(
            id=pid,
            index=index,
            section_id=section_id,
            kind=kind,
            text=text,
            sentences=sentences,
            citations=list(citations),
            page=page,
        )


class Cell(BaseModel):
    """One table cell: the text as shown, and the value a claim about it would be checked on."""

    text: str
    number: float | None = None
    unit: str | None = Field(default=None, description="%, ms, x, tokens/s, M, ...")
    pm: float | None = Field(default=None, description="the ± part, e.g. 0.4 in 85.3±0.4")
    bold: bool = False
    italic: bool = False
    colspan: int = 1
    rowspan: int = 1

    @classmethod
    def parse(
        cls, raw: str, bold: bool = False, italic: bool = False, colspan: int = 1, rowspan: int = 1
    ) -> Cell:
        """Parse a cell's raw text (LaTeX markup and `[BOLD]`/`[ITALIC]` marks allowed); flags
        known from the source's own markup (HTML tags, PDF fonts) are OR'ed in."""
        p = parse_cell(raw)
        return cls(
            text=p.text,
            number=p.number,
            unit=p.unit,
            pm=p.pm,
            bold=bold or p.bold,
            italic=italic or p.italic,
            colspan=max(1, colspan),
            rowspan=max(1, rowspan),
        )


def _expand(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Rectangular grid: a spanned cell is repeated in every position it covers."""
    grid: list[list[Cell | None]] = []
    for r, row in enumerate(rows):
        while len(grid) <= r:
            grid.append([])
        c = 0
        for cell in row:
            while c < len(grid[r]) and grid[r][c] is not None:
                c += 1
            for dr in range(cell.rowspan):
                while len(grid) <= r + dr:
                    grid.append([])
                line = grid[r + dr]
                while len(line) < c + cell.colspan:
                    line.append(None)
                for dc in range(cell.colspan):
                    line[c + dc] = cell
            c += cell.colspan
    width = max((len(line) for line in grid), default=0)
    blank = Cell(text="")
    return [
        [x if x is not None else blank for x in line + [None] * (width - len(line))]
        for line in grid[: len(rows)]
    ]


class Table(BaseModel):
    """A table: `label` as printed ("Table 2", "" if unnumbered), header rows then body rows."""

    id: str
    label: str = ""
    caption: str = ""
    header_rows: list[list[Cell]] = Field(default_factory=list)
    rows: list[list[Cell]] = Field(default_factory=list)
    section_id: str | None = None
    page: int | None = None

    @classmethod
    def from_rows(
        cls,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        caption: str = "",
        id: str = "t0",
        label: str = "",
    ) -> Table:
        """From column names and rows of strings (SciTab's shape; `[BOLD]`/`[ITALIC]` marks and
        LaTeX styling are parsed into cell flags)."""
        header = [[Cell.parse(c) for c in columns]] if columns else []
        return cls(
            id=id,
            label=label,
            caption=clean_whitespace(caption),
            header_rows=header,
            rows=[[Cell.parse(c) for c in row] for row in rows],
        )

    def grid(self) -> list[list[Cell]]:
        """Header and body rows as one rectangular grid (spans repeated)."""
        return _expand(self.header_rows + self.rows)

    def column_names(self) -> list[str]:
        """One name per grid column: the header rows' texts joined with ' / ' (distinct parts)."""
        grid = self.grid()
        n_head = len(self.header_rows)
        width = len(grid[0]) if grid else 0
        names = []
        for c in range(width):
            parts: list[str] = []
            for r in range(n_head):
                t = grid[r][c].text
                if t and t not in parts:
                    parts.append(t)
            names.append(" / ".join(parts))
        return names

    def body_grid(self) -> list[list[Cell]]:
        return self.grid()[len(self.header_rows) :]

    def name(self) -> str:
        return self.label or f"table {self.id}"

    def cell_location(self, row: int, col: int) -> str:
        """'Table 2, row LocalRetro, column top-1' for body row `row`, grid column `col`; the
        row is named by its first non-empty cell, or by its 1-based position."""
        body = self.body_grid()
        cells = body[row]
        row_name = next((c.text for c in cells[:col] if c.text), "") or f"{row + 1}"
        names = self.column_names()
        col_name = names[col] if col < len(names) and names[col] else f"{col + 1}"
        return f"{self.name()}, row {row_name}, column {col_name}"


class Figure(BaseModel):
    id: str
    label: str = ""
    caption: str = ""
    section_id: str | None = None
    page: int | None = None


class Reference(BaseModel):
    """One bibliography entry as printed, with the identifiers visible in it."""

    id: str
    text: str
    arxiv_id: str | None = None
    doi: str | None = None


class FullTextPassage(BaseModel):
    """A paragraph with where it sits, ready to embed or cite."""

    paper_id: str
    paragraph_id: str
    section_number: str = ""
    section_title: str = ""
    location: str
    text: str


def _by_id(items: Sequence[Any], item_id: str | None, prefix: str) -> Any:
    """Ids are positional ('p12' is paragraphs[12]); fall back to a scan for hand-built lists."""
    if item_id is None:
        return None
    tail = item_id[len(prefix) :] if item_id.startswith(prefix) else ""
    if tail.isdigit() and int(tail) < len(items) and items[int(tail)].id == item_id:
        return items[int(tail)]
    return next((x for x in items if x.id == item_id), None)


class FullText(BaseModel):
    """One paper's full text as read from one source file."""

    paper_id: str = ""
    version: int | None = None
    source_format: SourceFormat
    title: str = ""
    abstract: str = ""
    sections: list[Section] = Field(default_factory=list)
    paragraphs: list[Paragraph] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def section(self, section_id: str | None) -> Section | None:
        return _by_id(self.sections, section_id, "sec")

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        return _by_id(self.paragraphs, paragraph_id, "p")

    def sentence(self, sentence_id: str) -> Sentence | None:
        """The sentence 'p12.s3', or None."""
        para = self.paragraph(sentence_id.split(".", 1)[0])
        if para is None:
            return None
        return next((s for s in para.sentences if s.id == sentence_id), None)

    def location(self, item_id: str) -> str:
        """Human location of a paragraph, sentence or table id: '§4.2 Results' or 'Table 2'."""
        table = next((t for t in self.tables if t.id == item_id), None)
        if table is not None:
            return table.name()
        para = self.paragraph(item_id.split(".", 1)[0])
        if para is None:
            return ""
        sec = self.section(para.section_id)
        return sec.label() if sec is not None else (f"page {para.page}" if para.page else "")

    def passages(
        self, kinds: Sequence[ParagraphKind] = ("text", "list", "proof")
    ) -> Iterator[FullTextPassage]:
        """Paragraph-level passages in document order (footnotes left out by default)."""
        for para in self.paragraphs:
            if para.kind not in kinds:
                continue
            sec = self.section(para.section_id)
            yield FullTextPassage(
                paper_id=self.paper_id,
                paragraph_id=para.id,
                section_number=sec.number if sec else "",
                section_title=sec.title if sec else "",
                location=self.location(para.id),
                text=para.text,
            )

    def text(self) -> str:
        """All paragraph text in document order, one paragraph a line."""
        return "\n".join(p.text for p in self.paragraphs)
