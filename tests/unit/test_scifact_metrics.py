"""The SciFact metric code against values worked out by hand."""

from __future__ import annotations

import pytest

from agents.verification.calibration import expected_calibration_error
from agents.verification.scifact import (
    DocPrediction,
    abstract_level,
    parse_claim,
    recall_at_k,
    sentence_level,
)

# The worked example of the official evaluation guide: doc 11 has gold sets [0, 1] and [11],
# doc 15 has [4]; the model predicts doc 11 = SUPPORT [1, 11, 13] and doc 16 = CONTRADICT [18, 20].
GOLD = parse_claim(
    {
        "id": 52,
        "claim": "ALDH1 expression is associated with poorer prognosis for breast cancer.",
        "evidence": {
            "11": [
                {"sentences": [0, 1], "label": "SUPPORT"},
                {"sentences": [11], "label": "SUPPORT"},
            ],
            "15": [{"sentences": [4], "label": "SUPPORT"}],
        },
        "cited_doc_ids": [11, 15],
    }
)
PRED = {
    52: {
        "11": DocPrediction("SUPPORT", [1, 11, 13]),
        "16": DocPrediction("CONTRADICT", [18, 20]),
    }
}


def test_abstract_level_matches_guide_example() -> None:
    m = abstract_level([GOLD], PRED)
    assert (m["label_only"].correct, m["label_only"].predicted, m["label_only"].gold) == (1, 2, 2)
    assert m["label_only"].f1 == pytest.approx(0.5)
    assert m["label_rationale"].f1 == pytest.approx(0.5)


def test_sentence_level_matches_guide_example() -> None:
    m = sentence_level([GOLD], PRED)
    sel = m["selection"]
    assert (sel.correct, sel.predicted, sel.gold) == (1, 5, 4)
    assert sel.precision == pytest.approx(1 / 5)
    assert sel.recall == pytest.approx(1 / 4)
    assert sel.f1 == pytest.approx(2 / 9)


def test_only_first_three_sentences_count_at_abstract_level() -> None:
    pred = {52: {"11": DocPrediction("SUPPORT", [2, 3, 5, 11])}}
    m = abstract_level([GOLD], pred)
    assert m["label_only"].correct == 1
    assert m["label_rationale"].correct == 0  # [11] is the 4th sentence: ignored
    # sentence level counts all four; 11 completes its set
    s = sentence_level([GOLD], pred)["selection"]
    assert (s.correct, s.predicted) == (1, 4)


def test_wrong_label_and_partial_sets() -> None:
    pred = {52: {"11": DocPrediction("CONTRADICT", [0, 1]), "15": DocPrediction("SUPPORT", [3])}}
    a = abstract_level([GOLD], pred)
    assert a["label_only"].correct == 1  # doc 15 label right
    assert a["label_rationale"].correct == 0  # its rationale [3] misses [4]
    s = sentence_level([GOLD], pred)
    # 0 and 1 form a complete set: selected correctly but label wrong
    assert s["selection"].correct == 2
    assert s["selection_label"].correct == 0
    assert s["selection"].predicted == 3


def test_nei_predictions_are_not_counted() -> None:
    nei = parse_claim({"id": 1, "claim": "x", "evidence": {}, "cited_doc_ids": [7]})
    pred = {1: {"7": DocPrediction("NOT_ENOUGH_INFO", [0]), "8": DocPrediction("SUPPORT", [0])}}
    a = abstract_level([nei], pred)["label_only"]
    assert (a.correct, a.predicted, a.gold) == (0, 1, 0)
    assert a.f1 == 0.0
    s = sentence_level([nei], pred)["selection"]
    assert s.predicted == 1


def test_recall_at_k() -> None:
    retrieved = {52: ["15", "99", "11", "3"]}
    assert recall_at_k([GOLD], retrieved, 1) == pytest.approx(0.5)
    assert recall_at_k([GOLD], retrieved, 2) == pytest.approx(0.5)
    assert recall_at_k([GOLD], retrieved, 3) == pytest.approx(1.0)


def test_ece_by_hand() -> None:
    # bin [0.9,1.0]: conf 0.9, 0.9 acc 1/2 -> |0.5-0.9| * 2/4 = 0.2
    # bin [0.2,0.3): conf 0.2, 0.2 acc 0 -> |0-0.2| * 2/4 = 0.1
    ece = expected_calibration_error([0.9, 0.9, 0.2, 0.2], [True, False, False, False])
    assert ece == pytest.approx(0.3)
    assert expected_calibration_error([1.0, 1.0], [True, True]) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        expected_calibration_error([1.2], [True])
