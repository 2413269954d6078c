"""The one typed record of a research run. The graph's state holds the same fields as JSON
dicts (so checkpoints and Studio read plain data); every consumer of a finished run (reporter,
policy, runner, publication, site) reads this model instead of guessing at dict keys.

It lives at the bottom (`memory`) because the publication store below the agents reads it too;
`graph/state.py` declares the state with the same field names, and a test keeps the two equal."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from memory.models import (
    Answer,
    Claim,
    Conflict,
    FacetCombination,
    FacetCoverage,
    Facets,
    FullTextRead,
    Paper,
    ProvenanceEvent,
    Review,
    RevisionPlan,
    SearchQuery,
    TableCheck,
    TargetMatch,
    Verification,
)
from memory.secrets import scrub

RUN_RECORD_VERSION: Final = "run-record-v1"
TargetStatus = Literal["resolved", "not_found", "none_named", "unavailable", "ambiguous"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SearchLogEntry(_Record):
    """One arXiv search of one round: what was asked, what came back, or why nothing did."""

    query: str
    purpose: str = ""
    round: int = 0
    start: float = 0.0
    end: float = 0.0
    n: int = 0
    error: str | None = None
    ids: list[str] = Field(default_factory=list)


class DroppedClaim(_Record):
    """A candidate sentence the extractor refused, with the reason (shown in the report)."""

    text: str
    source_id: str
    sentence_index: int | None = None
    location: str | None = None
    relevance: float = 0.0
    reason: str


class ConsensusPoint(_Record):
    round: int
    consensus: float


class Timing(_Record):
    """One node execution: wall-clock start/end (epoch seconds) and its duration."""

    node: str
    role: str | None = None
    round: int = 0
    start: float
    end: float
    wall_s: float


class OwnerDecision(_Record):
    decision: Literal["approve", "reject"]
    note: str = ""
    who: str = "owner"
    at: str


class PublicationSummary(_Record):
    report_id: str | None = None
    run_id: str | None = None
    status: str | None = None
    version: int | None = None


class RunInfo(_Record):
    """What the run's services were, as they said at report time (not as configured)."""

    embedding: dict[str, Any] = Field(default_factory=dict)
    arxiv_source: str | None = None  # the arXiv the run searched (mirror or online, as chosen)
    verifier: str = "none"
    verifier_detail: str | None = None
    llm_usage: dict[str, Any] | None = None


class RunFigures(_Record):
    """The numbers a report states about its run (run.json's "summary"); computed once, by
    `RunRecord.figures`, so the report, `sovereign show` and the tests cannot disagree."""

    papers_retrieved: int
    claims_extracted: int
    claims_verified: int
    consensus: float
    decision: Literal["APPROVE", "REJECT"]
    revision_round: int
    policy: str
    conflicts: int
    queries: int


class RunRecord(_Record):
    """A run as it stands (finished, halted or paused for the owner)."""

    schema_version: Literal["run-record-v1"] = RUN_RECORD_VERSION
    run_id: str = ""
    question: str = ""
    paper: str | None = None
    out_dir: str | None = None
    owner_review: bool = False
    started_at: str | None = None
    settings_used: dict[str, Any] = Field(default_factory=dict)
    input_error: str | None = None
    target: Paper | None = None
    target_status: str = "none_named"
    target_note: str = ""
    target_match: TargetMatch | None = None
    facets: Facets = Field(default_factory=Facets)
    queries: list[SearchQuery] = Field(default_factory=list)
    search_log: list[SearchLogEntry] = Field(default_factory=list)
    papers: list[Paper] = Field(default_factory=list)
    indexed_ids: list[str] = Field(default_factory=list)
    reading_list: list[str] = Field(default_factory=list)
    read_ids: list[str] = Field(default_factory=list)
    candidate_claims: list[Claim] = Field(default_factory=list)
    dropped_claims: list[DroppedClaim] = Field(default_factory=list)
    fulltext_log: list[FullTextRead] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    verifications: list[Verification] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    table_checks: list[TableCheck] = Field(default_factory=list)
    coverage: list[FacetCoverage] = Field(default_factory=list)
    joint_coverage: list[FacetCombination] = Field(default_factory=list)
    answer: Answer | None = None
    reviews: list[Review] = Field(default_factory=list)
    consensus: float = 0.0
    consensus_history: list[ConsensusPoint] = Field(default_factory=list)
    revision_round: int = 0
    revision_exhausted: bool = False
    revision_plans: list[RevisionPlan] = Field(default_factory=list)
    policy: str = "ESCALATE_TO_OWNER"
    policy_reasons: list[str] = Field(default_factory=list)
    report_path: str | None = None
    json_path: str | None = None
    owner_decision: OwnerDecision | None = None
    publication: PublicationSummary | None = None
    provenance: list[ProvenanceEvent] = Field(default_factory=list)
    timings: list[Timing] = Field(default_factory=list)
    halted: str | None = None

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RunRecord:
        """Read the graph's state (plain JSON dicts); keys the record does not know are
        LangGraph's own (`_next`, `_interrupts`) and are ignored. Every string is scrubbed of
        credentials: each consumer (run.json, report, publication store, site) reads this."""
        data = {k: scrub(v) for k, v in state.items() if v is not None or k in _NULLABLE}
        return cls.model_validate(data)

    # --- the figures every consumer states; computed here once -----------------------------

    @property
    def consensus_threshold(self) -> float:
        return float(self.settings_used["consensus_threshold"])

    @property
    def max_revisions(self) -> int:
        return int(self.settings_used["max_revisions"])

    @property
    def passes_tribunal(self) -> bool:
        """The tribunal's verdict: consensus at or above the run's own pass mark."""
        return self.consensus >= self.consensus_threshold

    @property
    def decided(self) -> bool:
        """Whether the policy has spoken; `policy` has a default, so a run stopped before the
        policy node is told apart by the field never having been set."""
        return "policy" in self.model_fields_set

    def figures(self) -> RunFigures:
        return RunFigures(
            papers_retrieved=len(self.papers),
            claims_extracted=len(self.claims),
            claims_verified=len(self.verified()),
            consensus=self.consensus,
            decision="APPROVE" if self.passes_tribunal else "REJECT",
            revision_round=self.revision_round,
            policy=self.policy,
            conflicts=len(self.conflicts),
            queries=len(self.queries),
        )

    def verified(self) -> list[Verification]:
        return [v for v in self.verifications if v.status == "verified"]

    def unverified(self) -> list[Verification]:
        """Verifications that found no support (unverified or contradicted)."""
        return [v for v in self.verifications if v.status != "verified"]

    def uncovered(self) -> list[FacetCoverage]:
        return [c for c in self.coverage if not c.covered]

    def final_reviews(self) -> list[Review]:
        """The reviews of the last round held (earlier rounds are history)."""
        last = max((r.round for r in self.reviews), default=None)
        return [r for r in self.reviews if r.round == last]

    def paper_index(self) -> dict[str, Paper]:
        return {p.arxiv_id: p for p in self.papers}

    def sources_read(self) -> list[str]:
        """Every source a round read (abstract or full text), in the order first read."""
        return list(dict.fromkeys(r.source_id for r in self.fulltext_log))

    def read_in_full(self) -> dict[str, FullTextRead]:
        """Sources whose full text some round read, with that reading."""
        return {r.source_id: r for r in self.fulltext_log if r.status == "full"}

    def read_as_abstract(self) -> dict[str, str]:
        """Sources only ever read as abstracts, with the last reason (for Uncertainties);
        sources the run chose not to read in full are left out (that is a setting, not a gap)."""
        full = self.read_in_full()
        out: dict[str, str] = {}
        for r in self.fulltext_log:
            if r.source_id not in full and r.reason and not r.reason.startswith("not among"):
                out[r.source_id] = r.reason
        return out

    def verification_of(self, claim_id: str) -> Verification | None:
        return next((v for v in self.verifications if v.claim_id == claim_id), None)

    def state_json(self) -> dict[str, Any]:
        """The record as the JSON the run file stores under "state"."""
        return self.model_dump(mode="json")


_NULLABLE = {
    "paper",
    "out_dir",
    "input_error",
    "target",
    "target_match",
    "answer",
    "owner_decision",
    "publication",
    "halted",
}


def critical_path(spans: Iterable[tuple[float, float]]) -> float:
    """The run's critical path from its node executions (start, end): executions that overlap
    form one superstep, which costs its longest execution; supersteps add up. Wall time over
    this shows what the orchestration itself costs."""
    total, group_end, group_max = 0.0, None, 0.0
    for start, end in sorted(spans):
        if group_end is not None and start < group_end:
            group_end = max(group_end, end)
            group_max = max(group_max, end - start)
            continue
        total += group_max
        group_end, group_max = end, end - start
    return total + group_max
