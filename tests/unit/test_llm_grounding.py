"""Grounding helpers: what they accept and what they reject."""

from __future__ import annotations

from agents.llm.grounding import cited_ids_exist, quote_occurs, rubric_near

REF = {"verification": 6.0, "consistency": 10.0}


def test_rubric_near_accepts_small_disagreement() -> None:
    assert rubric_near({"verification": 7.5, "consistency": 8.0}, REF) == []


def test_rubric_near_rejects_obedient_tens_and_missing_criteria() -> None:
    problems = rubric_near({"verification": 10.0, "consistency": 10.0}, REF)
    assert len(problems) == 1 and "verification=10" in problems[0]
    assert "exactly the criteria" in rubric_near({"verification": 6.0}, REF)[0]
    assert rubric_near({"verification": 0.0, "consistency": 0.0}, REF, tolerance=2.0) != []


def test_cited_ids_and_quotes() -> None:
    assert cited_ids_exist(["C1", "C2"], ["C1", "C2", "C3"]) == []
    assert cited_ids_exist(["C1", "C9"], ["C1"]) == ["unknown claim ids ['C9']"]
    src = "FastNet reaches 91.2% accuracy on ImageNet. It is fast."
    assert quote_occurs("fastnet reaches 91.2% accuracy on imagenet", src, "x") == []
    assert quote_occurs("FastNet reaches 99% accuracy", src, "x") != []
