"""The deterministic core, end to end: read the table, parse the claim into statements,
check each statement on the table, and turn the checks into the model's inputs. Nothing here
is learned; the same claim and table always give the same checks and features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from agents.verification.tables.checks import (
    Check,
    check_comparison,
    check_equality,
    check_superlative,
    check_trend,
    focus,
)
from agents.verification.tables.data import TableClaim, table_from_scitab
from agents.verification.tables.features import vector
from agents.verification.tables.linking import TableView, label_numbers
from agents.verification.tables.model import Inputs
from agents.verification.tables.numbers import check_number
from agents.verification.tables.statements import ParsedClaim, parse
from agents.verification.tables.verdict import CheckView, UsedCell
from memory.fulltext.model import Table


@dataclass
class Analysis:
    """One claim read against one table."""

    view: TableView
    parsed: ParsedClaim
    checks: list[Check]

    def features(self) -> np.ndarray:
        return vector(self.view, self.parsed, self.checks)

    def check_views(self) -> list[CheckView]:
        return [
            CheckView(
                kind=c.kind,
                text=c.text,
                outcome=c.outcome,
                cells=[used_cell(self.view, r, col) for r, col in c.cells],
            )
            for c in self.checks
        ]


def used_cell(view: TableView, row: int, col: int) -> UsedCell:
    return UsedCell(
        row=row,
        column=col,
        row_name=view.row_name(row),
        column_name=view.column_name(col),
        text=view.cells[row][col].text,
        location=view.table.cell_location(row, col),
    )


def evaluate(view: TableView, pc: ParsedClaim, label_nums: set[float]) -> list[Check]:
    """Every statement of the claim, checked."""
    f = focus(view, pc)
    out = [check_number(view, f, n, label_nums) for n in pc.numbers]
    out += [check_comparison(view, pc, f, c) for c in pc.comparisons]
    out += [check_superlative(view, pc, f, s) for s in pc.superlatives]
    out += [check_trend(view, pc, f, t) for t in pc.trends]
    out += [check_equality(view, pc, f, e) for e in pc.equalities]
    return out


@dataclass
class _Prepared:
    view: TableView
    label_nums: set[float]


def _prepare(table: Table) -> _Prepared:
    view = TableView(table)
    return _Prepared(view, label_numbers(view))


def analyse(claim: str, table: Table, prepared: _Prepared | None = None) -> Analysis:
    """Parse and check `claim` against `table`."""
    p = prepared or _prepare(table)
    pc = parse(p.view, claim)
    return Analysis(p.view, pc, evaluate(p.view, pc, p.label_nums))


@lru_cache(maxsize=256)
def _prepared_for(
    columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...], caption: str
) -> _Prepared:
    return _prepare(table_from_scitab(columns, rows, caption))


def analyse_claim(c: TableClaim) -> Analysis:
    """A SciTab claim (its table read once per distinct table)."""
    p = _prepared_for(c.columns, c.rows, c.caption)
    return analyse(c.claim, p.view.table, p)


def inputs(analyses: Sequence[Analysis]) -> Inputs:
    """Model inputs for a batch of analysed claims."""
    dense = np.vstack([a.features() for a in analyses]) if analyses else np.zeros((0, 0))
    return Inputs([a.parsed.claim for a in analyses], dense)
