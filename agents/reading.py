"""What one source offers to read: its abstract sentences and, when its full text was read,
its body sentences and table rows, each with a stable key and a location a reader can find
("Abstract", "§4.2 Results", "Table 2, row LocalRetro"). Claims are drawn from these units,
so every quote carries its paper and place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memory.fulltext.model import Cell, FullText, Table
from memory.models import Paper
from memory.text import clean_whitespace, normalize_for_match, split_sentences

UnitKind = Literal["abstract", "body", "table"]
ABSTRACT = "Abstract"
MIN_BODY_CHARS = 25  # shorter body "sentences" are headings, labels or parser debris
# Sections whose sentences describe other work or thank people, not the paper's results.
SKIP_SECTIONS = ("reference", "bibliograph", "acknowledg", "related work", "funding")


@dataclass(frozen=True)
class Unit:
    """One readable statement of a source."""

    key: str  # "3" (abstract sentence 3), "p12.s3" (body sentence), "t2.r4" (table row)
    text: str
    location: str
    kind: UnitKind
    sentence_index: int | None = None  # abstract sentences only: the kernel's sentence index


def abstract_units(paper: Paper) -> list[Unit]:
    return [
        Unit(str(i), s, ABSTRACT, "abstract", sentence_index=i)
        for i, s in enumerate(split_sentences(paper.abstract))
    ]


def _skipped(location: str) -> bool:
    low = location.lower()
    return any(word in low for word in SKIP_SECTIONS)


def body_units(fulltext: FullText, seen: set[str] | None = None) -> list[Unit]:
    """Body sentences in document order; sentences already seen (the abstract, repeated in
    some full texts) and sentences of reference or acknowledgement sections are left out."""
    seen = set() if seen is None else seen
    out: list[Unit] = []
    for para in fulltext.paragraphs:
        if para.kind == "footnote":
            continue
        location = fulltext.location(para.id) or "body"
        if _skipped(location):
            continue
        for sent in para.sentences:
            norm = normalize_for_match(sent.text)
            if len(sent.text) < MIN_BODY_CHARS or norm in seen:
                continue
            seen.add(norm)
            out.append(Unit(sent.id, sent.text, location, "body"))
    return out


def _row_label(cells: list[Cell], row: int) -> str:
    return next((c.text for c in cells if c.text), f"{row + 1}")


def row_statement(table: Table, cells: list[Cell], names: list[str], row: int) -> str:
    """A table row as one readable statement: 'Table 2 (caption): LocalRetro: top-1 53.4;
    top-3 77.5'. Cell text is kept as printed."""
    label = _row_label(cells, row)
    parts = []
    for col, cell in enumerate(cells):
        if not cell.text or cell.text == label:
            continue
        name = names[col] if col < len(names) and names[col] else f"column {col + 1}"
        parts.append(f"{name} {cell.text}")
    caption = clean_whitespace(table.caption)
    head = f"{table.name()} ({caption})" if caption else table.name()
    return f"{head}: {label}: " + "; ".join(parts)


def table_units(fulltext: FullText) -> list[Unit]:
    """One unit per body row, located as 'Table 2, row LocalRetro'."""
    out: list[Unit] = []
    for t_index, table in enumerate(fulltext.tables):
        names = table.column_names()
        for row, cells in enumerate(table.body_grid()):
            text = row_statement(table, cells, names, row)
            location = f"{table.name()}, row {_row_label(cells, row)}"
            out.append(Unit(f"t{t_index}.r{row}", text, location, "table"))
    return out


def source_units(paper: Paper, fulltext: FullText | None = None) -> list[Unit]:
    """Everything one source offers: the abstract first, then body sentences and table rows."""
    units = abstract_units(paper)
    if fulltext is None:
        return units
    seen = {normalize_for_match(u.text) for u in units}
    return [*units, *body_units(fulltext, seen), *table_units(fulltext)]
