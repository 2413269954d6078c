"""Stated numbers checked on the table: is the number a cell in focus, or a value derived
from focus cells (a difference in points, a relative difference in percent, a ratio, a share
of a total, a mean or sum), a cell elsewhere, a number of the caption or labels, or nowhere.
Rounding follows the claim: '0.7' matches 0.66 to 0.74 only if written with one decimal."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from agents.verification.tables.checks import MAX_CELLS, Check, Focus, Outcome
from agents.verification.tables.linking import TableView, cell_numbers
from agents.verification.tables.text import NumberMention


def _close(x: float, n: NumberMention) -> bool:
    tol = 0.5 * 10 ** (-n.decimals) + 1e-9
    if n.bound == "gt":
        return x > n.value - tol
    if n.bound == "lt":
        return x < n.value + tol
    if n.bound == "approx":
        return abs(x - n.value) <= max(0.05 * abs(n.value), 2 * tol)
    return abs(x - n.value) <= tol or abs(x - n.value) < 10 ** (-n.decimals)  # rounded/truncated


def _scaled(x: float, n: NumberMention) -> list[float]:
    """A cell value as the claim might have written it: as is, as a percent of a fraction."""
    out = [abs(x)] if n.value >= 0 else [x]
    if n.unit == "%" and abs(x) <= 1.0:
        out.append(abs(x) * 100)
    return out


def _focus_values(view: TableView, f: Focus) -> dict[tuple[int, int], list[float]]:
    return {
        (r, c): cell_numbers(view.cells[r][c])
        for r in f.rows
        for c in f.cols
        if c < len(view.cells[r]) and view.value(r, c) is not None
    }


def _derived(view: TableView, f: Focus) -> Iterator[tuple[str, float, list[tuple[int, int]]]]:
    """Differences, relative differences and ratios of cell pairs in one row or column of the
    focus, and each focus row's and column's mean and sum."""
    lines = [[(r, c) for c in f.cols] for r in f.rows] + [[(r, c) for r in f.rows] for c in f.cols]
    for line in lines:
        known = [(rc, view.value(*rc)) for rc in line]
        known_v = [(rc, v) for rc, v in known if v is not None]
        for (p, a), (q, b) in combinations(known_v, 2):
            yield "diff", a - b, [p, q]
            if abs(a) <= 1 and abs(b) <= 1:  # fractions: a gain of 0.032 is '3.2%'
                yield "diff%", (a - b) * 100, [p, q]
            if b:
                yield "rel", (a - b) / abs(b) * 100, [p, q]
                yield "ratio", a / b, [p, q]
            if a:
                yield "rel", (b - a) / abs(a) * 100, [q, p]
                yield "ratio", b / a, [q, p]
        if len(known_v) > 1:
            vals = [v for _, v in known_v]
            total = sum(vals)
            yield "mean", total / len(vals), [rc for rc, _ in known_v]
            yield "sum", total, [rc for rc, _ in known_v]
            for rc, v in known_v:
                if total:
                    yield "share", v / total * 100, [rc]
                    yield "share", v / (total - v) * 100 if total != v else 0.0, [rc]


WANTED = {  # derived values a number with this unit may state
    "x": ("ratio",),
    "points": ("diff",),
    "%": ("diff", "diff%", "rel", "share", "mean"),
    "": ("diff", "mean", "sum"),
}
DERIVED_REL = 0.01  # a derived value may differ by 1%: papers compute from unrounded numbers
HOW = {"cell": 1.0, "derived": 2.0, "elsewhere": 3.0, "labels": 4.0, "none": 0.0}


def _locate(
    view: TableView, f: Focus, n: NumberMention, label_nums: set[float]
) -> tuple[str, str, list[tuple[int, int]], float]:
    """(where, what, cells, relative gap of the nearest candidate) for a stated number."""
    gap = float("inf")
    if n.unit in ("", "%"):
        for rc, nums in _focus_values(view, f).items():
            for s in (s for x in nums for s in _scaled(x, n)):
                if _close(s, n):
                    return "cell", "the cell", [rc], 0.0
                gap = min(gap, abs(s - n.value) / max(abs(n.value), 1e-9))
    for how, x, cells in _derived(view, f):
        if how in WANTED[n.unit]:
            x = x if how == "mean" else abs(x)
            if _close(x, n) or (n.bound == "eq" and abs(x - n.value) <= DERIVED_REL * abs(x)):
                return "derived", f"a {how}", cells, 0.0
            gap = min(gap, abs(x - n.value) / max(abs(n.value), 1e-9))
    anywhere = [
        (r, c)
        for r, row in enumerate(view.cells)
        for c, cell in enumerate(row)
        if any(_close(s, n) for x in cell_numbers(cell) for s in _scaled(x, n))
    ]
    if anywhere:
        return "elsewhere", "a cell outside the focus", anywhere[:MAX_CELLS], gap
    if any(abs(x - n.value) < 1e-9 for x in label_nums):
        return "labels", "in the caption or labels", [], gap
    return "none", "not in the table", [], gap


def check_number(view: TableView, f: Focus, n: NumberMention, label_nums: set[float]) -> Check:
    """Where the stated number comes from: a focus cell, a value derived from focus cells
    (difference, relative difference, ratio, share, mean, sum), elsewhere, or nowhere. A
    negated number ('is not 22.3') holds when it is not found."""
    where, what, cells, gap = _locate(view, f, n, label_nums)
    label = n.text + {"%": "%", "points": " points", "x": "x"}.get(n.unit, "")
    found = where in ("cell", "derived")
    outcome: Outcome = "unknown"
    if found or where == "none":
        outcome = "holds" if found != n.negated else "fails"
    score = {"holds": 1.0, "fails": 0.0, "unknown": 0.5}[outcome]
    text = f"{'not ' if n.negated else ''}{label}: {what}"
    return Check("number", text, outcome, score, cells, {"how": HOW[where], "gap": min(gap, 9.0)})
