"""Conditional edges: where the graph goes after each decision point. Fan-out uses `Send` so
the searches and the three reviewers run as parallel branches."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END
from langgraph.types import Send

from agents.reviser import round_yield
from graph.state import ResearchState

REVIEWERS = ("skeptic", "validator", "synthesizer")
POLICY = "apply_policy"


def stopped(state: ResearchState) -> bool:
    return bool(state.get("input_error") or state.get("halted"))


def after_resolve(state: ResearchState) -> str:
    if stopped(state) or state.get("target_status") in ("not_found", "unavailable"):
        return POLICY
    return "extract_facets"


def _search_sends(state: ResearchState, round: int) -> list[Send]:
    run_id = state.get("run_id", "")
    return [
        Send(
            "search_arxiv",
            {
                "run_id": run_id,
                "query": q,
                "round": round,
                "settings_used": state.get("settings_used", {}),
            },
        )
        for q in state.get("queries", [])
        if q.get("round", 0) == round
    ]


def fan_out_search(state: ResearchState) -> list[Send] | str:
    """One branch per query of the current round (after planning or a revision)."""
    if stopped(state):
        return POLICY
    sends = _search_sends(state, int(state.get("revision_round", 0)))
    return sends or POLICY


def after_revise(state: ResearchState) -> list[Send] | str:
    """Search the revision's queries; if the reviser found nothing new, go to the policy."""
    if state.get("revision_exhausted"):
        return POLICY
    return fan_out_search(state)


def fan_out_read(state: ResearchState) -> list[Send] | str:
    """One branch per source to read this round; none left to read -> select directly."""
    if stopped(state):
        return POLICY
    papers = {p["arxiv_id"]: p for p in state.get("papers", [])}
    target_id = (state.get("target") or {}).get("arxiv_id")
    reading = [pid for pid in state.get("reading_list", []) if pid in papers]
    # the target is always read in full; of the others, the `fulltext_sources` most relevant
    others = [pid for pid in reading if pid != target_id]
    full = set(others[: int(state["settings_used"]["fulltext_sources"])]) | {target_id}
    sends = [
        Send(
            "read_source",
            {
                "run_id": state.get("run_id", ""),
                "round": int(state.get("revision_round", 0)),
                "question": state.get("question", ""),
                "facets": state.get("facets", {}),
                "paper": papers[pid],
                "is_target": pid == target_id,
                "has_target": target_id is not None,
                "read_full": pid in full,
                "settings_used": state.get("settings_used", {}),
            },
        )
        for pid in reading
    ]
    if not sends and int(state.get("revision_round", 0)) > 0:
        return POLICY  # the revision round found no new source: the loop ends (report says so)
    return sends or "select_claims"


def fan_out_review(state: ResearchState) -> list[Send] | str:
    """The three reviewers on one snapshot; a revision round whose new sources brought no
    statement bearing on the question ends the loop (the last verdict stands)."""
    if stopped(state):
        return POLICY
    rnd = int(state.get("revision_round", 0))
    if rnd > 0 and round_yield(dict(state), rnd).empty:
        return POLICY
    task: dict[str, Any] = {
        "run_id": state.get("run_id", ""),
        "round": int(state.get("revision_round", 0)),
        "question": state.get("question", ""),
        "facets": state.get("facets", {}),
        "claims": state.get("claims", []),
        "verifications": state.get("verifications", []),
        "conflicts": state.get("conflicts", []),
        "coverage": state.get("coverage", []),
        "joint_coverage": state.get("joint_coverage", []),
        "target_status": state.get("target_status", "none_named"),
        "settings_used": state.get("settings_used", {}),
    }
    return [Send(role, dict(task)) for role in REVIEWERS]


def after_consensus(state: ResearchState) -> str:
    """Loop back for revision while below threshold and under the revision cap."""
    s = state["settings_used"]  # written by the first node: the run's own Settings
    threshold = float(s["consensus_threshold"])
    cap = int(s["max_revisions"])
    if float(state.get("consensus", 0.0)) < threshold and int(state.get("revision_round", 0)) < cap:
        return "revise"
    return POLICY


def after_publish(state: ResearchState) -> str:
    """Escalated runs pause for the owner only when asked (the CLI asks; it has a checkpointer)."""
    if state.get("policy") == "ESCALATE_TO_OWNER" and state.get("owner_review"):
        return "owner_review"
    return END
