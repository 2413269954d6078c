"""Claims' numbers checked against the tables of the papers read in full (issue 14, point 4).

Two questions, kept apart from the textual verification of `agents.verification.claims`:

- internal: does a figure a paper states in its abstract appear in one of its own tables, in
  a row or column the claim's words name (or as a difference/ratio of such cells)? An abstract
  figure that no table of the paper states is worth a reader's attention even when another
  source supports the sentence, because the number then rests on the abstract alone.
- cross: do other read-in-full papers report the same method on the same benchmark and metric
  in a table, and with the same value (agreement) or another one (conflict)?

Everything is deterministic and reuses the SciTab verifier's reading of a table (row/column
linking, number matching with the claim's rounding and % vs fraction), so every result cites
the cells it read by their printed location."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from agents.facets import benchmark_mentions, phrase_in
from agents.names import distinctive
from agents.verification.tables.checks import Focus
from agents.verification.tables.linking import Mention, TableView, cell_numbers, label_numbers, link

# the number matching of the checks; private there because the checks are its only other user
from agents.verification.tables.numbers import _close, _locate, _scaled
from agents.verification.tables.text import NumberMention, NumberUnit, claim_numbers, tokens
from memory.fulltext.model import Table
from memory.models import Claim, TableCell, TableCheck

MAX_CELLS = 6  # cells a check cites: enough to show where, not a copy of the table
# row names that stand for "the paper's own method" or an aggregate, not a named method
GENERIC_ROWS = frozenset(
    tokens("ours our proposed baseline baselines average avg mean total overall all method")
)


def _unit(raw: str | None) -> NumberUnit:
    u = (raw or "").strip().lower()
    if u in ("%", "percent", "percentage"):
        return "%"
    if u in ("x", "×", "times", "fold"):
        return "x"
    if u.startswith("point") or u in ("pp", "pt", "pts"):
        return "points"
    return ""


def stated_number(claim: Claim) -> NumberMention | None:
    """The claim's figure as its quote writes it (decimals and unit decide the rounding a
    cell may differ by); built from `value`/`unit` when the quote's reading misses it."""
    if claim.value is None:
        return None
    for n in claim_numbers(claim.quote or claim.text):
        if abs(n.value - claim.value) < 1e-9 and not n.negated:
            return n
    text = f"{claim.value:g}"
    decimals = len(text.split(".")[1]) if "." in text else 0
    return NumberMention(claim.value, decimals, _unit(claim.unit), "eq", 0, 0, text)


def figure(n: NumberMention) -> str:
    """'23.9%', '2.1x', '3 points', '512'."""
    return n.text + {"%": "%", "points": " points", "x": "x"}.get(n.unit, "")


def _cells(table: Table, view: TableView, at: Iterable[tuple[int, int]]) -> list[TableCell]:
    return [
        TableCell(location=table.cell_location(r, c), text=view.cells[r][c].text)
        for r, c in list(at)[:MAX_CELLS]
    ]


def _linked_focus(view: TableView, mentions: list[Mention]) -> Focus:
    """Only what the claim's words name: named rows across named columns, a named row across
    every value column, a named column down every data row; nothing when nothing is named."""
    rows = {i for m in mentions if m.axis == "row" for i in m.indices} & set(view.data_rows)
    cols = {i for m in mentions if m.axis == "col" for i in m.indices} & set(view.value_cols)
    if not rows and not cols:
        return Focus((), ())
    return Focus(
        tuple(sorted(rows or set(view.data_rows))), tuple(sorted(cols or set(view.value_cols)))
    )


def _matches(view: TableView, r: int, c: int, n: NumberMention) -> bool:
    """A cell states the figure: as written, as a percent of a fraction, or a fraction of a
    percent cell (the abstract's 0.239 against a table's 23.9%)."""
    cell = view.cells[r][c]
    for x in cell_numbers(cell):
        candidates = _scaled(x, n)
        if n.unit == "" and cell.unit == "%" and abs(n.value) <= 1:
            candidates.append(x / 100)
        if any(_close(s, n) for s in candidates):
            return True
    return False


def check_internal(claim: Claim, n: NumberMention, tables: Sequence[Table]) -> TableCheck:
    """Is the abstract's figure in its own paper's tables, where the claim's words point?"""
    base = {"claim_id": claim.id, "source_id": claim.source_id, "kind": "internal"}
    value = figure(n)
    if not tables:
        note = f"{claim.source_id} has no table to check the abstract's {value} against"
        return TableCheck(**base, status="no_tables", value=value, note=note)
    elsewhere: list[TableCell] = []
    for table in tables:
        view = TableView(table)
        if not view.cells:
            continue
        f = _linked_focus(view, link(view, claim.quote or claim.text))
        where, what, at, _ = _locate(view, f, n, label_numbers(view))
        if where in ("cell", "derived"):
            cells = _cells(table, view, at)
            note = f"the abstract's {value} is {what} of {table.name()}"
            return TableCheck(**base, status="supported", value=value, cells=cells, note=note)
        if where == "elsewhere":
            elsewhere += _cells(table, view, at)
    if elsewhere:
        note = (
            f"the abstract's {value} appears in a table of {claim.source_id}, but not in a row "
            "or column the claim names"
        )
        cells = elsewhere[:MAX_CELLS]
        return TableCheck(**base, status="unlinked", value=value, cells=cells, note=note)
    note = f"the abstract's {value} appears in no table of {claim.source_id}"
    return TableCheck(**base, status="not_found", value=value, note=note)


def _benchmarks(claim: Claim) -> list[str]:
    found = benchmark_mentions(claim.setting or "") + benchmark_mentions(claim.quote or "")
    return list(dict.fromkeys(found))


def _header(table: Table) -> str:
    return " ".join([table.caption, *table.column_names()])


def _is_method_name(name: str, skip: Sequence[str]) -> bool:
    """A name only a method has ('FlexMoE', 'GPT-4', 'Dense-3B'): a row called 'Dense' or
    'Ours' could be anyone's, and one called by the benchmark is not a method."""
    if not set(tokens(name)) - GENERIC_ROWS or any(phrase_in(s, name) for s in skip):
        return False
    return any(distinctive(w) or any(ch.isdigit() for ch in w) for w in name.split())


def _method_rows(view: TableView, mentions: list[Mention], skip: Sequence[str]) -> set[int]:
    """Rows the claim names exactly (all the name's words, in order) by a method's name."""
    rows: set[int] = set()
    for m in mentions:
        if m.axis != "row" or m.score < 1.0:
            continue
        names = [x for x in m.names if _is_method_name(x, skip)]
        if names:
            rows |= set(m.indices) & set(view.data_rows)
    return rows


def _metric_cols(view: TableView, benches: Sequence[str], metric: str) -> list[int]:
    """Value columns of the benchmark, else of the metric, else the only value column."""
    names = {c: view.column_name(c) for c in view.value_cols}
    by_bench = [
        c for c, name in names.items() if any(phrase_in(b, name, "benchmark") for b in benches)
    ]
    if by_bench:
        return by_bench
    by_metric = [c for c, name in names.items() if phrase_in(metric, name, "metric")]
    return by_metric or (list(view.value_cols) if len(view.value_cols) == 1 else [])


def check_cross(
    claim: Claim,
    n: NumberMention,
    others: Mapping[str, Sequence[Table]],
    seen: set[frozenset[tuple[str, float]]] | None = None,
) -> list[TableCheck]:
    """Other papers' tables on the claim's benchmark and metric that have a row naming the
    claim's method: agreement when a cell there states the figure, conflict otherwise. A
    conflict already recorded the other way round (B's table cell against A's claim, when
    A's table cell was the claim) is in `seen` and not repeated."""
    seen = set() if seen is None else seen
    benches = _benchmarks(claim)
    if not claim.metric or not benches or n.unit not in ("", "%") or n.bound != "eq":
        return []  # a gain ('6.2 points', '1.8x') or a bound is no table's cell
    value = figure(n)
    out: list[TableCheck] = []
    for sid, tables in others.items():
        if sid == claim.source_id:
            continue
        for table in tables:
            head = _header(table)
            if not phrase_in(claim.metric, head, "metric"):
                continue
            if not any(phrase_in(b, head, "benchmark") for b in benches):
                continue
            view = TableView(table)
            rows = _method_rows(view, link(view, claim.quote or claim.text), benches)
            cols = _metric_cols(view, benches, claim.metric)
            at = [(r, c) for r in sorted(rows) for c in cols if view.value(r, c) is not None]
            if not at:
                continue
            same = [(r, c) for r, c in at if _matches(view, r, c, n)]
            base = {"claim_id": claim.id, "source_id": sid, "kind": "cross", "value": value}
            if same:
                cells = _cells(table, view, same)
                note = f"{table.name()} of {sid} also gives {value} ({claim.metric})"
                out.append(TableCheck(**base, status="agreement", cells=cells, note=note))
            else:
                pair = frozenset(
                    {(claim.source_id, round(n.value, 6))}
                    | {(sid, round(view.value(r, c) or 0.0, 6)) for r, c in at}
                )
                if pair in seen:
                    continue
                seen.add(pair)
                cells = _cells(table, view, at)
                shown = ", ".join(f"{c.text} ({c.location})" for c in cells)
                note = (
                    f"{claim.source_id} states {value} ({claim.metric}, {', '.join(benches)}); "
                    f"{sid} gives {shown} (the settings may differ)"
                )
                out.append(TableCheck(**base, status="conflict", cells=cells, note=note))
    return out


def _in_abstract(claim: Claim) -> bool:
    """Abstract claims say so in `location`; older records only carry the sentence index."""
    if claim.location:
        return claim.location.startswith("Abstract")
    return claim.sentence_index is not None


def check_claim_tables(
    claims: Sequence[Claim],
    tables: Mapping[str, Sequence[Table]],
    abstract_only: Iterable[str] = (),
) -> list[TableCheck]:
    """Every numeric claim against the tables of the papers read in full (`tables`, by
    source id): abstract figures against their own paper's tables (sources in `abstract_only`
    are recorded as having no tables to check against), and claims naming a benchmark and a
    metric against the other papers' tables."""
    unread = set(abstract_only)
    out: list[TableCheck] = []
    seen: set[frozenset[tuple[str, float]]] = set()
    for claim in claims:
        n = stated_number(claim)
        if n is None:
            continue
        if _in_abstract(claim):
            if claim.source_id in tables:
                out.append(check_internal(claim, n, tables[claim.source_id]))
            elif claim.source_id in unread:
                note = f"{claim.source_id} was read from its abstract only: no table to check"
                out.append(
                    TableCheck(
                        claim_id=claim.id,
                        source_id=claim.source_id,
                        kind="internal",
                        status="no_tables",
                        value=figure(n),
                        note=note,
                    )
                )
        out += check_cross(claim, n, tables, seen)
    return out
