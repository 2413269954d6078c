"""Tribunal: SKEPTIC, VALIDATOR and SYNTHESIZER score the draft in parallel branches, the
consensus combines them, and below the pass mark the reviser turns their concerns into the
next round's queries."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from agents import reviser, skeptic, synthesizer, validator
from agents.consensus import consensus as consensus_of
from graph.instrument import Body, Env
from graph.state import ResearchState, ReviewTask
from memory.models import Claim, FacetCombination, FacetCoverage, Facets, Review

REVIEWER_AGENTS: dict[str, ModuleType] = {
    "skeptic": skeptic,
    "validator": validator,
    "synthesizer": synthesizer,
}


def reviewer(node: str) -> Body:
    """The body of one reviewer branch: the agent's review of the draft it was sent."""
    agent = REVIEWER_AGENTS[node]

    def body(state: ReviewTask, env: Env) -> dict[str, Any]:
        proposal = agent.review(env.services.llm(), state)
        review: Review = proposal.value
        concerns = [c.model_dump() for c in review.concerns]
        env.log.info("review", score=review.score, rubric=review.rubric, concerns=concerns)
        return {
            "reviews": [review.model_dump()],
            "provenance": env.origin_events(node, proposal),
        }

    return body


def consensus(state: ResearchState, env: Env) -> dict[str, Any]:
    rnd = int(state.get("revision_round", 0))
    score = consensus_of(state.get("reviews", []), rnd)
    threshold = env.settings.consensus_threshold
    env.log.info(
        "decision",
        consensus=score,
        threshold=threshold,
        passes=score >= threshold,
        max_revisions=env.settings.max_revisions,
    )
    return {"consensus": score, "consensus_history": [{"round": rnd, "consensus": score}]}


def _target(state: ResearchState, facets: Facets) -> reviser.Target:
    """The entity's names for gap queries: the target's aliases and full name when a paper
    was resolved, else the question's first entity."""
    match = state.get("target_match") or {}
    aliases = [a for a in match.get("aliases", []) if a]
    return reviser.Target(names=aliases or facets.entity[:1], full_name=match.get("full_name"))


def revise(state: ResearchState, env: Env) -> dict[str, Any]:
    rnd = int(state.get("revision_round", 0))
    new_round = rnd + 1
    facets = Facets.model_validate(state["facets"])
    proposal = reviser.revise(
        env.services.llm(),
        new_round,
        state["question"],
        facets,
        [FacetCoverage.model_validate(c) for c in state.get("coverage", [])],
        [Claim.model_validate(c) for c in state.get("claims", [])],
        [Review.model_validate(r) for r in state.get("reviews", []) if r["round"] == rnd],
        {q["text"] for q in state.get("queries", [])},
        env.settings.num_queries,
        [FacetCombination.model_validate(c) for c in state.get("joint_coverage", [])],
        _target(state, facets),
    )
    plan = proposal.value
    queries = [q.text for q in plan.queries]
    env.log.info("decision", round=new_round, queries=queries, rationale=plan.rationale)
    if not plan.queries:  # nothing new to search: no revision round happens, say so
        message = f"revision round {new_round} not run: the concerns yielded no new query"
        return {
            "revision_exhausted": True,
            "provenance": [env.provenance("revise", "info", message)],
        }
    return {
        "revision_round": new_round,
        "queries": [*state.get("queries", []), *[q.model_dump() for q in plan.queries]],
        "revision_plans": [plan.model_dump()],
        "provenance": env.origin_events("revise", proposal),
    }
