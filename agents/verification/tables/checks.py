"""Each statement of a parsed claim evaluated on the table: does the comparison hold on the
columns the claim names, is the subject the extreme (and bold) one, does a stated number
appear as a cell, a difference, a ratio or an average of the cells in focus. A check records
its outcome, a score (the share of the table's evidence agreeing with the claim as stated,
negation included) and the cells it read, so a verdict can show its work."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from agents.verification.tables.linking import Axis, Mention, TableView
from agents.verification.tables.statements import (
    Comparison,
    Equality,
    ParsedClaim,
    Superlative,
    Trend,
)
from agents.verification.tables.text import (
    HIGHER_METRIC,
    LOWER_IS_BETTER,
    normalize,
)

Outcome = Literal["holds", "fails", "unknown"]
Kind = Literal["number", "comparison", "superlative", "trend", "equality"]
EQUAL_REL = 0.03  # values within 3% of each other count as "the same"
MAX_CELLS = 24  # cells a check records (enough to show; a big table is not copied whole)


@dataclass
class Check:
    kind: Kind
    text: str
    outcome: Outcome
    score: float = 0.5
    cells: list[tuple[int, int]] = field(default_factory=list)
    detail: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Focus:
    rows: tuple[int, ...]
    cols: tuple[int, ...]


def combine(sets: list[set[int]]) -> set[int]:
    """Mentions of one axis: overlapping ones narrow each other ('AME' within 'symmetric'),
    disjoint ones add up ('turns' and 'match rate')."""
    groups: list[set[int]] = []
    for s in sets:
        for i, g in enumerate(groups):
            if g & s:
                groups[i] = g & s
                break
        else:
            groups.append(set(s))
    return set().union(*groups) if groups else set()


def focus(view: TableView, pc: ParsedClaim) -> Focus:
    """The rows and columns the claim is about (all data rows / value columns if unnamed)."""
    data = set(view.data_rows)
    rows = combine([set(m.indices) for m in pc.mentions if m.axis == "row"]) & data
    cols = combine([set(m.indices) for m in pc.mentions if m.axis == "col"])
    cols &= set(view.value_cols)
    return Focus(tuple(sorted(rows or data)), tuple(sorted(cols or view.value_cols)))


def _val(view: TableView, axis: Axis, i: int, j: int) -> float | None:
    return view.value(i, j) if axis == "row" else view.value(j, i)


def _cell(axis: Axis, i: int, j: int) -> tuple[int, int]:
    return (i, j) if axis == "row" else (j, i)


def _lower_better(view: TableView, axis: Axis, i: int, j: int) -> bool:
    """Is lower better for the value at entity i, other-axis position j?"""
    if axis == "row":
        return view.lower_better[j]
    name = normalize(view.row_name(j))
    return bool(LOWER_IS_BETTER.search(name)) or view.lower_better[i]


def _others(view: TableView, axis: Axis, f: Focus, metric: tuple[int, ...] = ()) -> tuple[int, ...]:
    """The other-axis positions to read: the clause's metric if it names one, else the focus."""
    pool = f.cols if axis == "row" else f.rows
    valid = set(view.value_cols) if axis == "row" else set(view.data_rows)
    named = tuple(i for i in metric if i in valid)
    return named or pool


def _section(view: TableView, r: int) -> int:
    return next((h for h, under in view.sections.items() if r in under), -1)


def _refine(view: TableView, m: Mention, pc: ParsedClaim) -> list[int]:
    """The mention's indices narrowed by other mentions overlapping it ('AME' in 'symmetric'),
    restricted to data rows."""
    idx = set(m.indices)
    for other in pc.mentions:
        if other.axis == m.axis and other is not m:
            narrowed = idx & set(other.indices)
            if narrowed and narrowed != idx:
                idx = narrowed
    if m.axis == "row":
        idx &= set(view.data_rows)
    return sorted(idx)


def _key(view: TableView, axis: Axis, i: int, names: tuple[str, ...]) -> tuple[str, ...]:
    """What else labels row/column i besides the mention's own name: its section and other
    label cells (rows), or its other header parts (columns)."""
    if axis == "row":
        parts = [view.cells[i][c].text for c in view.label_cols if c < len(view.cells[i])]
        return (str(_section(view, i)), *(p for p in parts if p and p not in names))
    return tuple(p for p in view.columns[i].split(" / ") if p and p not in names)


def _aligned(
    view: TableView, axis: Axis, a: list[int], b: list[int], names: tuple[tuple[str, ...], ...]
) -> list[tuple[int, int]]:
    """Pairs (a_i, b_j) to compare: those labelled alike apart from the names the claim
    contrasts ('Giga / Threshold' with 'Giga / Baseline'), else every pair."""
    na, nb = names
    ka = {x: _key(view, axis, x, na) for x in a}
    kb = {y: _key(view, axis, y, nb) for y in b}
    same = [(x, y) for x in a for y in b if x != y and ka[x] == kb[y]]
    return same or [(x, y) for x in a for y in b if x != y]


_ABLATION = ("+", "-", "w/", "w/o", "without", "with ", "no ", "−")


def _base_rows(view: TableView, rows: list[int]) -> list[int]:
    """For ablation rows ('+RelProp', 'w/o attention') the nearest row above without such a
    prefix: the model they modify."""
    out = []
    for r in rows:
        if not view.row_name(r).lower().startswith(_ABLATION):
            return []
        above = [
            x
            for x in view.data_rows
            if x < r and not view.row_name(x).lower().startswith(_ABLATION)
        ]
        if above:
            out.append(above[-1])
    return sorted(set(out))


def _metrics(view: TableView, col: int) -> set[str]:
    name = normalize(view.columns[col])
    found = {m.group(0) for m in HIGHER_METRIC.finditer(name)}
    return found | {m.group(0) for m in LOWER_IS_BETTER.finditer(name)}


def _comparable_columns(view: TableView, a: list[int], b: list[int]) -> bool:
    """Columns measuring different things (success rate vs turns) are not compared."""
    ma = set().union(*(_metrics(view, c) for c in a)) if a else set()
    mb = set().union(*(_metrics(view, c) for c in b)) if b else set()
    return not (ma and mb and not ma & mb)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _meets(raw: float, quantifier: str) -> bool:
    return raw >= 1.0 - 1e-9 if quantifier == "all" else raw > 0.5


def _directional(
    view: TableView, axis: Axis, pairs: list[tuple[int, int]], others: tuple[int, ...], sense: str
) -> Iterator[tuple[int, float, float, int, int, int]]:
    for a, b in pairs:
        for j in others:
            va, vb = _val(view, axis, a, j), _val(view, axis, b, j)
            if va is None or vb is None:
                continue
            s = _sign(va - vb)
            if sense == "goodness" and _lower_better(view, axis, a, j):
                s = -s
            yield s, va, vb, a, b, j


def check_comparison(view: TableView, pc: ParsedClaim, f: Focus, c: Comparison) -> Check:
    axis = c.subject.axis
    a = _refine(view, c.subject, pc)
    if c.obj is not None:
        b = _refine(view, c.obj, pc)
    elif axis == "col":  # a column alone is a metric ('boosts F1'): no one to compare
        return Check("comparison", f"{c.trigger.word}: nothing to compare with", "unknown")
    else:  # "X improves": against its base row, else the other rows in focus
        b = _base_rows(view, a) or [i for i in f.rows if i not in a]
    if axis == "col" and not _comparable_columns(view, a, b):
        return Check("comparison", f"{c.trigger.word}: different metrics", "unknown")
    out_same = {i for m in c.excluded if m.axis == axis for i in m.indices}
    out_other = {i for m in c.excluded if m.axis != axis for i in m.indices}
    b = [i for i in b if i not in out_same]
    names = (c.subject.names, c.obj.names if c.obj else ())
    pairs = _aligned(view, axis, a, b, names)
    others = tuple(j for j in _others(view, axis, f, c.metric) if j not in out_other)
    seen = list(_directional(view, axis, pairs, others, c.trigger.sense))
    if not seen:
        return Check("comparison", f"{c.trigger.word}: no comparable values", "unknown")
    agree = sum(s == c.trigger.direction for s, *_ in seen) / len(seen)
    gaps = [abs(va - vb) / max(abs(vb), 1e-9) for _, va, vb, *_ in seen]
    ok = _meets(agree, c.quantifier) != c.trigger.negated
    cells = [x for *_, ai, bi, j in seen for x in (_cell(axis, ai, j), _cell(axis, bi, j))]
    neg = "not " if c.trigger.negated else ""
    text = (
        f"{'/'.join(c.subject.names)} {neg}{c.trigger.word} "
        f"{'/'.join(c.obj.names) if c.obj else 'the others'}: "
        f"{sum(s == c.trigger.direction for s, *_ in seen)}/{len(seen)} value pairs agree"
    )
    detail = {
        "agree": agree,
        "support": 1 - agree if c.trigger.negated else agree,
        "gap": sum(gaps) / len(gaps),
        "pairs": float(len(seen)),
        "has_object": float(c.obj is not None),
        "small": float(c.magnitude == "small"),
        "large": float(c.magnitude == "large"),
    }
    return Check(
        "comparison", text, "holds" if ok else "fails", detail["support"], cells[:MAX_CELLS], detail
    )


def _extreme_dir(s: Superlative) -> tuple[str, int]:
    return s.trigger.sense, s.trigger.direction


def _bold_lines(view: TableView, axis: Axis, f: Focus) -> tuple[int, ...]:
    """With no metric named, the columns (rows) where the table marks a winner in bold: a
    results table bolds its metrics, not its hyper-parameters."""
    pool = f.cols if axis == "row" else f.rows
    marked = []
    for j in pool:
        line = [view.cells[r][j] for r in f.rows] if axis == "row" else view.cells[j]
        if any(c.bold for c in line):
            marked.append(j)
    return tuple(marked)


def check_superlative(view: TableView, pc: ParsedClaim, f: Focus, s: Superlative) -> Check:
    if s.subject is None:
        return Check("superlative", f"{s.trigger.word}: nothing named", "unknown")
    axis = s.subject.axis
    subj = _refine(view, s.subject, pc)
    pool = list(f.rows if axis == "row" else f.cols)
    if axis == "row":  # compare within the subject's section when the table has sections
        secs = {_section(view, r) for r in subj}
        pool = [r for r in view.data_rows if _section(view, r) in secs] or pool
    sense, direction = _extreme_dir(s)
    hits = bold = n = 0
    cells: list[tuple[int, int]] = []
    for j in _others(view, axis, f, s.metric or _bold_lines(view, axis, f)):
        vals = {i: _val(view, axis, i, j) for i in set(pool) | set(subj)}
        known = {i: v for i, v in vals.items() if v is not None}
        mine = [i for i in subj if i in known]
        if len(known) < 2 or not mine:
            continue
        flip = sense == "goodness" and _lower_better(view, axis, mine[0], j)
        want = -direction if flip else direction
        target = max(known.values()) if want > 0 else min(known.values())
        n += 1
        hits += any(known[i] == target for i in mine)
        r, c = _cell(axis, mine[0], j)
        bold += view.cells[r][c].bold
        best = next(i for i, v in known.items() if v == target)
        cells += [(r, c), _cell(axis, best, j)]
    if n == 0:
        return Check("superlative", f"{s.trigger.word}: no comparable values", "unknown")
    raw = hits / n
    neg = s.trigger.negated
    ok = _meets(raw, s.quantifier) != neg
    name = "/".join(s.subject.names)
    detail = {"agree": raw, "support": 1 - raw if neg else raw, "bold": bold / n}
    text = f"{name} {'not ' if neg else ''}{s.trigger.word}: extreme in {hits}/{n}, bold {bold}"
    return Check(
        "superlative",
        text,
        "holds" if ok else "fails",
        detail["support"],
        cells[:MAX_CELLS],
        detail,
    )


def check_trend(view: TableView, pc: ParsedClaim, f: Focus, t: Trend) -> Check:
    if t.subject is None:
        return Check("trend", f"{t.trigger.word}: nothing named", "unknown")
    axis = t.subject.axis
    i = _refine(view, t.subject, pc)[:1]
    others = _others(view, axis, f, t.metric)
    series = [(j, _val(view, axis, i[0], j)) for j in others] if i else []
    pts = [(j, v) for j, v in series if v is not None]
    if len(pts) < 2:
        return Check("trend", f"{t.trigger.word}: fewer than 2 values", "unknown")
    steps = [_sign(b[1] - a[1]) for a, b in zip(pts, pts[1:], strict=False)]
    raw = sum(s == t.trigger.direction for s in steps) / len(steps)
    ok = (raw > 0.5) != t.trigger.negated
    cells = [_cell(axis, i[0], j) for j, _ in pts]
    detail = {"agree": raw, "support": 1 - raw if t.trigger.negated else raw}
    text = f"{'/'.join(t.subject.names)} {t.trigger.word}: {raw:.0%} of steps agree"
    return Check(
        "trend", text, "holds" if ok else "fails", detail["support"], cells[:MAX_CELLS], detail
    )


def check_equality(view: TableView, pc: ParsedClaim, f: Focus, e: Equality) -> Check:
    axis = e.subject.axis
    a, b = _refine(view, e.subject, pc), _refine(view, e.obj, pc)
    pairs = _aligned(view, axis, a, b, (e.subject.names, e.obj.names))
    seen = list(_directional(view, axis, pairs, _others(view, axis, f, e.metric), "value"))
    if not seen:
        return Check("equality", f"{e.word}: no comparable values", "unknown")
    close = [abs(va - vb) <= EQUAL_REL * max(abs(va), abs(vb), 1e-9) for _, va, vb, *_ in seen]
    raw = sum(close) / len(close)
    ok = (raw > 0.5) != e.negated
    cells = [x for *_, a, b, j in seen for x in (_cell(axis, a, j), _cell(axis, b, j))]
    detail = {"agree": raw, "support": 1 - raw if e.negated else raw}
    text = f"{'/'.join(e.subject.names)} {e.word} {'/'.join(e.obj.names)}: {raw:.0%} close"
    return Check(
        "equality", text, "holds" if ok else "fails", detail["support"], cells[:MAX_CELLS], detail
    )
