"""Tables in a PDF page: found from their caption ("Table 3: ...") and the horizontal rules
drawn next to it (booktabs' top/mid/bottom rules, which nearly every LaTeX paper uses), or,
without rules, from the run of multi-cell rows beside the caption. Cells come from words:
column boundaries are the x-gaps no full row covers, so a multi-word cell ("Doc2vec (2014)")
stays whole while columns a few points apart are still told apart.

Known limits: a cell wrapped over two lines gives two rows; tables drawn as images have no
text to read; a table whose caption is not "Table N" is not looked for."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from memory.fulltext.cells import parse_number
from memory.fulltext.model import Cell
from memory.fulltext.pdf_layout import Line, Word

CAPTION = re.compile(r"^(Table|TABLE)\s*(\d+|[A-Z]\.?\d+)\s*[:.|]")
FIGURE_CAPTION = re.compile(r"^(Figure|FIGURE|Fig\.)\s*(\d+|[A-Z]\.?\d+)\s*[:.|]")
_MAX_RULE_GAP = 28.0  # points between a caption and the first rule of its table


@dataclass
class Rule:
    x0: float
    x1: float
    y: float


@dataclass
class FoundTable:
    """A table found on a page: where it is, its caption lines and its cells."""

    page: int
    top: float
    bottom: float
    caption_lines: list[Line]
    header_rows: list[list[Cell]] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    consumed: set[int] = field(default_factory=set)  # id() of lines that belong to it

    @property
    def caption(self) -> str:
        return " ".join(ln.text for ln in self.caption_lines)


def page_rules(page: Any) -> list[Rule]:
    """Horizontal rules drawn on a page (lines, and rectangles thinner than 2 pt)."""
    rules = [
        Rule(float(ln["x0"]), float(ln["x1"]), float(ln["top"]))
        for ln in page.lines
        if abs(ln["top"] - ln["bottom"]) < 1.5 and ln["x1"] - ln["x0"] > 20
    ]
    rules += [
        Rule(float(r["x0"]), float(r["x1"]), float(r["top"]))
        for r in page.rects
        if r["height"] < 2 and r["width"] > 20
    ]
    return sorted(rules, key=lambda r: r.y)


def caption_block(lines: Sequence[Line], start: int) -> list[Line]:
    """The caption starting at lines[start]: following lines of the same column and size with
    no paragraph-sized gap."""
    block = [lines[start]]
    for ln in lines[start + 1 :]:
        prev = block[-1]
        aligned = ln.col == prev.col or abs(ln.x0 - block[0].x0) < 3
        if ln.page != prev.page or not aligned or abs(ln.size - prev.size) > 0.6:
            break
        if ln.top - prev.bottom > 0.6 * prev.size or ln.top < prev.top:
            break
        block.append(ln)
    return block


def _span(cap: Sequence[Line], gutter: float | None, width: float) -> tuple[float, float]:
    """Horizontal extent the table may occupy: the caption's column, or the page."""
    col = cap[0].col
    if gutter is None or col == -1:
        return 0.0, width
    return (0.0, gutter) if col == 0 else (gutter, width)


def _overlaps(r: Rule, lo: float, hi: float) -> bool:
    inside = min(r.x1, hi) - max(r.x0, lo)
    return inside >= 0.6 * (r.x1 - r.x0)


def _is_prose(ln: Line, width: float, body: float) -> bool:
    return abs(ln.size - body) < 0.6 and ln.x1 - ln.x0 > 0.8 * width and len(ln.words) > 8


def _rule_bounds(
    cap: Sequence[Line],
    rules: Sequence[Rule],
    lines: Sequence[Line],
    span: tuple[float, float],
    body: float,
) -> tuple[float, float, list[Rule]] | None:
    """(top, bottom, rules) of the ruled table beside the caption, or None."""
    lo, hi = span
    mine = [r for r in rules if _overlaps(r, lo, hi)]
    cap_top, cap_bottom = cap[0].top, cap[-1].bottom
    above = [r for r in mine if r.y <= cap_top + 2 and cap_top - r.y <= _MAX_RULE_GAP]
    below = [r for r in mine if r.y >= cap_bottom - 2 and r.y - cap_bottom <= _MAX_RULE_GAP]
    if not above and not below:
        return None
    up = bool(above) and (
        not below or cap_top - max(r.y for r in above) <= min(r.y for r in below) - cap_bottom
    )
    first = max(above, key=lambda r: r.y) if up else min(below, key=lambda r: r.y)
    chain = [first]
    others = sorted(
        (r for r in mine if (r.y < first.y if up else r.y > first.y)),
        key=lambda r: -r.y if up else r.y,
    )
    for r in others:
        lo_y, hi_y = sorted((chain[-1].y, r.y))
        between = [ln for ln in lines if lo_y < ln.top < hi_y and ln.x0 < hi and ln.x1 > lo]
        if any(_is_prose(ln, first.x1 - first.x0, body) for ln in between):
            break
        if any(CAPTION.match(ln.text) or FIGURE_CAPTION.match(ln.text) for ln in between):
            break
        if r.x0 < first.x0 - 15 or r.x1 > first.x1 + 15:
            break
        chain.append(r)
    width = first.x1 - first.x0
    while len(chain) > 1 and chain[-1].x1 - chain[-1].x0 < 0.8 * width:
        chain.pop()  # a table ends at a full rule, not at a partial (cmidrule) one
    if len(chain) < 2:
        return None
    ys = [r.y for r in chain]
    return min(ys), max(ys), sorted(chain, key=lambda r: r.y)


def _unruled_bounds(
    cap: Sequence[Line], lines: Sequence[Line], span: tuple[float, float], body: float
) -> tuple[float, float] | None:
    """Rows of several cells right above or below the caption, when no rules are drawn."""
    lo, hi = span
    cap_ids = {id(c) for c in cap}
    inside = [ln for ln in lines if lo <= ln.x0 < hi and id(ln) not in cap_ids]
    for up in (False, True):
        cands = sorted(
            (ln for ln in inside if (ln.bottom <= cap[0].top if up else ln.top >= cap[-1].bottom)),
            key=lambda ln: -ln.top if up else ln.top,
        )
        rows = _group_rows(cands)
        taken: list[list[Line]] = []
        edge = cap[0].top if up else cap[-1].bottom
        for row in rows:
            gap = (
                (edge - max(ln.bottom for ln in row)) if up else (min(ln.top for ln in row) - edge)
            )
            if gap > 2.5 * body or len(row) < 2 or any(_is_prose(ln, hi - lo, body) for ln in row):
                break
            taken.append(row)
            edge = min(ln.top for ln in row) if up else max(ln.bottom for ln in row)
        if len(taken) >= 2:
            tops = [ln.top for row in taken for ln in row]
            bottoms = [ln.bottom for row in taken for ln in row]
            return min(tops) - 1, max(bottoms) + 1
    return None


def _group_rows(lines: Sequence[Line]) -> list[list[Line]]:
    """Lines at the same height form one row (kept in the order given)."""
    rows: list[list[Line]] = []
    for ln in lines:
        centre = (ln.top + ln.bottom) / 2
        for row in rows:
            rc = (row[0].top + row[0].bottom) / 2
            if abs(rc - centre) <= 0.5 * max(ln.size, row[0].size):
                row.append(ln)
                break
        else:
            rows.append([ln])
    return rows


def _coverage(rows: Sequence[Sequence[Word]], lo: int, width: int) -> list[int]:
    """For each x (1 pt steps from lo), how many rows have a word over it."""
    cover = [0] * width
    for r in rows:
        hit = [False] * width
        for w in r:
            for x in range(max(0, int(w.x0) - lo), min(int(w.x1) - lo + 1, width)):
                hit[x] = True
        for x, h in enumerate(hit):
            cover[x] += h
    return cover


def _side_kinds(rows: Sequence[Sequence[Word]], a: float, b: float, body: float) -> int:
    """How many sides of the band [a, b] hold numbers in most rows (0, 1 or 2): number
    columns are set closer together than the words of a text cell are."""
    both = left_num = right_num = 0
    for r in rows:
        left = [w for w in r if a - body <= w.x1 <= a + 1]
        right = [w for w in r if b - 1 <= w.x0 <= b + body]
        if left and right:
            both += 1
            wl, wr = max(left, key=lambda w: w.x1), min(right, key=lambda w: w.x0)
            left_num += parse_number(wl.text)[0] is not None
            right_num += parse_number(wr.text)[0] is not None
    if not both:
        return 0
    return (left_num >= 0.6 * both) + (right_num >= 0.6 * both)


def _columns(rows: Sequence[Sequence[Word]], body: float) -> list[float]:
    """x positions separating columns: bands that (nearly) no row covers with a word, half an
    em wide between words, 0.3 em beside a number column, 0.15 em between two number columns
    (tight number columns are set closer than the words of a text cell are), with words
    after it in at least 30% of the rows. A row spanning columns is tolerated when it is one
    in ten; in a results table only rows with numbers count."""
    multi = [r for r in rows if len(r) >= 2]
    if not multi:
        return []
    numeric = [r for r in multi if sum(bool(re.search(r"\d", w.text)) for w in r) >= 2]
    if len(numeric) >= max(2, len(multi) // 2):
        multi = numeric  # group titles spanning the columns of a results table carry no numbers
    lo = int(min(w.x0 for r in multi for w in r))
    hi = int(max(w.x1 for r in multi for w in r)) + 1
    cover = _coverage(multi, lo, hi - lo + 1)
    allowed = len(multi) // 10
    seps: list[float] = []
    start: int | None = None
    for x, n in enumerate(cover + [len(multi) + 1]):
        if n <= allowed and start is None:
            start = x
        elif n > allowed and start is not None:
            a, b, wide = lo + start, lo + x, x - start
            need = (0.5, 0.3, 0.15)[_side_kinds(multi, a, b, body)] if wide < 0.5 * body else 0
            after = sum(1 for r in multi if any(w.x0 >= b - 1 for w in r))
            if start > 0 and wide >= need * body and after >= 0.3 * len(multi):
                seps.append((a + b) / 2)
            start = None
    return seps


def _cells(words: Sequence[Word], seps: Sequence[float]) -> list[Cell]:
    """One row's cells on the column grid; a word group crossing separators spans them."""

    def col(x: float) -> int:
        return sum(1 for s in seps if x > s)

    groups: list[tuple[int, int, list[Word]]] = []
    for w in sorted(words, key=lambda w: w.x0):
        a, b = col(w.x0 + 1), col(w.x1 - 1)
        if groups and a <= groups[-1][1]:
            start, end, ws = groups[-1]
            groups[-1] = (start, max(end, b), ws + [w])
        else:
            groups.append((a, b, [w]))
    out: list[Cell] = []
    c = 0
    for start, end, ws in groups:
        out.extend(Cell(text="") for _ in range(c, start))
        text = " ".join(w.text for w in ws)
        letters = [w for w in ws if re.search(r"\w", w.text)]
        out.append(
            Cell.parse(
                text,
                bold=bool(letters) and all(w.bold for w in letters),
                italic=bool(letters) and all(w.italic for w in letters),
                colspan=end - start + 1,
            )
        )
        c = end + 1
    out.extend(Cell(text="") for _ in range(c, len(seps) + 1))
    return out


def _fill(
    table: FoundTable, lines: Sequence[Line], lo: float, hi: float, rules: list[Rule], body: float
) -> None:
    """Read the cells of the lines inside the table's box."""
    cap_ids = {id(c) for c in table.caption_lines}
    inside = [
        ln
        for ln in lines
        if table.top - 1 <= (ln.top + ln.bottom) / 2 <= table.bottom + 1
        and lo <= (ln.x0 + ln.x1) / 2 <= hi
        and id(ln) not in cap_ids
    ]
    table.consumed.update(id(ln) for ln in inside)
    rows = sorted(_group_rows(sorted(inside, key=lambda ln: ln.top)), key=lambda r: r[0].top)
    word_rows = [[w for ln in row for w in ln.words] for row in rows]
    full = (
        [r for r in rules if r.x1 - r.x0 >= 0.8 * max(x.x1 - x.x0 for x in rules)] if rules else []
    )
    head_end = full[1].y if len(full) >= 3 else None
    body_words = [
        words
        for k, (row, words) in enumerate(zip(rows, word_rows, strict=True))
        if (row[0].top > head_end if head_end is not None else k > 0)
    ]
    # columns from the body rows: header cells span several columns and would hide the gaps
    seps = _columns(body_words if len(body_words) >= 2 else word_rows, body)
    body_rows: list[tuple[float, list[Cell]]] = []
    for k, (row, words) in enumerate(zip(rows, word_rows, strict=True)):
        cells = _cells(words, seps)
        # without a mid rule, the first row names the columns
        is_head = row[0].top < head_end if head_end is not None else k == 0 and len(rows) > 1
        if is_head and not body_rows:
            table.header_rows.append(cells)
        else:
            body_rows.append((row[0].top, cells))
    table.rows = _merge_wrapped(body_rows)


def _merge_wrapped(rows: list[tuple[float, list[Cell]]]) -> list[list[Cell]]:
    """Join the lines of cells wrapped over several lines. Only when row spacing is clearly
    two-valued (lines of one row close together, rows further apart) and neither line holds a
    number: with even spacing there is no telling a wrapped cell from the next row, and rows
    stay as printed."""
    if len(rows) < 3:
        return [cells for _, cells in rows]
    gaps = [b[0] - a[0] for a, b in zip(rows, rows[1:], strict=False)]
    small = min(gaps)
    if small <= 0 or max(gaps) < 1.4 * small:
        return [cells for _, cells in rows]
    merged: list[list[Cell]] = [rows[0][1]]
    for gap, (_, cells) in zip(gaps, rows[1:], strict=True):
        prev = merged[-1]
        plain = all(c.colspan == 1 and c.number is None for c in prev + cells)
        plain = plain and len(prev) == len(cells)  # rows of numbers are never wrapped text
        if gap < 1.2 * small and plain:
            merged[-1] = [_join(a, b) for a, b in zip(prev, cells, strict=True)]
        else:
            merged.append(cells)
    return merged


def _join(a: Cell, b: Cell) -> Cell:
    if not b.text:
        return a
    if not a.text:
        return b
    text = a.text[:-1] + b.text if re.search(r"[a-z]-$", a.text) else f"{a.text} {b.text}"
    return Cell.parse(text, bold=a.bold and b.bold, italic=a.italic and b.italic)


def find_tables(
    rules: Sequence[Rule],
    width: float,
    lines: Sequence[Line],
    gutter: float | None,
    page_no: int,
    body: float,
) -> list[FoundTable]:
    """Tables on one page, each with the ids of the lines it takes out of the text flow."""
    found: list[FoundTable] = []
    for i, ln in enumerate(lines):
        if not CAPTION.match(ln.text):
            continue
        cap = caption_block(lines, i)
        span = _span(cap, gutter, width)
        ruled = _rule_bounds(cap, rules, lines, span, body)
        if ruled is not None:
            top, bottom, chain = ruled
            lo, hi = min(r.x0 for r in chain) - 2, max(r.x1 for r in chain) + 2
        else:
            plain = _unruled_bounds(cap, lines, span, body)
            if plain is None:
                table = FoundTable(page_no, cap[0].top, cap[-1].bottom, cap)
                table.consumed.update(id(c) for c in cap)
                found.append(table)
                continue
            (top, bottom), chain = plain, []
            lo, hi = span
        table = FoundTable(page_no, top, bottom, cap)
        table.consumed.update(id(c) for c in cap)
        _fill(table, lines, lo, hi, chain, body)
        found.append(table)
    return found
