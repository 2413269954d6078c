"""Cell parsing and the table model: the numbers a table-claim verifier will compare."""

from __future__ import annotations

import pytest

from memory.fulltext import Cell, Table
from memory.fulltext.cells import parse_cell


@pytest.mark.parametrize(
    ("raw", "number", "unit", "pm"),
    [
        ("23.9%", 23.9, "%", None),
        ("23.9 %", 23.9, "%", None),
        ("\u22121.2", -1.2, None, None),  # unicode minus
        ("\u2013 3.4", -3.4, None, None),  # en dash typeset as a minus, with a gap
        ("85.3\u00b10.4", 85.3, None, 0.4),
        ("85.3 $\\pm$ 0.4", 85.3, None, 0.4),
        ("85.3 (\u00b10.4)", 85.3, None, 0.4),
        ("1,024", 1024.0, None, None),
        ("1,212,739", 1212739.0, None, None),
        ("3.5x", 3.5, "x", None),
        ("3.5\u00d7", 3.5, "x", None),
        ("12.0 ms", 12.0, "ms", None),
        ("42 tokens/s", 42.0, "tokens/s", None),
        ("110M", 110.0, "M", None),
        ("1.2e-3", 0.0012, None, None),
        (".5", 0.5, None, None),
        ("92.1*", 92.1, None, None),
        ("20.1$^\\dagger$", 20.1, None, None),
        ("$-$0.7", -0.7, None, None),
        ("47.24(0.49)", 47.24, None, None),  # a parenthesised figure that is not marked ±
    ],
)
def test_numbers_units_and_pm(raw: str, number: float, unit: str | None, pm: float | None) -> None:
    cell = parse_cell(raw)
    assert cell.number == pytest.approx(number)
    assert cell.unit == unit
    assert cell.pm == (pytest.approx(pm) if pm is not None else None)


@pytest.mark.parametrize(
    "raw", ["top-1", "BERT 85.3", "-", "N/A", "", "tokens/s", "0.5/0.7", "Table 2", "v2.1 beta"]
)
def test_cells_that_are_not_one_value_give_no_number(raw: str) -> None:
    assert parse_cell(raw).number is None


@pytest.mark.parametrize(
    ("raw", "text", "bold", "italic"),
    [
        ("\\textbf{23.9}", "23.9", True, False),
        ("{\\bf 12.3}", "12.3", True, False),
        ("[BOLD] 85.3", "85.3", True, False),
        ("[ITALIC] 0.5", "0.5", False, True),
        ("\\underline{\\textit{4.5}}", "4.5", False, True),
        ("\\multicolumn{2}{c}{\\textbf{71.2}}", "71.2", True, False),
        ("\\emph{LocalRetro}", "LocalRetro", False, True),
        ("plain", "plain", False, False),
    ],
)
def test_markup_removed_and_kept_as_flags(raw: str, text: str, bold: bool, italic: bool) -> None:
    cell = parse_cell(raw)
    assert (cell.text, cell.bold, cell.italic) == (text, bold, italic)


def test_scitab_shaped_table_and_cell_locations() -> None:
    table = Table.from_rows(
        ["Model", "top-1", "top-10"],
        [["LocalRetro", "[BOLD] 53.4", "92.4%"], ["GLN", "52.5", "[ITALIC] 93.2%"]],
        caption="Table 2: Retrosynthesis accuracy.",
        label="Table 2",
    )
    assert table.column_names() == ["Model", "top-1", "top-10"]
    best = table.rows[0][1]
    assert best.bold and best.number == pytest.approx(53.4)
    assert table.rows[1][2].italic and table.rows[1][2].unit == "%"
    assert table.cell_location(0, 1) == "Table 2, row LocalRetro, column top-1"
    assert table.cell_location(1, 2) == "Table 2, row GLN, column top-10"


def test_spanning_header_cells_name_every_column_they_cover() -> None:
    table = Table(
        id="t0",
        label="Table 1",
        header_rows=[
            [Cell.parse(""), Cell.parse("Citation", colspan=2)],
            [Cell.parse("Model"), Cell.parse("MAP"), Cell.parse("nDCG")],
        ],
        rows=[[Cell.parse("SPECTER"), Cell.parse("88.3"), Cell.parse("94.9")]],
    )
    assert table.column_names() == ["Model", "Citation / MAP", "Citation / nDCG"]
    assert table.cell_location(0, 2) == "Table 1, row SPECTER, column Citation / nDCG"
    grid = table.grid()
    assert [len(r) for r in grid] == [3, 3, 3]


def test_row_spans_fill_the_rows_below() -> None:
    table = Table(
        id="t1",
        rows=[
            [Cell.parse("Defenders", rowspan=2), Cell.parse("LB"), Cell.parse("Radebe")],
            [Cell.parse("DC"), Cell.parse("Duberry")],
        ],
    )
    grid = table.body_grid()
    assert [c.text for c in grid[1]] == ["Defenders", "DC", "Duberry"]
    assert table.cell_location(1, 2) == "table t1, row Defenders, column 3"
