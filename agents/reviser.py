"""Turn the tribunal's concerns into targeted queries for the next search round: uncovered
facets first (they block approval), then unverified claims (search for corroboration)."""

from __future__ import annotations

from typing import Any

from agents.facets import content_tokens
from agents.llm import Proposal, propose
from agents.llm.schemas import MAX_QUERY_CHARS, ReviserVars, RevisionDraft
from agents.verification.claims import name_tokens
from memory.models import Claim, FacetCoverage, Facets, Review, RevisionPlan, SearchQuery


def deterministic_plan(
    round: int,
    facets: Facets,
    coverage: list[FacetCoverage],
    claims: list[Claim],
    reviews: list[Review],
    previous: set[str],
    n: int,
) -> RevisionPlan:
    entity = " ".join(content_tokens(facets.entity[0])[:3]) if facets.entity else ""
    by_id = {c.id: c for c in claims}
    candidates: list[tuple[str, str]] = []
    for cov in coverage:
        if not cov.covered:
            value = cov.value.replace(" on ", " ")
            candidates.append((f"{value}", f"cover {cov.facet} '{cov.value}'"))
            if entity:
                candidates.append((f"{entity} {value}", f"cover {cov.facet} '{cov.value}'"))
    for review in reviews:
        for concern in review.concerns:
            for cid in concern.claim_ids:
                claim = by_id.get(cid)
                if claim is None:
                    continue
                words = content_tokens(claim.text)
                keys = [w for w in words if not any(ch.isdigit() for ch in w)]
                # who the claim is about, with what it measures: the words a corroborating
                # abstract would have to share
                names = name_tokens(claim.text)[:2]
                lowered = {n.lower() for n in names}
                topic = [w for w in keys if w not in lowered]
                focused = [*names, *([claim.metric] if claim.metric else []), *topic[:2]]
                for variant in (focused, keys[:5], keys[:3], keys[1:5], keys[2:6]):
                    if len(variant) >= 2:
                        candidates.append((" ".join(variant), f"corroborate {cid} ({review.role})"))
    out: list[SearchQuery] = []
    seen = {p.lower() for p in previous}
    for text, purpose in candidates:
        text = " ".join(text.split())[:MAX_QUERY_CHARS]
        if not text or text.lower() in seen:
            continue
        seen.add(text.lower())
        out.append(SearchQuery(text=text, purpose=purpose, round=round))
        if len(out) == n:
            break
    reasons = sorted({q.purpose.split(" (")[0] for q in out})
    return RevisionPlan(
        round=round,
        queries=out,
        rationale="; ".join(reasons) if out else "no new query could be derived from the concerns",
    )


def check_plan(plan: RevisionDraft, n: int) -> list[str]:
    """At most `n` usable queries (the draft already guarantees at least one)."""
    if len(plan.queries) > n:
        return [f"at most {n} queries"]
    if any(not q.text.strip() or len(q.text) > MAX_QUERY_CHARS for q in plan.queries):
        return [f"every query must be 1..{MAX_QUERY_CHARS} characters"]
    return []


def _accept(plan: RevisionDraft, round: int) -> RevisionPlan:
    """An accepted draft as the round's plan: the round and origin are ours, not the model's."""
    return RevisionPlan(
        round=round,
        queries=[SearchQuery(text=q.text, purpose=q.purpose, round=round) for q in plan.queries],
        rationale=plan.rationale,
        origin="llm",
    )


def revise(
    llm: Any,
    round: int,
    question: str,
    facets: Facets,
    coverage: list[FacetCoverage],
    claims: list[Claim],
    reviews: list[Review],
    previous: set[str],
    n: int,
) -> Proposal[RevisionPlan]:
    prompt_vars: ReviserVars = {
        "round": round,
        "question": question,
        "facets": facets.model_dump(),
        "uncovered": [
            {"facet": c.facet, "value": c.value, "note": c.note} for c in coverage if not c.covered
        ],
        "concerns": [
            {"role": r.role, "text": c.text, "claim_ids": c.claim_ids}
            for r in reviews
            for c in r.concerns
        ],
        "previous_queries": sorted(previous),
        "num_queries": n,
    }
    proposal = propose(
        llm,
        "reviser",
        RevisionDraft,
        prompt_vars,
        check=lambda p: check_plan(p, n),
        fallback=lambda: deterministic_plan(round, facets, coverage, claims, reviews, previous, n),
        convert=lambda p: _accept(p, round),
    )
    proposal.value.origin = proposal.origin
    return proposal
