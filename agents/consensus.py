"""Tribunal plumbing: the draft's measurable properties every reviewer scores from, the
shared LLM review step with its grounding checks, and the consensus of one round."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memory.models import (
    Claim,
    Concern,
    Conflict,
    FacetCombination,
    FacetCoverage,
    Review,
    Role,
    Verification,
)


@dataclass
class Draft:
    """What reviewers see, typed."""

    question: str
    round: int
    claims: list[Claim]
    verifications: dict[str, Verification]
    conflicts: list[Conflict]
    coverage: list[FacetCoverage]
    target_status: str
    threshold: float | None = None  # the run's pass mark, when the task carries its settings
    joint: list[FacetCombination] = field(default_factory=list)  # facets stated together

    @classmethod
    def from_task(cls, task: dict[str, Any]) -> Draft:
        """A review task as sent by the graph; the pass mark comes from the run's own settings
        (`settings_used`), so it is never retyped here."""
        threshold = (task.get("settings_used") or {}).get("consensus_threshold")
        return cls(
            question=task["question"],
            round=task["round"],
            claims=[Claim.model_validate(c) for c in task.get("claims", [])],
            verifications={
                v["claim_id"]: Verification.model_validate(v) for v in task.get("verifications", [])
            },
            conflicts=[Conflict.model_validate(c) for c in task.get("conflicts", [])],
            coverage=[FacetCoverage.model_validate(c) for c in task.get("coverage", [])],
            target_status=task.get("target_status", "none_named"),
            threshold=None if threshold is None else float(threshold),
            joint=[FacetCombination.model_validate(c) for c in task.get("joint_coverage", [])],
        )

    @property
    def verified(self) -> list[Claim]:
        return [c for c in self.claims if self._status(c) == "verified"]

    @property
    def unverified(self) -> list[Claim]:
        return [c for c in self.claims if self._status(c) != "verified"]

    def _status(self, claim: Claim) -> str:
        v = self.verifications.get(claim.id)
        return v.status if v else "unverified"

    @property
    def verified_share(self) -> float:
        return len(self.verified) / len(self.claims) if self.claims else 0.0

    @property
    def coverage_share(self) -> float:
        if not self.coverage:
            return 1.0 if self.claims else 0.0
        return sum(c.covered for c in self.coverage) / len(self.coverage)

    @property
    def mean_relevance(self) -> float:
        return sum(c.relevance for c in self.claims) / len(self.claims) if self.claims else 0.0

    def mean_confidence(self) -> float:
        vs = [self.verifications[c.id].confidence for c in self.verified]
        return sum(vs) / len(vs) if vs else 0.0


SCORE_TOLERANCE = 0.5  # an LLM's overall score must be its rubric's mean, give or take


def clamp(x: float) -> float:
    return round(max(0.0, min(10.0, float(x))), 2)


def score_of(rubric: dict[str, float]) -> float:
    return clamp(sum(rubric.values()) / len(rubric)) if rubric else 0.0


def rubric_review(
    role: Role, round_: int, rubric: dict[str, float], concerns: list[Concern], summary: str
) -> Review:
    """A deterministic review: the score is always the rubric's mean, for every role."""
    return Review(
        role=role,
        round=round_,
        score=score_of(rubric),
        rubric={k: round(v, 2) for k, v in rubric.items()},
        concerns=concerns,
        summary=summary,
    )


def check_review(review: Review, role: str, claim_ids: set[str]) -> list[str]:
    problems: list[str] = []
    if review.role != role:
        problems.append(f"role must be {role}")
    if not 0 <= review.score <= 10 or any(not 0 <= v <= 10 for v in review.rubric.values()):
        problems.append("scores must lie in 0..10")
    for concern in review.concerns:
        unknown = [cid for cid in concern.claim_ids if cid not in claim_ids]
        if unknown:
            problems.append(f"concern cites unknown claim ids {unknown}")
    return problems


def consensus(reviews: list[dict[str, Any]], round: int) -> float:
    """Mean score of the round's reviews (one per role, the last one if repeated)."""
    latest: dict[str, float] = {}
    for r in reviews:
        if r["round"] == round:
            latest[r["role"]] = float(r["score"])
    return round_score(sum(latest.values()) / len(latest)) if latest else 0.0


def round_score(x: float) -> float:
    return float(f"{x:.2f}")
