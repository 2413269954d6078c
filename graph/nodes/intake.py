"""Intake: resolve the paper the question names (never a substitute), read the question's
facets, and plan the first round of queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents import facets as facets_mod
from agents import planner, resolver
from graph.context import settings_record
from graph.instrument import Env
from graph.state import ResearchState
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
        "facets": Facets().model_dump(),
    }


def _input_error(question: str, limit: int) -> dict[str, Any] | None:
    if not question:
        return {
            "input_error": "the question is empty",
            "target_status": "none_named",
            "target_note": "no question was given",
        }
    if len(question) > limit:
        return {
            "input_error": f"the question has {len(question)} characters; the limit is "
            f"{limit} (SOVEREIGN_MAX_QUESTION_CHARS)",
            "target_status": "none_named",
            "target_note": "the question was not analysed",
        }
    return None


def resolve_paper(state: ResearchState, env: Env) -> dict[str, Any]:
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
    )
    if res.status == "unavailable":
        update["halted"] = res.note
        update["provenance"] = [env.provenance("resolve_paper", "degraded", res.note)]
    if res.paper is not None:
        update["papers"] = [res.paper.model_dump(mode="json")]
    return update


def extract_facets(state: ResearchState, env: Env) -> dict[str, Any]:
    target = state.get("target")
    facets = facets_mod.extract_facets(state["question"], target["title"] if target else None)
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
