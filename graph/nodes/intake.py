"""Intake: resolve the paper the question names (never a substitute), read the question's
facets, and plan the first round of queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents import facets as facets_mod
from agents import planner, resolver
from graph.context import settings_record
from graph.instrument import Env
from graph.nodes.publication import run_dir
from graph.state import ResearchState
from graph.transcript import attach_run
from memory.errors import UserError
from memory.models import Facets


def _fresh(state: ResearchState, env: Env) -> dict[str, Any]:
    """What every run starts with, so later nodes and the report never meet a missing key."""
    return {
        "run_id": env.run_id,
        "started_at": datetime.now(UTC).isoformat(),
        "settings_used": settings_record(env.settings),
        "revision_round": 0,
        "queries": [],
        "claims": [],
        "verifications": [],
        "conflicts": [],
        "coverage": [],
        "joint_coverage": [],
        "facets": Facets().model_dump(),
    }


def question_problem(question: str, limit: int) -> str | None:
    """Why a question cannot be researched, or None. The CLI refuses such a question before
    anything is stored (a usage error); a run started another way (Python, Studio) ends in a
    report that says so and never reaches the owner's review queue."""
    text = question.strip()
    if not text:
        return "the question is empty"
    if not any(ch.isalnum() for ch in text):
        return "the question has no words (only punctuation or symbols)"
    if len(text) > limit:
        return (
            f"the question has {len(text)} characters; the limit is {limit} "
            "(SOVEREIGN_MAX_QUESTION_CHARS)"
        )
    return None


def _input_error(question: str, limit: int) -> dict[str, Any] | None:
    problem = question_problem(question, limit)
    if problem is None:
        return None
    return {
        "input_error": problem,
        "target_status": "none_named",
        "target_note": "the question was not analysed",
    }


def resolve_paper(state: ResearchState, env: Env) -> dict[str, Any]:
    # the first node: from here on the run's events are filed beside its report
    attach_run(env.run_id, run_dir(state.get("out_dir"), env.settings, env.run_id))
    update = _fresh(state, env)
    question = (state.get("question") or "").strip()
    if problem := _input_error(question, env.settings.max_question_chars):
        return {**update, **problem}
    try:
        search = env.services.search()
    except UserError as exc:
        update.update(
            halted=f"arXiv source unavailable: {exc}",
            target_status="unavailable",
            target_note=f"the arXiv source is unavailable: {exc}",
            provenance=[env.provenance("resolve_paper", "degraded", str(exc))],
        )
        return update
    res = resolver.resolve_target(question, state.get("paper"), search)
    target = res.paper.arxiv_id if res.paper else None
    env.log.info("decision", status=res.status, note=res.note, target=target)
    update.update(
        target=res.paper.model_dump(mode="json") if res.paper else None,
        target_status=res.status,
        target_note=res.note,
        target_match=res.match.model_dump(mode="json") if res.match else None,
    )
    if res.status == "unavailable":
        update["halted"] = res.note
        update["provenance"] = [env.provenance("resolve_paper", "degraded", res.note)]
    if res.paper is not None:
        update["papers"] = [res.paper.model_dump(mode="json")]
    return update


def extract_facets(state: ResearchState, env: Env) -> dict[str, Any]:
    target = state.get("target")
    aliases = (state.get("target_match") or {}).get("aliases", [])
    facets = facets_mod.extract_facets(
        state["question"], target["title"] if target else None, aliases
    )
    env.log.info("decision", facets=facets.model_dump())
    return {"facets": facets.model_dump()}


def plan_queries(state: ResearchState, env: Env) -> dict[str, Any]:
    facets = Facets.model_validate(state["facets"])
    proposal = planner.plan_queries(
        env.services.llm(), state["question"], facets, state.get("target"), env.settings.num_queries
    )
    queries = [q.model_dump() for q in proposal.value.queries]
    env.log.info("decision", queries=[q["text"] for q in queries], origin=proposal.origin)
    return {"queries": queries, "provenance": env.origin_events("plan_queries", proposal)}
