"""SYNTHESIZER: does the draft answer the question — facet coverage, relevance, breadth."""

from __future__ import annotations

from typing import Any

from agents.consensus import Draft, rubric_review
from agents.llm import Proposal
from agents.reviewing import llm_review
from memory.models import Concern, Review, Role

ROLE: Role = "SYNTHESIZER"
OFF_TOPIC = 0.25


def deterministic_review(task: dict[str, Any]) -> Review:
    d = Draft.from_task(task)
    sources = {c.source_id for c in d.claims}
    core = [c for c in d.coverage if c.facet in ("metric", "benchmark", "metric@benchmark")]
    answerable = sum(c.covered for c in core) / len(core) if core else 1.0
    rubric = {
        "facet_coverage": 10 * d.coverage_share if d.claims else 0.0,
        "answerability": 10 * answerable if d.claims else 0.0,
        "relevance": 10 * d.mean_relevance,
        "breadth": min(10.0, 2.5 * len(sources)),
    }
    concerns: list[Concern] = []
    for cov in d.coverage:
        if not cov.covered:
            touching = [c.id for c in d.claims if cov.value in c.facets]
            concerns.append(
                Concern(
                    text=f"uncovered {cov.facet}: {cov.note or cov.value}",
                    claim_ids=touching,
                    severity="high" if cov.facet in ("metric", "benchmark") else "medium",
                )
            )
    off = [c.id for c in d.claims if c.relevance < OFF_TOPIC]
    if off:
        concerns.append(
            Concern(text="claims barely touch the question", claim_ids=off, severity="low")
        )
    if not d.claims:
        concerns.append(Concern(text="no claims bear on the question", severity="high"))
    covered = sum(c.covered for c in d.coverage)
    return rubric_review(
        ROLE,
        d.round,
        rubric,
        concerns,
        f"{covered}/{len(d.coverage)} facets covered by retrieved sources; "
        f"claims from {len(sources)} source(s).",
    )


def review(llm: Any, task: dict[str, Any]) -> Proposal[Review]:
    """The LLM's review when it stays near this evidence-derived one, else this one."""
    return llm_review(llm, ROLE, task, deterministic_review(task))
