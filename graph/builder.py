"""Assemble the research state machine. Nodes are sync functions (LangGraph runs parallel
branches in threads, so blocking I/O never sits in the event loop); each is wrapped to log its
inputs/outputs as structlog events and record its timing in the state."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from langgraph.errors import GraphBubbleUp
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agents import (
    claim_extractor,
    conflicts,
    indexer,
    planner,
    policy,
    reporter,
    resolver,
    reviser,
    searcher,
    skeptic,
    synthesizer,
    validator,
)
from agents import facets as facets_mod
from agents import verifier as verifier_mod
from agents.consensus import consensus as consensus_of
from graph import routing
from graph.context import (
    RunContext,
    Services,
    base_settings,
    context_overrides,
    services_for,
    settings_from_record,
    settings_record,
)
from graph.settings import Settings
from graph.state import ResearchInput, ResearchState
from graph.transcript import get_logger
from memory.errors import UserError
from memory.models import Claim, FacetCoverage, Facets, Paper, ProvenanceEvent, Review

DEFAULT_CONCURRENCY = 16  # >= sources read per round, queries per round and reviewers
ProvKind = Literal["fallback", "degraded", "error", "info"]

# Debug hook for step-through and crash tests: "node=seconds,node2=seconds" sleeps before them.
DELAY_ENV = "SOVEREIGN_NODE_DELAY"


@dataclass
class Env:
    """What a node body needs besides the state."""

    settings: Settings
    services: Services
    run_id: str
    round: int
    log: Any

    def provenance(self, node: str, kind: ProvKind, message: str, **detail: Any) -> dict[str, Any]:
        self.log.warning("provenance", kind=kind, message=message, **detail)
        return ProvenanceEvent(
            node=node,
            round=self.round,
            kind=kind,
            message=message,
            detail=detail,
        ).model_dump(mode="json")


def _delays() -> dict[str, float]:
    out: dict[str, float] = {}
    for part in os.environ.get(DELAY_ENV, "").split(","):
        if "=" in part:
            name, secs = part.split("=", 1)
            try:
                out[name.strip()] = float(secs)
            except ValueError:
                continue
    return out


def _summarise(update: dict[str, Any]) -> dict[str, Any]:
    """Compact view of a node's output for the transcript (full data stays in the state)."""
    out: dict[str, Any] = {}
    for key, value in update.items():
        if key == "timings":
            continue
        out[key] = len(value) if isinstance(value, list) else value
    return out


class GraphFactory:
    def __init__(self, settings: Settings | None, services: Services | None) -> None:
        self.base = base_settings(settings)
        self.injected = services

    def env_for(
        self, state: dict[str, Any], runtime: Runtime[Any] | None, node: str, role: str | None
    ) -> Env:
        record = state.get("settings_used")
        if record:
            settings = settings_from_record(self.base, record)
        else:
            ctx = runtime.context if runtime is not None else None
            settings = self.base.with_overrides(**context_overrides(ctx))
        services = self.injected or services_for(settings)
        run_id = state.get("run_id") or ""
        if not run_id and node == "resolve_paper":  # a run started without an id gets one now
            run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        rnd = int(state.get("round", state.get("revision_round", 0)) or 0)
        return Env(settings, services, run_id, rnd, get_logger(run_id, node, role, rnd))

    def node(
        self,
        name: str,
        body: Callable[[dict[str, Any], Env], dict[str, Any]],
        role: str | None = None,
    ) -> Callable[..., dict[str, Any]]:
        factory = self

        def run(state: dict[str, Any], runtime: Runtime[Any]) -> dict[str, Any]:
            env = factory.env_for(state, runtime, name, role)
            delay = _delays().get(name)
            env.log.info("node_start", inputs=_inputs_view(name, state))
            start = time.time()
            if delay:
                time.sleep(delay)
            try:
                update = body(state, env)
            except GraphBubbleUp:  # interrupts and control flow belong to LangGraph
                raise
            except UserError as exc:  # a service went away mid-run: stop cleanly, keep results
                update = {
                    "halted": f"{name} failed: {exc}",
                    "provenance": [env.provenance(name, "error", str(exc))],
                }
            except Exception as exc:  # a bug: still end with a report that says what broke
                if name in ("write_report", "publish"):
                    raise
                env.log.exception("node_failed", error=f"{type(exc).__name__}: {exc}")
                update = {
                    "halted": f"{name} failed unexpectedly ({type(exc).__name__}: {exc})",
                    "provenance": [env.provenance(name, "error", f"{type(exc).__name__}: {exc}")],
                }
            end = time.time()
            update = dict(update)
            update["timings"] = [
                {
                    "node": name,
                    "role": role,
                    "round": env.round,
                    "start": start,
                    "end": end,
                    "wall_s": round(end - start, 4),
                }
            ]
            env.log.info("node_end", outputs=_summarise(update), wall_s=round(end - start, 4))
            return update

        run.__name__ = name
        return run


def _inputs_view(name: str, state: dict[str, Any]) -> dict[str, Any]:
    if name == "search_arxiv":
        return {"query": state.get("query", {}).get("text")}
    if name == "read_source":
        return {"source": state.get("paper", {}).get("arxiv_id")}
    if name in routing.REVIEWERS:
        return {
            "claims": len(state.get("claims", [])),
            "conflicts": len(state.get("conflicts", [])),
        }
    keys = ("question", "paper", "revision_round")
    view: dict[str, Any] = {k: state.get(k) for k in keys if state.get(k) is not None}
    view["papers"] = len(state.get("papers", []))
    view["claims"] = len(state.get("claims", []))
    return view


# --- node bodies -------------------------------------------------------------------------------


def resolve_paper(state: dict[str, Any], env: Env) -> dict[str, Any]:
    settings = env.settings
    question = (state.get("question") or "").strip()
    run_id = env.run_id
    update: dict[str, Any] = {
        "run_id": run_id,
        "started_at": datetime.now(UTC).isoformat(),
        "settings_used": settings_record(settings),
        "revision_round": 0,
        "queries": [],
        "claims": [],
        "verifications": [],
        "conflicts": [],
        "coverage": [],
        "facets": Facets().model_dump(),
    }
    if not question:
        update.update(input_error="the question is empty", target_status="none_named")
        update["target_note"] = "no question was given"
        return update
    if len(question) > settings.max_question_chars:
        update.update(
            input_error=f"the question has {len(question)} characters; the limit is "
            f"{settings.max_question_chars} (SOVEREIGN_MAX_QUESTION_CHARS)",
            target_status="none_named",
            target_note="the question was not analysed",
        )
        return update
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
    env.log.info(
        "decision",
        status=res.status,
        note=res.note,
        target=res.paper.arxiv_id if res.paper else None,
    )
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


def extract_facets(state: dict[str, Any], env: Env) -> dict[str, Any]:
    target = state.get("target")
    facets = facets_mod.extract_facets(state["question"], target["title"] if target else None)
    env.log.info("decision", facets=facets.model_dump())
    return {"facets": facets.model_dump()}


def plan_queries(state: dict[str, Any], env: Env) -> dict[str, Any]:
    facets = Facets.model_validate(state["facets"])
    proposal = planner.plan_queries(
        env.services.llm(), state["question"], facets, state.get("target"), env.settings.num_queries
    )
    queries = [q.model_dump() for q in proposal.value.queries]
    env.log.info("decision", queries=[q["text"] for q in queries], origin=proposal.origin)
    update: dict[str, Any] = {"queries": queries}
    update["provenance"] = _origin_events(env, "plan_queries", proposal)
    return update


def _origin_events(env: Env, node: str, proposal: Any) -> list[dict[str, Any]]:
    if proposal.origin == "fallback":
        return [
            env.provenance(
                node,
                "fallback",
                "LLM proposal rejected; deterministic answer used",
                errors=proposal.errors,
            )
        ]
    return []


def search_arxiv(state: dict[str, Any], env: Env) -> dict[str, Any]:
    try:
        search = env.services.search()
    except UserError as exc:
        entry = {
            "query": state["query"]["text"],
            "round": state["round"],
            "n": 0,
            "error": str(exc),
            "ids": [],
            "start": time.time(),
            "end": time.time(),
        }
        return {"search_log": [entry]}
    papers, entry = searcher.run_search(search, state["query"], env.settings.max_results_per_query)
    env.log.info("decision", query=entry["query"], found=entry["n"], error=entry["error"])
    return {"papers": [p.model_dump(mode="json") for p in papers], "search_log": [entry]}


def index_memory(state: dict[str, Any], env: Env) -> dict[str, Any]:
    rnd = int(state.get("revision_round", 0))
    papers = state.get("papers", [])
    this_round = [e for e in state.get("search_log", []) if e["round"] == rnd]
    update: dict[str, Any] = {}
    failed = [e for e in this_round if e.get("error")]
    found = sum(e["n"] for e in this_round)
    if rnd == 0 and found == 0 and len(papers) <= (1 if state.get("target") else 0):
        if failed and len(failed) == len(this_round):
            update["halted"] = f"every arXiv search failed: {failed[0]['error']}"
        else:
            update["halted"] = "the arXiv searches returned no results"
        update["provenance"] = [env.provenance("index_memory", "error", update["halted"])]
    elif failed:
        update["provenance"] = [
            env.provenance(
                "index_memory",
                "degraded",
                f"{len(failed)} of {len(this_round)} searches failed",
                errors=[e["error"] for e in failed],
            )
        ]
    memory = env.services.memory()
    done = set(state.get("indexed_ids", []))
    indexer.index_papers(memory, [p for p in papers if p["arxiv_id"] not in done])
    ids = [p["arxiv_id"] for p in papers]
    update["indexed_ids"] = ids
    env.services._cache[f"indexed:{env.run_id}:{len(papers)}"] = True
    update["reading_list"] = _reading_list(state, memory)
    env.log.info("decision", indexed=len(ids), reading_list=update["reading_list"])
    for note in env.services.notes:
        update.setdefault("provenance", []).append(env.provenance("index_memory", "degraded", note))
    env.services.notes.clear()
    return update


def _reading_list(state: dict[str, Any], memory: Any) -> list[str]:
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


def _papers(state: dict[str, Any]) -> list[Paper]:
    return [Paper.model_validate(p) for p in state.get("papers", [])]


def _ensure_indexed(env: Env, state: dict[str, Any]) -> Any:
    """Vector memory may be in-process (lost when a killed run resumes): re-upsert if needed."""
    memory = env.services.memory()
    key = f"indexed:{env.run_id}:{len(state.get('papers', []))}"
    if not env.services._cache.get(key):
        indexer.index_papers(memory, state.get("papers", []))
        env.services._cache[key] = True
    return memory


def read_source(state: dict[str, Any], env: Env) -> dict[str, Any]:
    paper = Paper.model_validate(state["paper"])
    proposal, dropped = claim_extractor.read_source(
        env.services.llm(),
        state["question"],
        Facets.model_validate(state["facets"]),
        paper,
        bool(state.get("is_target")),
        bool(state.get("has_target")),
    )
    claims = [c.model_dump() for c in proposal.value.claims]
    for d in dropped:
        env.log.info("claim_dropped", source_id=d["source_id"], text=d["text"], reason=d["reason"])
    for c in claims:
        env.log.info(
            "claim_candidate", source_id=c["source_id"], text=c["text"], relevance=c["relevance"]
        )
    return {
        "candidate_claims": claims,
        "dropped_claims": dropped,
        "provenance": _origin_events(env, "read_source", proposal),
    }


def select_claims(state: dict[str, Any], env: Env) -> dict[str, Any]:
    candidates = [Claim.model_validate(c) for c in state.get("candidate_claims", [])]
    chosen = claim_extractor.select_claims(candidates, env.settings.max_claims)
    for c in chosen:
        env.log.info("claim", id=c.id, source_id=c.source_id, text=c.text, relevance=c.relevance)
    read = sorted({*state.get("read_ids", []), *state.get("reading_list", [])})
    return {"claims": [c.model_dump() for c in chosen], "read_ids": read, "reading_list": []}


def verify_claims(state: dict[str, Any], env: Env) -> dict[str, Any]:
    claims = [Claim.model_validate(c) for c in state.get("claims", [])]
    papers = {p.arxiv_id: p for p in _papers(state)}
    memory = _ensure_indexed(env, state)
    verifier = env.services.verifier()
    method = getattr(verifier, "name", env.settings.verifier) if verifier else "none"
    results = verifier_mod.verify_claims(
        claims, memory, papers, verifier, method, env.settings.evidence_k
    )
    update: dict[str, Any] = {"verifications": [v.model_dump() for v in results]}
    for v in results:
        env.log.info(
            "verdict",
            claim_id=v.claim_id,
            status=v.status,
            confidence=v.confidence,
            evidence=[e.doc_id for e in v.evidence if e.label != "NOT_ENOUGH_INFO"],
        )
    for note in env.services.notes:
        update.setdefault("provenance", []).append(
            env.provenance("verify_claims", "degraded", note)
        )
    env.services.notes.clear()
    return update


def assess_evidence(state: dict[str, Any], env: Env) -> dict[str, Any]:
    claims = [Claim.model_validate(c) for c in state.get("claims", [])]
    facets = Facets.model_validate(state["facets"])
    found = conflicts.find_conflicts(claims, facets.entity)
    cov = facets_mod.coverage(facets, state.get("papers", []), state.get("question", ""))
    for c in found:
        env.log.info("conflict", note=c.note, claim_ids=c.claim_ids)
    for item in cov:
        env.log.info("coverage", facet=item.facet, value=item.value, covered=item.covered)
    return {
        "conflicts": [c.model_dump() for c in found],
        "coverage": [c.model_dump() for c in cov],
    }


def _reviewer(module: Any, node: str) -> Callable[[dict[str, Any], Env], dict[str, Any]]:
    def body(state: dict[str, Any], env: Env) -> dict[str, Any]:
        proposal = module.review(env.services.llm(), state)
        review: Review = proposal.value
        env.log.info(
            "review",
            score=review.score,
            rubric=review.rubric,
            concerns=[c.model_dump() for c in review.concerns],
        )
        return {
            "reviews": [review.model_dump()],
            "provenance": _origin_events(env, node, proposal),
        }

    return body


def consensus(state: dict[str, Any], env: Env) -> dict[str, Any]:
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


def revise(state: dict[str, Any], env: Env) -> dict[str, Any]:
    rnd = int(state.get("revision_round", 0))
    new_round = rnd + 1
    reviews = [Review.model_validate(r) for r in state.get("reviews", []) if r["round"] == rnd]
    proposal = reviser.revise(
        env.services.llm(),
        new_round,
        state["question"],
        Facets.model_validate(state["facets"]),
        [FacetCoverage.model_validate(c) for c in state.get("coverage", [])],
        [Claim.model_validate(c) for c in state.get("claims", [])],
        reviews,
        {q["text"] for q in state.get("queries", [])},
        env.settings.num_queries,
    )
    plan = proposal.value
    env.log.info(
        "decision",
        round=new_round,
        queries=[q.text for q in plan.queries],
        rationale=plan.rationale,
    )
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
        "provenance": _origin_events(env, "revise", proposal),
    }


def apply_policy(state: dict[str, Any], env: Env) -> dict[str, Any]:
    decision, reasons = policy.decide(state, env.settings.consensus_threshold)
    env.log.info("decision", policy=decision, reasons=reasons)
    return {"policy": decision, "policy_reasons": reasons}


def _out_dir(state: dict[str, Any], env: Env) -> Path:
    if state.get("out_dir"):
        return Path(state["out_dir"])
    return env.settings.runs_dir / (env.run_id or "unnamed")


def _run_info(env: Env) -> dict[str, Any]:
    services = env.services
    info: dict[str, Any] = {"embedding": dict(services.embedding_info)}
    try:
        ver = services.verifier()
        info["verifier"] = getattr(ver, "name", env.settings.verifier) if ver else "none"
        describe = getattr(ver, "describe", None)
        if callable(describe):
            info["verifier_detail"] = str(describe())
    except UserError:
        info["verifier"] = "unavailable"
    llm = services.llm() if env.settings.llm_base_url else None
    usage = getattr(llm, "usage", None)
    if usage is not None:
        info["llm_usage"] = usage.snapshot()
    return info


def write_report(state: dict[str, Any], env: Env) -> dict[str, Any]:
    out = _out_dir(state, env)
    full = dict(state)
    full["report_path"] = str(out / "report.md")
    full["json_path"] = str(out / "run.json")
    report, data = reporter.write(full, _run_info(env), out)
    env.log.info(
        "decision", report=str(report), json=str(data), results=reporter.results_line(state)
    )
    return {"report_path": str(report), "json_path": str(data)}


def owner_review(state: dict[str, Any], env: Env) -> dict[str, Any]:
    decision = interrupt(
        {
            "run_id": env.run_id,
            "report_path": state.get("report_path"),
            "policy_reasons": state.get("policy_reasons", []),
            "resume_with": {"decision": "approve|reject", "note": "str", "who": "str"},
        }
    )
    if not isinstance(decision, dict) or decision.get("decision") not in ("approve", "reject"):
        raise UserError('resume owner_review with {"decision": "approve"|"reject", "note", "who"}')
    record = {
        "decision": decision["decision"],
        "note": str(decision.get("note", "")),
        "who": str(decision.get("who", "owner")),
        "at": datetime.now(UTC).isoformat(),
    }
    env.log.info("decision", owner_decision=record)
    full = dict(state, owner_decision=record)
    reporter.write(full, _run_info(env), Path(state["report_path"]).parent)
    update = _record_publication(full, env, "owner_review")
    update["owner_decision"] = record
    return update


def _record_publication(state: dict[str, Any], env: Env, node: str) -> dict[str, Any]:
    """Hand the run to the publication subsystem when it is installed (guarded import)."""
    try:
        from memory.publication import record_run
    except ImportError:
        return {"publication": None}
    try:
        result: Any = record_run(dict(state), env.settings)
    except Exception as exc:  # publication failing must not lose the report already written
        return {
            "publication": None,
            "provenance": [env.provenance(node, "error", f"publication failed: {exc}")],
        }
    if hasattr(result, "as_dict"):
        result = result.as_dict()
    summary = {k: result.get(k) for k in ("report_id", "run_id", "status", "version")}
    env.log.info("decision", publication=summary)
    return {"publication": summary}


def publish(state: dict[str, Any], env: Env) -> dict[str, Any]:
    return _record_publication(state, env, "publish")


# --- assembly ----------------------------------------------------------------------------------


def build_graph(
    settings: Settings | None = None,
    checkpointer: Any = None,
    services: Services | None = None,
    max_concurrency: int | None = None,
) -> Any:
    """The compiled research graph. `graph.invoke({"question": ...})` runs it; pass a
    checkpointer to make runs resumable (and owner review pausable)."""
    f = GraphFactory(settings, services)
    g: StateGraph[Any, Any, Any, Any] = StateGraph(
        ResearchState, context_schema=RunContext, input_schema=ResearchInput
    )
    g.add_node("resolve_paper", f.node("resolve_paper", resolve_paper, "resolver"))
    g.add_node("extract_facets", f.node("extract_facets", extract_facets, "facets"))
    g.add_node("plan_queries", f.node("plan_queries", plan_queries, "planner"))
    g.add_node("search_arxiv", f.node("search_arxiv", search_arxiv, "searcher"))
    g.add_node("index_memory", f.node("index_memory", index_memory, "indexer"))
    g.add_node("read_source", f.node("read_source", read_source, "claim_extractor"))
    g.add_node("select_claims", f.node("select_claims", select_claims, "claim_extractor"))
    g.add_node("verify_claims", f.node("verify_claims", verify_claims, "verifier"))
    g.add_node("assess_evidence", f.node("assess_evidence", assess_evidence, "verifier"))
    g.add_node("skeptic", f.node("skeptic", _reviewer(skeptic, "skeptic"), "SKEPTIC"))
    g.add_node("validator", f.node("validator", _reviewer(validator, "validator"), "VALIDATOR"))
    g.add_node(
        "synthesizer", f.node("synthesizer", _reviewer(synthesizer, "synthesizer"), "SYNTHESIZER")
    )
    g.add_node("consensus", f.node("consensus", consensus, "tribunal"))
    g.add_node("revise", f.node("revise", revise, "reviser"))
    g.add_node("apply_policy", f.node("apply_policy", apply_policy, "policy"))
    g.add_node("write_report", f.node("write_report", write_report, "reporter"))
    g.add_node("owner_review", f.node("owner_review", owner_review, "owner"))
    g.add_node("publish", f.node("publish", publish, "publisher"))

    g.add_edge(START, "resolve_paper")
    g.add_conditional_edges(
        "resolve_paper", routing.after_resolve, ["extract_facets", "apply_policy"]
    )
    g.add_edge("extract_facets", "plan_queries")
    g.add_conditional_edges(
        "plan_queries", routing.fan_out_search, ["search_arxiv", "apply_policy"]
    )
    g.add_edge("search_arxiv", "index_memory")
    g.add_conditional_edges(
        "index_memory", routing.fan_out_read, ["read_source", "select_claims", "apply_policy"]
    )
    g.add_edge("read_source", "select_claims")
    g.add_edge("select_claims", "verify_claims")
    g.add_edge("verify_claims", "assess_evidence")
    g.add_conditional_edges(
        "assess_evidence", routing.fan_out_review, [*routing.REVIEWERS, "apply_policy"]
    )
    for role in routing.REVIEWERS:
        g.add_edge(role, "consensus")
    g.add_conditional_edges("consensus", routing.after_consensus, ["revise", "apply_policy"])
    g.add_conditional_edges("revise", routing.after_revise, ["search_arxiv", "apply_policy"])
    g.add_edge("apply_policy", "write_report")
    g.add_edge("write_report", "publish")
    g.add_conditional_edges("publish", routing.after_publish, ["owner_review", END])
    g.add_edge("owner_review", END)
    compiled = g.compile(checkpointer=checkpointer, name="sovereign")
    # Enough worker threads for every parallel branch of a superstep (the executor's default,
    # cpu+4, would run the source readers in waves); a caller's max_concurrency still wins.
    return compiled.with_config(
        {"max_concurrency": max_concurrency or DEFAULT_CONCURRENCY, "recursion_limit": 200}
    )
