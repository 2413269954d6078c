"""SciTab's metrics on inputs worked out by hand."""

from __future__ import annotations

import pytest

from agents.verification.tables.data import TableClaim
from agents.verification.tables.metrics import (
    Prediction,
    confusion,
    macro_f1,
    per_class,
    report,
)

LABELS3 = ("supports", "refutes", "not enough info")


def test_per_class_and_macro_f1() -> None:
    gold = ["supports", "supports", "refutes", "refutes", "not enough info"]
    pred = ["supports", "refutes", "refutes", "refutes", "supports"]
    pc = per_class(gold, pred, LABELS3)
    assert pc["supports"].precision == pytest.approx(0.5)
    assert pc["supports"].recall == pytest.approx(0.5)
    assert pc["refutes"].precision == pytest.approx(2 / 3)
    assert pc["refutes"].recall == pytest.approx(1.0)
    assert pc["not enough info"].f1 == 0.0  # gold but never predicted: counts as 0
    assert macro_f1(gold, pred, LABELS3) == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_a_class_absent_from_gold_and_predictions_is_left_out() -> None:
    gold = ["supports", "refutes"]
    pred = ["supports", "supports"]
    assert macro_f1(gold, pred, LABELS3) == pytest.approx((2 / 3 + 0.0) / 2)


def test_confusion_rows_are_gold() -> None:
    m = confusion(["supports", "refutes", "refutes"], ["refutes", "refutes", "supports"], LABELS3)
    assert m == [[0, 1, 0], [1, 1, 0], [0, 0, 0]]


def _claim(i: int, label: str) -> TableClaim:
    return TableClaim(id=str(i), claim="c", columns=("a",), rows=(("1",),), label=label)


def test_report_drops_nei_for_two_class_and_uses_the_two_class_answer() -> None:
    claims = [_claim(0, "supports"), _claim(1, "refutes"), _claim(2, "not enough info")]
    preds = [
        Prediction("0", "supports", 0.9, "supports", 0.9, "comparison"),
        Prediction("1", "not enough info", 0.6, "refutes", 0.7, "comparison"),
        Prediction("2", "not enough info", 0.8, "supports", 0.6, "other"),
    ]
    r = report("x", claims, preds, seconds=2.0)
    assert r.two.n == 2 and r.two.accuracy == 1.0 and r.two.macro_f1 == 1.0
    assert r.three.accuracy == pytest.approx(2 / 3)
    assert r.claims_per_s == pytest.approx(1.5)
    assert r.per_type["comparison"] == {"n": 2.0, "acc3": 0.5, "n2": 2.0, "acc2": 1.0}
    # ECE: bins 0.6 (wrong), 0.8 (right), 0.9 (right) -> (0.6 + 0.2 + 0.1) / 3
    assert r.three.ece == pytest.approx((0.6 + 0.2 + 0.1) / 3)
