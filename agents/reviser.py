"""Turn the gaps into targeted queries for the next search round: the facet combinations no
passage states whole, written with the entity's names (aliases, full name) and the members
still missing; then facet values no source mentions; then corroboration of the claims the
reviewers flagged. Queries are built from facet values and names only, never from a claim's
ordinary words ('applied vl hawk retain original' searched nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents import names
from agents.coverage import COMBINATION
from agents.facets import METRICS, benchmark_mentions, content_tokens, metric_mentions
from agents.llm import Proposal, propose
from agents.llm.schemas import MAX_QUERY_CHARS, ReviserVars, RevisionDraft, UncoveredView
from agents.verification.claims import name_tokens
from memory.models import (
    Claim,
    FacetCombination,
    FacetCoverage,
    Facets,
    Review,
    RevisionPlan,
    SearchQuery,
)
from memory.text import normalize_for_match

GENERIC = frozenset(
    [
        "other", "number", "equivalent", "similar", "size", "scale", "scales", "scaling",
        "input", "inputs", "experiment", "experiments", "result", "results", "based",
        "applied", "original", "retain", "various", "different", "setting", "settings",
        "when", "like", "e.g", "such", "benchmark", "benchmarks", "task", "tasks",
    ]
)  # fmt: skip


@dataclass(frozen=True)
class Target:
    """How the entity may be written: its name, its aliases and its full name."""

    names: list[str]
    full_name: str | None = None

    def forms(self) -> list[str]:
        full = [" ".join(content_tokens(self.full_name)[:5])] if self.full_name else []
        return list(dict.fromkeys([*self.names, *full]))


def _metric_term(metric: str, question: str) -> str:
    """The metric as the question writes it ('TTFT' for latency), else its canonical name."""
    norm = f" {normalize_for_match(question)} "
    for form in METRICS.get(metric, ()):
        if f" {normalize_for_match(form)} " in norm:
            return form.upper() if len(form) <= 5 and form.isalpha() else form
    return metric


def _term(member: str, question: str) -> str:
    """A query's words for one facet member: names as written, conditions and comparisons
    by their numbers and specific words (never generic ones)."""
    facet, _, value = member.partition(": ")
    if facet == "metric":
        return _metric_term(value, question)
    if facet in ("entity", "benchmark"):
        return value
    words = [w for w in content_tokens(value) if w not in GENERIC]
    numbered = [w for w in words if any(c.isdigit() for c in w)]
    return " ".join((numbered + [w for w in words if w not in numbered])[:3])


def gap_queries(
    joint: list[FacetCombination], target: Target, question: str
) -> list[tuple[str, str]]:
    """For each combination no passage states whole (uncovered first, then partial): the
    entity in each of its forms with the members still missing, then with all others."""
    out: list[tuple[str, str]] = []
    order = sorted(
        (c for c in joint if c.status != "covered"), key=lambda c: c.status != "not_covered"
    )
    for combo in order:
        rest = [m for m in combo.members if not m.startswith("entity: ")]
        missing = [m for m in combo.missing if not m.startswith("entity: ")] or rest
        purpose = f"state {combo.label} in one passage"
        forms = target.forms() or [""]
        for terms in (missing, rest):
            words = " ".join(_term(m, question) for m in terms)
            for form in forms:
                out.append((f"{form} {words}".strip(), purpose))
    return out


def corroboration_queries(claims: list[Claim], reviews: list[Review]) -> list[tuple[str, str]]:
    """For claims the reviewers flagged: who the claim is about, what it measures and where
    (names, metric, benchmark), never the claim's ordinary words."""
    by_id = {c.id: c for c in claims}
    out: list[tuple[str, str]] = []
    for review in reviews:
        for concern in review.concerns:
            for cid in concern.claim_ids:
                claim = by_id.get(cid)
                if claim is None:
                    continue
                where = benchmark_mentions(claim.setting or "")[:1]
                who = [
                    n
                    for n in name_tokens(claim.text)
                    if names.distinctive(n)
                    and names.reduce(n)[1] != "Xs"  # 'VLMs' is a class, not whose result
                    and not benchmark_mentions(n)
                    and not metric_mentions(n)
                ][:2]
                terms = list(
                    dict.fromkeys([*who, *([claim.metric] if claim.metric else []), *where])
                )
                if who and len(terms) >= 2:
                    out.append((" ".join(terms), f"corroborate {cid} ({review.role})"))
    return out


def deterministic_plan(
    round: int,
    facets: Facets,
    coverage: list[FacetCoverage],
    claims: list[Claim],
    reviews: list[Review],
    previous: set[str],
    n: int,
    joint: list[FacetCombination] | None = None,
    target: Target | None = None,
    question: str = "",
) -> RevisionPlan:
    """Queries aimed at the gap: the facet combinations no passage states whole, written
    with the entity's names, then the facet values no source mentions, then corroboration
    of flagged claims."""
    target = target or Target(names=facets.entity[:1])
    candidates = gap_queries(joint or [], target, question)
    entity = target.names[0] if target.names else ""
    for cov in coverage:
        if not cov.covered and cov.facet not in ("entity", COMBINATION):
            value = cov.value.replace(" on ", " ")
            candidates.append((f"{entity} {value}".strip(), f"cover {cov.facet} '{cov.value}'"))
    candidates += corroboration_queries(claims, reviews)
    out: list[SearchQuery] = []
    seen = {" ".join(sorted(p.lower().split())) for p in previous}
    for text, purpose in candidates:
        text = " ".join(text.split())[:MAX_QUERY_CHARS]
        key = " ".join(sorted(text.lower().split()))
        if len(text.split()) < 2 or key in seen:
            continue
        seen.add(key)
        out.append(SearchQuery(text=text, purpose=purpose, round=round))
        if len(out) == n:
            break
    reasons = list(dict.fromkeys(q.purpose.split(" (")[0] for q in out))
    return RevisionPlan(
        round=round,
        queries=out,
        rationale="; ".join(reasons) if out else "no new query could be derived from the gaps",
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
    joint: list[FacetCombination] | None = None,
    target: Target | None = None,
) -> Proposal[RevisionPlan]:
    uncovered: list[UncoveredView] = [
        {"facet": c.facet, "value": c.value, "note": c.note} for c in coverage if not c.covered
    ]
    uncovered += [
        {"facet": "facets stated together", "value": c.label, "note": c.note}
        for c in joint or []
        if c.status != "covered"
    ]
    prompt_vars: ReviserVars = {
        "round": round,
        "question": question,
        "facets": facets.model_dump(),
        "uncovered": uncovered,
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
        fallback=lambda: deterministic_plan(
            round, facets, coverage, claims, reviews, previous, n, joint, target, question
        ),
        convert=lambda p: _accept(p, round),
    )
    proposal.value.origin = proposal.origin
    return proposal


@dataclass(frozen=True)
class RoundYield:
    """What one search round added: sources not seen in earlier rounds, and statements bearing
    on the question drawn from the sources it read. A revision round that adds neither ends
    the loop: searching again with the same gaps would find the same nothing."""

    round: int
    new_sources: list[str]
    new_passages: int

    @property
    def empty(self) -> bool:
        return not self.new_sources or self.new_passages == 0


def round_yield(state: dict[str, Any], rnd: int) -> RoundYield:
    """Computed from the run's own log (search_log, fulltext_log, candidate_claims), so the
    routing that ends the loop and the report that says so read the same figures."""
    earlier = {pid for e in state.get("search_log", []) if e["round"] < rnd for pid in e["ids"]}
    target = (state.get("target") or {}).get("arxiv_id")
    earlier |= {target} if target else set()
    found = [pid for e in state.get("search_log", []) if e["round"] == rnd for pid in e["ids"]]
    new = [pid for pid in dict.fromkeys(found) if pid not in earlier]
    read = {r["source_id"] for r in state.get("fulltext_log", []) if r["round"] == rnd}
    passages = sum(1 for c in state.get("candidate_claims", []) if c["source_id"] in read)
    return RoundYield(rnd, new, passages)
