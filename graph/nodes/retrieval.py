"""Retrieval: one arXiv search per query (parallel branches), then the vector memory, which
also decides which unread sources are read this round."""

from __future__ import annotations

import time
from typing import Any

from agents import claim_extractor, indexer, searcher
from graph.instrument import Env
from graph.services import MemoryBackend
from graph.state import ResearchState, SearchTask
from memory.errors import UserError


def search_arxiv(state: SearchTask, env: Env) -> dict[str, Any]:
    try:
        search = env.services.search()
    except UserError as exc:
        now = time.time()
        entry = {
            "query": state["query"]["text"],
            "round": state["round"],
            "n": 0,
            "error": str(exc),
            "ids": [],
            "start": now,
            "end": now,
        }
        return {"search_log": [entry]}
    papers, entry = searcher.run_search(search, state["query"], env.settings.max_results_per_query)
    env.log.info("decision", query=entry["query"], found=entry["n"], error=entry["error"])
    return {"papers": [p.model_dump(mode="json") for p in papers], "search_log": [entry]}


def _search_outcome(state: ResearchState, env: Env) -> dict[str, Any]:
    """Halt when the first round found nothing at all; record failed searches otherwise."""
    rnd = int(state.get("revision_round", 0))
    this_round = [e for e in state.get("search_log", []) if e["round"] == rnd]
    failed = [e for e in this_round if e.get("error")]
    found = sum(e["n"] for e in this_round)
    papers = state.get("papers", [])
    if rnd == 0 and found == 0 and len(papers) <= (1 if state.get("target") else 0):
        if failed and len(failed) == len(this_round):
            halted = f"every arXiv search failed: {failed[0]['error']}"
        else:
            halted = "the arXiv searches returned no results"
        return {"halted": halted, "provenance": [env.provenance("index_memory", "error", halted)]}
    if failed:
        message = f"{len(failed)} of {len(this_round)} searches failed"
        errors = [e["error"] for e in failed]
        return {"provenance": [env.provenance("index_memory", "degraded", message, errors=errors)]}
    return {}


def index_memory(state: ResearchState, env: Env) -> dict[str, Any]:
    update = _search_outcome(state, env)
    papers = state.get("papers", [])
    memory = env.services.memory()
    done = set(state.get("indexed_ids", []))
    indexer.index_papers(memory, [p for p in papers if p["arxiv_id"] not in done])
    update["indexed_ids"] = [p["arxiv_id"] for p in papers]
    env.services.mark_indexed(env.run_id, len(papers))
    update["reading_list"] = _reading_list(state, memory)
    env.log.info("decision", indexed=len(papers), reading_list=update["reading_list"])
    if notes := env.drain_notes("index_memory"):
        update["provenance"] = [*update.get("provenance", []), *notes]
    return update


def _reading_list(state: ResearchState, memory: MemoryBackend) -> list[str]:
    """Unread sources closest in meaning to the question, the target paper first."""
    read = set(state.get("read_ids", []))
    unread = [p["arxiv_id"] for p in state.get("papers", []) if p["arxiv_id"] not in read]
    if not unread or not state.get("question"):
        return []
    hits = memory.query(state["question"], k=len(unread), kind="paper", restrict_to=unread)
    order = {h.source_id: i for i, h in enumerate(hits)}
    target_id = (state.get("target") or {}).get("arxiv_id")
    unread.sort(key=lambda pid: (pid != target_id, order.get(pid, len(order))))
    return unread[: claim_extractor.MAX_SOURCES_PER_ROUND]


def ensure_indexed(env: Env, state: ResearchState) -> MemoryBackend:
    """Vector memory may be in-process (lost when a killed run resumes): re-upsert if needed."""
    memory = env.services.memory()
    papers = state.get("papers", [])
    if not env.services.is_indexed(env.run_id, len(papers)):
        indexer.index_papers(memory, papers)
        env.services.mark_indexed(env.run_id, len(papers))
    return memory
