"""The deterministic core on hand-made tables: which rows and columns a claim names, the
statements it makes, and what the table says about each (with the cells read)."""

from __future__ import annotations

import pytest

from agents.verification.tables.core import analyse
from agents.verification.tables.linking import TableView, link
from agents.verification.tables.text import claim_numbers
from memory.fulltext.model import Table

RESULTS = Table.from_rows(
    ["Model", "BLEU", "TER"],
    [
        ["Baseline", "25.1", "0.60"],
        ["Ours", "[BOLD] 27.4", "[BOLD] 0.55"],
        ["Ours w/o attention", "26.0", "0.58"],
    ],
    caption="Table 2: Translation results on WMT.",
    label="Table 2",
)
DATASETS = Table.from_rows(
    ["Method", "SNLI", "MNLI", "SICK"],
    [["BERT", "89.1", "84.0", "[BOLD] 86.2"], ["BERT + KB", "[BOLD] 90.3", "[BOLD] 85.1", "85.0"]],
    caption="Table 3: Accuracy (%).",
)
FRACTIONS = Table.from_rows(
    ["System", "Acc", "F1"],
    [["LR", "0.805", "0.780"], ["EasyAdapt", "0.873", "0.790"]],
)


def outcomes(claim: str, table: Table, kind: str) -> list[str]:
    return [c.outcome for c in analyse(claim, table).checks if c.kind == kind]


def test_links_longest_name_first_and_both_axes() -> None:
    view = TableView(RESULTS)
    found = {(m.axis, m.names) for m in link(view, "Ours w/o attention lowers BLEU against Ours")}
    assert ("row", ("Ours w/o attention",)) in found
    assert ("row", ("Ours",)) in found  # the second, separate mention
    assert ("col", ("BLEU",)) in found


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("Ours outperforms Baseline on BLEU.", "holds"),
        ("Baseline outperforms Ours on BLEU.", "fails"),
        ("Ours does not outperform Baseline on BLEU.", "fails"),
        ("Baseline does not outperform Ours on BLEU.", "holds"),
    ],
)
def test_comparison_direction_and_negation(claim: str, expected: str) -> None:
    assert outcomes(claim, RESULTS, "comparison") == [expected]


def test_lower_is_better_columns_flip_better_but_not_higher() -> None:
    assert outcomes("Ours is better than Baseline in TER.", RESULTS, "comparison") == ["holds"]
    assert outcomes("Ours has a higher TER than Baseline.", RESULTS, "comparison") == ["fails"]


def test_superlative_reads_the_extreme_and_the_bold_mark() -> None:
    best = analyse("Ours achieves the best BLEU score.", RESULTS).checks
    sup = [c for c in best if c.kind == "superlative"]
    assert [c.outcome for c in sup] == ["holds"]
    assert sup[0].detail["bold"] == 1.0
    assert (1, 1) in sup[0].cells  # Ours x BLEU, the cell it rests on
    assert outcomes("Baseline achieves the best BLEU score.", RESULTS, "superlative") == ["fails"]


def test_points_are_differences_and_percent_may_be_relative() -> None:
    assert outcomes("Ours improves BLEU by 2.3 points over Baseline.", RESULTS, "number") == [
        "holds"
    ]
    assert outcomes("Ours improves BLEU by 3.1 points over Baseline.", RESULTS, "number") == [
        "fails"
    ]
    # (27.4 - 25.1) / 25.1 = 9.16%: a relative gain, not a gain in points
    assert outcomes("Ours improves BLEU by 9.2% over Baseline.", RESULTS, "number") == ["holds"]
    assert outcomes("Ours improves BLEU by 9.2 points over Baseline.", RESULTS, "number") == [
        "fails"
    ]


def test_fraction_cells_match_percentages_at_the_claimed_precision() -> None:
    assert outcomes("EasyAdapt reaches 87.3% accuracy.", FRACTIONS, "number") == ["holds"]
    assert outcomes("EasyAdapt reaches 87.9% accuracy.", FRACTIONS, "number") == ["fails"]


def test_number_matched_records_its_cell() -> None:
    checks = analyse("Ours reaches 27.4 BLEU.", RESULTS).checks
    check = next(c for c in checks if c.kind == "number")
    assert check.outcome == "holds" and check.cells == [(1, 1)]


def test_negated_number() -> None:
    assert outcomes("The BLEU of Ours is not 27.4.", RESULTS, "number") == ["fails"]
    assert outcomes("The BLEU of Ours is not 28.0.", RESULTS, "number") == ["holds"]


def test_all_needs_every_column() -> None:
    claim_all = "BERT + KB outperforms BERT on all datasets."
    assert outcomes(claim_all, DATASETS, "comparison") == ["fails"]  # SICK: 85.0 < 86.2
    some = "BERT + KB outperforms BERT on SNLI and MNLI."
    assert outcomes(some, DATASETS, "comparison") == ["holds"]


def test_claim_numbers_skip_references_and_names() -> None:
    got = [(n.value, n.unit) for n in claim_numbers("Table 3 shows BLEU-4 of 27.4 and a 2x gain")]
    assert got == [(27.4, ""), (2.0, "x")]


def test_unknown_when_nothing_is_named() -> None:
    checks = analyse("Attention helps because it models long contexts.", RESULTS).checks
    assert all(c.outcome == "unknown" for c in checks)


HEADS = Table.from_rows(
    ["# Heads", "Accuracy", "Val. Loss"],
    [["1", "89.44%", "0.2811"], ["2", "91.20%", "0.2692"], ["4", "93.85%", "0.2481"]],
)


def test_trend_follows_the_rows_in_order() -> None:
    up = analyse("Accuracy increases as the number of heads grows.", HEADS)
    assert up.parsed.reasoning_type() == "trend"
    assert [c.outcome for c in up.checks if c.text.startswith("Accuracy")] == ["holds"]
    down = analyse("Accuracy decreases as the number of heads grows.", HEADS)
    assert [c.outcome for c in down.checks if c.text.startswith("Accuracy")] == ["fails"]
