"""Which rows and columns a claim names. A table is read once into a `TableView` (values,
bold marks, label columns, the names of its row groups and columns, which columns are
lower-is-better); a claim's tokens are then matched to those names, exactly (contiguous
tokens) or in part (its distinctive tokens), longest and surest first, without two mentions
sharing a word. The matches are what every check evaluates on, so they are kept with their
position in the claim (a comparison's subject is the mention before its trigger word)."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from agents.verification.tables.text import (
    HIGHER_IS_BETTER,
    HIGHER_METRIC,
    LOWER_IS_BETTER,
    LOWER_STATED,
    STOPWORDS,
    normalize,
    token_spans,
    tokens,
)
from memory.fulltext.model import Cell, Table

Axis = Literal["row", "col"]
_ANY_NUMBER = re.compile(r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?")
PARTIAL_MIN = 0.4  # share of a name's distinctive weight the claim must contain


def cell_value(cell: Cell) -> float | None:
    """The cell's number; for 'a/b/c' or '4805 (76.6%)' style cells, the first number."""
    if cell.number is not None:
        return cell.number if math.isfinite(cell.number) else None
    text = normalize(cell.text)
    if re.search(r"[a-z]", text):
        return None
    m = _ANY_NUMBER.search(text)
    return float(m.group(0).replace(",", "")) if m else None


def cell_numbers(cell: Cell) -> list[float]:
    """Every number written in a cell (both halves of '4805 (76.6%)')."""
    return [float(x.replace(",", "")) for x in _ANY_NUMBER.findall(normalize(cell.text))]


@dataclass(frozen=True)
class Entity:
    """A nameable row group or column: 'OD' names the three rows whose first cell is 'OD'."""

    axis: Axis
    name: str
    indices: tuple[int, ...]
    toks: tuple[str, ...]


@dataclass
class TableView:
    """A table prepared for checking: body values, label/value columns, nameable entities."""

    table: Table
    cells: list[list[Cell]] = field(init=False)
    values: list[list[float | None]] = field(init=False)
    columns: list[str] = field(init=False)
    label_cols: list[int] = field(init=False)
    header_like: set[int] = field(init=False)  # body rows that only name columns
    sections: dict[int, tuple[int, ...]] = field(init=False)  # section row -> rows under it

    def __post_init__(self) -> None:
        self.cells = self.table.body_grid()
        self.columns = self.table.column_names()
        width = max((len(r) for r in self.cells), default=len(self.columns))
        self.columns += [""] * (width - len(self.columns))
        self.values = [[cell_value(c) for c in row] for row in self.cells]
        self._split_header_rows()
        self.label_cols = [c for c in range(width) if self._mostly_text(c)]
        self._find_sections()

    def _split_header_rows(self) -> None:
        """Leading body rows without a number are more header ('P', 'R', 'F1' under a
        group): their texts extend the column names and they are never compared."""
        self.header_like = set()
        for r, row in enumerate(self.values):
            texts = {c.text for c in self.cells[r] if c.text}
            if any(v is not None for v in row) or r >= len(self.values) - 1 or len(texts) < 2:
                break
            self.header_like.add(r)
            for c, cell in enumerate(self.cells[r]):
                parts = [p for p in self.columns[c].split(" / ") if p]
                if cell.text and cell.text not in parts:
                    self.columns[c] = " / ".join([*parts, cell.text])

    def _find_sections(self) -> None:
        """Rows holding one text and no number head the rows below them ('symmetric')."""
        self.sections = {}
        heads = [
            r
            for r, row in enumerate(self.cells)
            if r not in self.header_like
            and all(v is None for v in self.values[r])
            and len({c.text for c in row if c.text}) == 1
        ]
        for i, r in enumerate(heads):
            end = heads[i + 1] if i + 1 < len(heads) else len(self.cells)
            if end > r + 1:
                self.sections[r] = tuple(range(r + 1, end))

    @property
    def data_rows(self) -> list[int]:
        """Rows that hold values (not header-like, not section heads)."""
        return [
            r
            for r in range(len(self.cells))
            if r not in self.header_like and any(v is not None for v in self.values[r])
        ]

    def _mostly_text(self, col: int) -> bool:
        rows = [r for r in range(len(self.cells)) if r not in self.header_like]
        vals = [self.values[r][col] for r in rows if col < len(self.values[r])]
        texts = [self.cells[r][col].text for r in rows if col < len(self.cells[r])]
        texts = [t for t in texts if t]
        return bool(texts) and sum(v is not None for v in vals) < 0.5 * len(texts)

    @property
    def n_rows(self) -> int:
        return len(self.cells)

    @property
    def n_cols(self) -> int:
        return len(self.columns)

    @cached_property
    def value_cols(self) -> list[int]:
        return [c for c in range(self.n_cols) if c not in self.label_cols]

    def value(self, row: int, col: int) -> float | None:
        if row < len(self.values) and col < len(self.values[row]):
            return self.values[row][col]
        return None

    def row_name(self, row: int) -> str:
        parts = [self.cells[row][c].text for c in self.label_cols if self.cells[row][c].text]
        return " / ".join(dict.fromkeys(parts)) or f"row {row + 1}"

    def column_name(self, col: int) -> str:
        return self.columns[col] or f"column {col + 1}"

    @cached_property
    def lower_better(self) -> list[bool]:
        """Per column: is a lower value better? Read off the header, else the caption."""
        caption = normalize(self.table.caption)
        heads = " ".join(normalize(c) for c in self.columns)
        default = bool(LOWER_STATED.search(caption)) or (
            bool(LOWER_IS_BETTER.search(caption)) and not HIGHER_METRIC.search(caption + heads)
        )
        out = []
        for name in self.columns:
            head = normalize(name)
            if HIGHER_IS_BETTER.search(head):
                out.append(False)
            elif LOWER_IS_BETTER.search(head):
                out.append(True)
            else:
                out.append(default)
        return out

    @cached_property
    def entities(self) -> list[Entity]:
        """Row groups (one per distinct text in each label column) and value columns."""
        out: list[Entity] = []
        for r, under in self.sections.items():
            name = next(c.text for c in self.cells[r] if c.text)
            out.append(Entity("row", name, under, tuple(tokens(name))))
        for c in self.label_cols:
            groups: dict[str, list[int]] = {}
            for r, row in enumerate(self.cells):
                if r in self.header_like or r in self.sections:
                    continue
                if c < len(row) and row[c].text:
                    groups.setdefault(row[c].text, []).append(r)
            for name, rows in groups.items():
                out.append(Entity("row", name, tuple(rows), tuple(tokens(name))))
        groups_c: dict[str, list[int]] = {}
        for c in self.value_cols:
            name = self.columns[c]
            parts = name.split(" / ") if name else []
            for part in dict.fromkeys([name, *parts] if len(parts) > 1 else parts):
                groups_c.setdefault(part, []).append(c)
        for name, cols in groups_c.items():
            out.append(Entity("col", name, tuple(cols), tuple(tokens(name))))
        return [e for e in out if e.toks]

    @cached_property
    def weights(self) -> dict[tuple[Axis, str], float]:
        """Token weight per axis: 0 for stopwords and digits, else 1 / (entities holding it)."""
        out: dict[tuple[Axis, str], float] = {}
        for axis in ("row", "col"):
            df = Counter(t for e in self.entities if e.axis == axis for t in set(e.toks))
            for t, n in df.items():
                out[(axis, t)] = 0.0 if t in STOPWORDS or t.isdigit() else 1.0 / n
        return out


@dataclass(frozen=True)
class Mention:
    """Entities of one axis named at one place in the claim."""

    axis: Axis
    indices: tuple[int, ...]
    names: tuple[str, ...]
    start: int  # character offset in the normalised claim
    end: int
    score: float
    token_ids: frozenset[int]


def _find_exact(needle: tuple[str, ...], hay: list[str]) -> list[int]:
    """Every position where the name's tokens occur contiguously."""
    n = len(needle)
    return [i for i in range(len(hay) - n + 1) if tuple(hay[i : i + n]) == needle]


def _prefix_match(a: str, b: str) -> bool:
    """'rahman' meets 'rahman2012resolving'; short tokens must be equal."""
    return min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a))


def _candidates(view: TableView, claim_toks: list[str]) -> list[tuple[float, Entity, set[int]]]:
    found: list[tuple[float, Entity, set[int]]] = []
    for e in view.entities:
        at = _find_exact(e.toks, claim_toks)
        if at and not (len(e.toks) == 1 and e.toks[0].isdigit()):
            for i in at:
                found.append((1.0 + 0.01 * len(e.toks), e, set(range(i, i + len(e.toks)))))
            continue
        w = [view.weights.get((e.axis, t), 0.0) for t in e.toks]
        total = sum(w)
        if total <= 0:
            continue
        hit: set[int] = set()
        got = 0.0
        for t, wt in zip(e.toks, w, strict=True):
            if wt <= 0:
                continue
            pos = [i for i, c in enumerate(claim_toks) if c == t or _prefix_match(c, t)]
            if pos:
                hit.add(pos[0])
                got += wt
        if hit and got / total >= PARTIAL_MIN and got >= 0.5:
            found.append((0.5 * got / total, e, hit))
    return found


def link(view: TableView, claim: str) -> list[Mention]:
    """The mentions of rows and columns in a claim, in claim order."""
    spans = token_spans(claim)
    claim_toks = [t for t, _, _ in spans]
    cands = sorted(_candidates(view, claim_toks), key=lambda x: (-x[0], -len(x[2]), x[1].name))
    taken: dict[int, tuple[float, str]] = {}  # token id -> (score, axis) that claimed it
    groups: dict[tuple[Axis, frozenset[int]], list[tuple[float, Entity]]] = {}
    for score, e, ids in cands:
        owners = {taken[i] for i in ids if i in taken}
        key = (e.axis, frozenset(ids))
        if key in groups:
            groups[key].append((score, e))  # the same words name several entities ('BLEU')
            continue
        if owners:
            continue
        groups[key] = [(score, e)]
        for i in ids:
            taken[i] = (score, e.axis)
    out = []
    for (axis, token_ids), members in groups.items():
        idx = tuple(sorted({i for _, e in members for i in e.indices}))
        first, last = min(token_ids), max(token_ids)
        out.append(
            Mention(
                axis,
                idx,
                tuple(e.name for _, e in members),
                spans[first][1],
                spans[last][2],
                members[0][0],
                token_ids,
            )
        )
    return sorted(out, key=lambda m: (m.start, m.axis))


def table_tokens(view: TableView) -> set[str]:
    """Every token of the table's names, cells and caption (for coverage features)."""
    out = set(tokens(view.table.caption))
    for name in view.columns:
        out.update(tokens(name))
    for row in view.cells:
        for c in row:
            out.update(tokens(c.text))
    return out


def label_numbers(view: TableView) -> set[float]:
    """Numbers written in the caption, the headers and the label cells (a claim quoting them
    is not quoting a result)."""
    texts = [view.table.caption, *view.columns]
    texts += [row[c].text for row in view.cells for c in view.label_cols if c < len(row)]
    return {float(x.replace(",", "")) for t in texts for x in _ANY_NUMBER.findall(normalize(t))}
