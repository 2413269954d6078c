"""The research state machine, wired in the order the report's Methodology tells it. Node
bodies live in `graph/nodes/` by stage, the conditional edges in `graph/routing.py`, and the
instrumentation every node shares (transcripts, timings, failure handling) in
`graph/instrument.py`. Nodes are sync functions: LangGraph runs parallel branches in threads,
so blocking I/O never sits in an event loop."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from graph import routing
from graph.context import RunContext
from graph.instrument import Body, NodeFactory
from graph.nodes import evidence, intake, publication, retrieval, tribunal
from graph.services import Services
from graph.settings import Settings
from graph.state import ResearchInput, ResearchState

DEFAULT_CONCURRENCY = 16  # >= sources read per round, queries per round and reviewers

# name -> (body, role in the transcripts), in pipeline order.
NODES: dict[str, tuple[Body, str]] = {
    # intake: the named paper (never a substitute), the question's facets, the first queries
    "resolve_paper": (intake.resolve_paper, "resolver"),
    "extract_facets": (intake.extract_facets, "facets"),
    "plan_queries": (intake.plan_queries, "planner"),
    # retrieval: one arXiv search per query (Send fan-out), then the vector memory
    "search_arxiv": (retrieval.search_arxiv, "searcher"),
    "index_memory": (retrieval.index_memory, "indexer"),
    # evidence: read each source (Send fan-out), select, verify against other sources, assess
    "read_source": (evidence.read_source, "claim_extractor"),
    "select_claims": (evidence.select_claims, "claim_extractor"),
    "verify_claims": (evidence.verify_claims, "verifier"),
    "assess_evidence": (evidence.assess_evidence, "verifier"),
    # tribunal: three reviewers in parallel (Send fan-out), consensus, revision
    "skeptic": (tribunal.reviewer("skeptic"), "SKEPTIC"),
    "validator": (tribunal.reviewer("validator"), "VALIDATOR"),
    "synthesizer": (tribunal.reviewer("synthesizer"), "SYNTHESIZER"),
    "consensus": (tribunal.consensus, "tribunal"),
    "revise": (tribunal.revise, "reviser"),
    # publication: policy, report, publication store, owner review of escalated runs
    "apply_policy": (publication.apply_policy, "policy"),
    "write_report": (publication.write_report, "reporter"),
    "publish": (publication.publish, "publisher"),
    "owner_review": (publication.owner_review, "owner"),
}


def _wire(g: StateGraph[Any, Any, Any, Any]) -> None:
    """The edges, in pipeline order. Every early stop (bad input, paper not found, service
    down, nothing found) goes to the policy, so every run ends with a report."""
    policy = routing.POLICY

    # intake -> retrieval
    g.add_edge(START, "resolve_paper")
    g.add_conditional_edges("resolve_paper", routing.after_resolve, ["extract_facets", policy])
    g.add_edge("extract_facets", "plan_queries")
    g.add_conditional_edges("plan_queries", routing.fan_out_search, ["search_arxiv", policy])

    # retrieval -> evidence: one read_source branch per source on this round's reading list
    g.add_edge("search_arxiv", "index_memory")
    g.add_conditional_edges(
        "index_memory", routing.fan_out_read, ["read_source", "select_claims", policy]
    )
    g.add_edge("read_source", "select_claims")
    g.add_edge("select_claims", "verify_claims")
    g.add_edge("verify_claims", "assess_evidence")

    # evidence -> tribunal: the three reviewers score the same snapshot in parallel
    g.add_conditional_edges("assess_evidence", routing.fan_out_review, [*routing.REVIEWERS, policy])
    for role in routing.REVIEWERS:
        g.add_edge(role, "consensus")

    # the revision loop: below the pass mark and under the cap, search again
    g.add_conditional_edges("consensus", routing.after_consensus, ["revise", policy])
    g.add_conditional_edges("revise", routing.after_revise, ["search_arxiv", policy])

    # publication: escalated runs pause for the owner when asked
    g.add_edge(policy, "write_report")
    g.add_edge("write_report", "publish")
    g.add_conditional_edges("publish", routing.after_publish, ["owner_review", END])
    g.add_edge("owner_review", END)


def build_graph(
    settings: Settings | None = None,
    checkpointer: Any = None,
    services: Services | None = None,
    max_concurrency: int | None = None,
) -> Any:
    """The compiled research graph. `graph.invoke({"question": ...})` runs it; pass a
    checkpointer to make runs resumable (and owner review pausable)."""
    factory = NodeFactory(settings, services)
    g: StateGraph[Any, Any, Any, Any] = StateGraph(
        ResearchState, context_schema=RunContext, input_schema=ResearchInput
    )
    for name, (body, role) in NODES.items():
        g.add_node(name, factory.node(name, body, role))
    _wire(g)
    compiled = g.compile(checkpointer=checkpointer, name="sovereign")
    # Enough worker threads for every parallel branch of a superstep (the executor's default,
    # cpu+4, would run the source readers in waves); a caller's max_concurrency still wins.
    return compiled.with_config(
        {"max_concurrency": max_concurrency or DEFAULT_CONCURRENCY, "recursion_limit": 200}
    )
