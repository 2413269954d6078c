"""The TF-IDF baseline behaves exactly like the seed: threshold, never CONTRADICT."""

from __future__ import annotations

import pytest

from agents.verification import get_verifier
from agents.verification.tfidf import TfidfVerifier
from memory.errors import UserError
from memory.models import EvidenceDoc

CLAIM = "Aspirin reduces the risk of colorectal cancer in adults."
DOCS = [
    EvidenceDoc(
        doc_id="a",
        sentences=[
            "We followed adults for ten years.",
            "Aspirin did not reduce the risk of colorectal cancer in adults.",
        ],
    ),
    EvidenceDoc(doc_id="b", sentences=["Graphene sheets conduct heat well.", "We used lasers."]),
]


def test_threshold_and_no_contradict() -> None:
    verdicts = TfidfVerifier(threshold=0.15).verify(CLAIM, DOCS)
    assert [v.doc_id for v in verdicts] == ["a", "b"]
    # a negated source still comes out SUPPORT: the baseline's known flaw
    assert verdicts[0].label == "SUPPORT"
    assert verdicts[0].rationale == [1]
    assert verdicts[1].label == "NOT_ENOUGH_INFO"
    assert verdicts[1].confidence == pytest.approx(0.0)
    assert all(v.label != "CONTRADICT" for v in verdicts)


def test_threshold_boundary_moves_the_label() -> None:
    cos = TfidfVerifier(threshold=0.0).verify(CLAIM, DOCS)[0].confidence
    assert 0.15 < cos < 1.0
    assert TfidfVerifier(threshold=cos).verify(CLAIM, DOCS)[0].label == "SUPPORT"
    above = min(1.0, cos + 1e-6)
    assert TfidfVerifier(threshold=above).verify(CLAIM, DOCS)[0].label == "NOT_ENOUGH_INFO"


def test_threshold_comes_from_the_caller_and_defaults_to_the_seed_constant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the verifier reads no settings itself: the graph hands it Settings.tfidf_threshold
    monkeypatch.setenv("SOVEREIGN_TFIDF_THRESHOLD", "0.4")
    assert TfidfVerifier().threshold == pytest.approx(0.15)
    assert get_verifier("tfidf", threshold=0.4).threshold == pytest.approx(0.4)  # type: ignore[attr-defined]


def test_unknown_verifier_lists_choices() -> None:
    with pytest.raises(UserError, match="default, llm-judge, tfidf"):
        get_verifier("bogus")


def test_empty_inputs() -> None:
    assert TfidfVerifier().verify(CLAIM, []) == []
    out = TfidfVerifier().verify("", [EvidenceDoc(doc_id="x", sentences=[])])
    assert out[0].label == "NOT_ENOUGH_INFO"
