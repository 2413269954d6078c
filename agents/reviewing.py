"""The LLM step the three reviewers share. Each reviewer brings its role and its
deterministic review; that review is the fallback and also the reference an LLM's numbers
must stay near, so a model may word the review but not move it. The model answers with a
bounded `ReviewDraft`; role, round and origin are set here, never taken from the model."""

from __future__ import annotations

from typing import Any

from agents.consensus import SCORE_TOLERANCE, Draft, clamp, score_of
from agents.coverage import COMBINATION
from agents.llm import Proposal, propose
from agents.llm.grounding import rubric_near
from agents.llm.schemas import CoverageView, ReviewDraft, ReviewVars
from memory.models import Concern, Review, Role


def review_vars(role: Role, draft: Draft, task: dict[str, Any]) -> ReviewVars:
    """What every reviewer's prompt shows: the claims with their verification status, the
    conflicts, the facet coverage and the bar the tribunal must reach."""
    return {
        "role": role,
        "round": draft.round,
        "question": draft.question,
        "facets": task.get("facets", {}),
        "claims": [
            {
                "id": c.id,
                "text": c.text,
                "source_id": c.source_id,
                "status": draft._status(c),
                "confidence": draft.verifications[c.id].confidence
                if c.id in draft.verifications
                else 0.0,
            }
            for c in draft.claims
        ],
        "conflicts": [
            {"metric": c.metric, "setting": c.setting, "claim_ids": c.claim_ids, "note": c.note}
            for c in draft.conflicts
        ],
        "coverage": coverage_views(draft),
        "threshold": draft.threshold,
    }


def coverage_views(draft: Draft) -> list[CoverageView]:
    """Facet values one by one, then each facet combination and whether one passage states
    it whole (the answerability the deterministic rubric scores)."""
    views: list[CoverageView] = [
        {"facet": c.facet, "value": c.value, "covered": c.covered, "note": c.note}
        for c in draft.coverage
        if c.facet != COMBINATION
    ]
    for combo in draft.joint:
        views.append(
            {
                "facet": "facets stated together",
                "value": combo.label,
                "covered": combo.status == "covered",
                "note": combo.note or combo.status,
            }
        )
    return views


def review_problems(review: ReviewDraft, reference: Review, claim_ids: set[str]) -> list[str]:
    """Concerns cite claims that exist, the rubric stays near the evidence's, and the overall
    score is the rubric's mean (scores are already clamped to 0..10 by the draft)."""
    problems: list[str] = []
    for concern in review.concerns:
        unknown = [cid for cid in concern.claim_ids if cid not in claim_ids]
        if unknown:
            problems.append(f"concern cites unknown claim ids {unknown}")
    problems += rubric_near(review.rubric, reference.rubric)
    mean = score_of(review.rubric)
    if abs(review.score - mean) > SCORE_TOLERANCE:
        problems.append(f"score {review.score:g} is not the mean of its rubric ({mean:g})")
    return problems


def to_review(review: ReviewDraft, role: Role, round_: int) -> Review:
    """An accepted draft as the tribunal's record, scores rounded like the deterministic ones."""
    return Review(
        role=role,
        round=round_,
        score=clamp(review.score),
        rubric={k: clamp(v) for k, v in review.rubric.items()},
        concerns=[Concern(**c.model_dump()) for c in review.concerns],
        summary=review.summary,
        origin="llm",
    )


def llm_review(llm: Any, role: Role, task: dict[str, Any], reference: Review) -> Proposal[Review]:
    """The reviewer's LLM review when it passes the checks, else `reference` (origin set)."""
    draft = Draft.from_task(task)
    ids = {c.id for c in draft.claims}
    proposal = propose(
        llm,
        role.lower(),
        ReviewDraft,
        review_vars(role, draft, task),
        check=lambda r: review_problems(r, reference, ids),
        fallback=lambda: reference,
        convert=lambda r: to_review(r, role, draft.round),
    )
    if proposal.origin == "fallback":
        proposal.value.origin = "fallback"
    return proposal
