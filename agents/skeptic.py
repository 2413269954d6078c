"""SKEPTIC: what could be wrong — unverified or contradicted claims, conflicting numbers."""

from __future__ import annotations

from typing import Any

from agents.consensus import Draft, rubric_review
from agents.llm import Proposal
from agents.reviewing import llm_review
from memory.models import Concern, Review, Role

ROLE: Role = "SKEPTIC"


def deterministic_review(task: dict[str, Any]) -> Review:
    d = Draft.from_task(task)
    if not d.claims:
        return Review(
            role=ROLE,
            round=d.round,
            score=0.0,
            rubric={"verification": 0.0, "consistency": 0.0, "contradictions": 0.0},
            concerns=[Concern(text="no claims bear on the question", severity="high")],
            summary="Nothing to scrutinise: no claim was extracted.",
        )
    contradicted = [c.id for c in d.claims if d._status(c) == "contradicted"]
    rubric = {
        "verification": 10 * d.verified_share,
        "consistency": max(0.0, 10 - 3 * len(d.conflicts)),
        "contradictions": max(0.0, 10 - 5 * len(contradicted)),
    }
    concerns: list[Concern] = []
    unverified = [c.id for c in d.unverified]
    if unverified:
        concerns.append(
            Concern(
                text=f"{len(unverified)} of {len(d.claims)} claims have no support from another "
                "source",
                claim_ids=unverified,
                severity="high" if len(unverified) == len(d.claims) else "medium",
            )
        )
    for conflict in d.conflicts:
        concerns.append(Concern(text=conflict.note, claim_ids=conflict.claim_ids, severity="high"))
    if contradicted:
        concerns.append(
            Concern(text="another source contradicts these claims", claim_ids=contradicted)
        )
    return rubric_review(
        ROLE,
        d.round,
        rubric,
        concerns,
        f"{len(d.verified)}/{len(d.claims)} claims verified elsewhere; "
        f"{len(d.conflicts)} conflict(s); {len(contradicted)} contradicted.",
    )


def review(llm: Any, task: dict[str, Any]) -> Proposal[Review]:
    """The LLM's review when it stays near this evidence-derived one, else this one."""
    return llm_review(llm, ROLE, task, deterministic_review(task))
