"""The research state. Items are JSON dicts of `memory.models` records so checkpoints, Studio and
the run's JSON file read the same thing; lists written by fan-out branches use reducers."""

from __future__ import annotations

import operator
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, TypedDict


def new_run_id() -> str:
    """The one place run ids are minted: sortable by start time, unique by a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def keep_first(left: str | None, right: str | None) -> str | None:
    """The first non-empty value wins (a later failure does not hide the first one)."""
    return left or right


def merge_papers(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Union by arXiv id, first sighting wins (it keeps the query that found it first)."""
    seen = {p["arxiv_id"] for p in left}
    out = list(left)
    for paper in right:
        if paper["arxiv_id"] not in seen:
            seen.add(paper["arxiv_id"])
            out.append(paper)
    return out


class ResearchInput(TypedDict, total=False):
    """What a caller passes to `graph.invoke`."""

    question: str
    paper: str | None  # arXiv id or title of the target paper (`--paper`)
    run_id: str
    out_dir: str | None  # where the report goes; default $SOVEREIGN_HOME/runs/<run_id>
    owner_review: bool  # pause escalated runs for the owner (needs a checkpointer)


class ResearchState(ResearchInput, total=False):
    started_at: str
    settings_used: dict[str, Any]
    input_error: str | None  # empty/oversized question: escalate with a report that says so
    target: dict[str, Any] | None  # Paper
    target_status: str  # "resolved" | "not_found" | "none_named" | "unavailable"
    target_note: str
    target_match: dict[str, Any] | None  # TargetMatch: how the question named it, and why
    facets: dict[str, list[str]]  # Facets
    queries: list[dict[str, Any]]  # SearchQuery, every round
    search_log: Annotated[list[dict[str, Any]], operator.add]
    papers: Annotated[list[dict[str, Any]], merge_papers]  # Paper
    indexed_ids: list[str]
    reading_list: list[str]  # sources to read this round (one `read_source` branch each)
    read_ids: list[str]  # sources already read in earlier rounds
    candidate_claims: Annotated[list[dict[str, Any]], operator.add]  # Claim, from every source
    dropped_claims: Annotated[list[dict[str, Any]], operator.add]  # {"text", "source_id", "reason"}
    fulltext_log: Annotated[list[dict[str, Any]], operator.add]  # FullTextRead, one per source read
    claims: list[dict[str, Any]]  # Claim: the selected ones, ids C1..Cn
    verifications: list[dict[str, Any]]  # Verification
    conflicts: list[dict[str, Any]]  # Conflict
    table_checks: list[dict[str, Any]]  # TableCheck: claims' figures against tables
    coverage: list[dict[str, Any]]  # FacetCoverage
    joint_coverage: list[dict[str, Any]]  # FacetCombination: facets stated together, or not
    answer: dict[str, Any] | None  # Answer: per combination, what the evidence says
    reviews: Annotated[list[dict[str, Any]], operator.add]  # Review, every round
    consensus: float
    consensus_history: Annotated[list[dict[str, Any]], operator.add]
    revision_round: int
    revision_exhausted: bool  # the reviser found no new query: the loop ends honestly
    revision_plans: Annotated[list[dict[str, Any]], operator.add]  # RevisionPlan
    policy: str  # Policy
    policy_reasons: list[str]
    report_path: str
    json_path: str
    owner_decision: dict[str, Any] | None
    publication: dict[str, Any] | None
    provenance: Annotated[list[dict[str, Any]], operator.add]  # ProvenanceEvent
    timings: Annotated[list[dict[str, Any]], operator.add]
    # why the analysis stopped early (bad input, service down, no results); parallel branches
    # may each fail in one step, so the first reason is kept
    halted: Annotated[str | None, keep_first]


class SearchTask(TypedDict):
    """Input of one `search_arxiv` branch (sent with `Send`)."""

    run_id: str
    query: dict[str, Any]
    round: int
    settings_used: dict[str, Any]


class ReadTask(TypedDict):
    """Input of one `read_source` branch (sent with `Send`)."""

    run_id: str
    round: int
    question: str
    facets: dict[str, list[str]]
    paper: dict[str, Any]
    is_target: bool
    has_target: bool
    read_full: bool  # fetch and read its full text (the target and the most relevant others)
    settings_used: dict[str, Any]


class ReviewTask(TypedDict):
    """Input of one reviewer branch (sent with `Send`): a snapshot of the draft."""

    run_id: str
    round: int
    question: str
    facets: dict[str, list[str]]
    claims: list[dict[str, Any]]
    verifications: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    coverage: list[dict[str, Any]]
    joint_coverage: list[dict[str, Any]]
    target_status: str
    settings_used: dict[str, Any]
