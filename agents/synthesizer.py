"""SYNTHESIZER: does the draft answer the question — facet values mentioned, answerability
(facet combinations stated together by one passage, `agents.coverage`), relevance, breadth.
Answerability is scored from the joint table: a question about HAWK's latency compared with
other methods is not answerable because some paper mentions latency and another mentions
other methods."""

from __future__ import annotations

from typing import Any

from agents.consensus import Draft, rubric_review
from agents.coverage import COMBINATION, answerability
from agents.llm import Proposal
from agents.reviewing import llm_review
from memory.models import Concern, Review, Role

ROLE: Role = "SYNTHESIZER"
OFF_TOPIC = 0.25


def deterministic_review(task: dict[str, Any]) -> Review:
    d = Draft.from_task(task)
    sources = {c.source_id for c in d.claims}
    answerable = _answerable(d)
    rubric = {
        "facet_coverage": 10 * d.coverage_share if d.claims else 0.0,
        "answerability": 10 * answerable if d.claims else 0.0,
        "relevance": 10 * d.mean_relevance,
        "breadth": min(10.0, 2.5 * len(sources)),
    }
    concerns: list[Concern] = []
    for cov in d.coverage:
        if not cov.covered and cov.facet != COMBINATION:  # combinations: _joint_concerns
            touching = [c.id for c in d.claims if cov.value in c.facets]
            concerns.append(
                Concern(
                    text=f"uncovered {cov.facet}: {cov.note or cov.value}",
                    claim_ids=touching,
                    severity="high" if cov.facet in ("metric", "benchmark") else "medium",
                )
            )
    concerns += _joint_concerns(d)
    off = [c.id for c in d.claims if c.relevance < OFF_TOPIC]
    if off:
        concerns.append(
            Concern(text="claims barely touch the question", claim_ids=off, severity="low")
        )
    if not d.claims:
        concerns.append(Concern(text="no claims bear on the question", severity="high"))
    covered = sum(c.covered for c in d.coverage)
    joint = sum(c.status == "covered" for c in d.joint)
    partial = sum(c.status == "partial" for c in d.joint)
    return rubric_review(
        ROLE,
        d.round,
        rubric,
        concerns,
        f"{joint}/{len(d.joint)} facet combinations stated together by one passage "
        f"({partial} partially); {covered}/{len(d.coverage)} facet values mentioned by "
        f"retrieved sources; claims from {len(sources)} source(s).",
    )


def _answerable(d: Draft) -> float:
    """Joint answerability when the task carries the joint table; else (an older task) the
    share of metric/benchmark values covered one by one."""
    if d.joint:
        return answerability(d.joint)
    core = [c for c in d.coverage if c.facet in ("metric", "benchmark", "metric@benchmark")]
    return sum(c.covered for c in core) / len(core) if core else 1.0


def _joint_concerns(d: Draft) -> list[Concern]:
    out: list[Concern] = []
    for combo in d.joint:
        if combo.status == "covered":
            continue
        lacks = "; ".join(combo.missing)
        out.append(
            Concern(
                text=f"not answered: {combo.note or combo.label}"
                + (f" (the best passage lacks {lacks})" if combo.best and lacks else ""),
                claim_ids=[combo.best.claim_id] if combo.best and combo.best.claim_id else [],
                severity="high" if combo.status == "not_covered" else "medium",
            )
        )
    return out


def review(llm: Any, task: dict[str, Any]) -> Proposal[Review]:
    """The LLM's review when it stays near this evidence-derived one, else this one."""
    return llm_review(llm, ROLE, task, deterministic_review(task))
