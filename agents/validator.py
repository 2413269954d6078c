"""VALIDATOR: is the evidence good — verifier confidence, independent sources, grounded quotes."""

from __future__ import annotations

from typing import Any

from agents.consensus import Draft, rubric_review
from agents.llm import Proposal
from agents.reviewing import llm_review
from memory.models import Concern, Review, Role

ROLE: Role = "VALIDATOR"
WEAK = 0.5


def deterministic_review(task: dict[str, Any]) -> Review:
    d = Draft.from_task(task)
    if not d.claims:
        return Review(
            role=ROLE,
            round=d.round,
            score=0.0,
            rubric={"evidence_strength": 0.0, "independence": 0.0, "grounding": 0.0},
            concerns=[Concern(text="no evidence to validate", severity="high")],
            summary="No claims, so no evidence.",
        )
    supporting = {
        v.doc_id for c in d.verified for v in d.verifications[c.id].evidence if v.label == "SUPPORT"
    }
    sources = {c.source_id for c in d.claims}
    rubric = {
        "evidence_strength": 10 * d.mean_confidence(),
        "independence": min(10.0, 10 * len(supporting) / max(1, len(sources))),
        "grounding": 10.0 if d.target_status in ("resolved", "none_named") else 0.0,
    }
    concerns: list[Concern] = []
    weak = [c.id for c in d.verified if d.verifications[c.id].confidence < WEAK]
    if weak:
        concerns.append(
            Concern(
                text=f"verified with confidence below {WEAK}: weak support",
                claim_ids=weak,
                severity="medium",
            )
        )
    if not d.verified:
        concerns.append(
            Concern(
                text="no claim is supported by an independent source",
                claim_ids=[c.id for c in d.claims],
                severity="high",
            )
        )
    return rubric_review(
        ROLE,
        d.round,
        rubric,
        concerns,
        f"mean verified confidence {d.mean_confidence():.2f}; "
        f"{len(supporting)} independent supporting source(s).",
    )


def review(llm: Any, task: dict[str, Any]) -> Proposal[Review]:
    """The LLM's review when it stays near this evidence-derived one, else this one."""
    return llm_review(llm, ROLE, task, deterministic_review(task))
