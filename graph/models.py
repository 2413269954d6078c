"""Run-level records. The graph state stores them as plain JSON dicts (`model_dump(mode="json")`)
so checkpoints, Studio and the run's JSON file all read the same thing; code re-validates
them with these models when it needs types."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Label = Literal["SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO"]
Role = Literal["SKEPTIC", "VALIDATOR", "SYNTHESIZER"]
Policy = Literal["AUTO_APPROVE", "ESCALATE_TO_OWNER"]
Origin = Literal["deterministic", "llm", "fallback"]


class Facets(BaseModel):
    """What the question asks about; each non-empty facet must be covered by evidence."""

    entity: list[str] = Field(default_factory=list, description="methods/models/systems named")
    metric: list[str] = Field(default_factory=list, description="e.g. throughput, accuracy, F1")
    benchmark: list[str] = Field(default_factory=list, description="datasets or benchmarks")
    comparison: list[str] = Field(default_factory=list, description="what it is compared with")
    conditions: list[str] = Field(default_factory=list, description="settings, scales, regimes")


class FacetCoverage(BaseModel):
    facet: str  # e.g. "benchmark"
    value: str  # e.g. "Winoground"
    covered: bool
    source_ids: list[str] = Field(default_factory=list)
    note: str = ""  # e.g. "no retrieved source measures throughput on Winoground"


class SearchQuery(BaseModel):
    text: str = Field(description="arXiv search_query string")
    purpose: str = ""
    round: int = 0


class Claim(BaseModel):
    id: str = Field(description="stable within a run, e.g. C1")
    text: str
    quote: str = Field(description="verbatim sentence(s) of the source that state the claim")
    source_id: str = Field(description="arXiv id (no version) of a retrieved paper")
    sentence_index: int | None = None
    metric: str | None = None
    value: float | None = None
    unit: str | None = None
    setting: str | None = None  # benchmark/dataset/condition the number belongs to
    facets: list[str] = Field(default_factory=list, description="facet values it bears on")
    relevance: float = 0.0
    origin: Origin = "deterministic"


class EvidenceDoc(BaseModel):
    """A candidate source for verifying one claim: its abstract as sentences."""

    doc_id: str
    title: str = ""
    sentences: list[str]
    retrieval_score: float = 0.0


class DocVerdict(BaseModel):
    """A verifier's answer for one (claim, document) pair."""

    doc_id: str
    label: Label
    confidence: float = Field(ge=0, le=1, description="calibrated probability of `label`")
    rationale: list[int] = Field(default_factory=list, description="sentence indices")


class Verification(BaseModel):
    claim_id: str
    status: Literal["verified", "contradicted", "unverified"]
    confidence: float = Field(ge=0, le=1)
    method: str
    evidence: list[DocVerdict] = Field(default_factory=list)
    evidence_quotes: list[str] = Field(default_factory=list)


class Conflict(BaseModel):
    metric: str
    setting: str
    claim_ids: list[str]
    values: list[float]
    note: str


class Concern(BaseModel):
    text: str
    claim_ids: list[str] = Field(default_factory=list)
    severity: Literal["low", "medium", "high"] = "medium"


class Review(BaseModel):
    role: Role
    round: int
    score: float = Field(ge=0, le=10)
    rubric: dict[str, float] = Field(default_factory=dict, description="criterion -> 0..10")
    concerns: list[Concern] = Field(default_factory=list)
    summary: str = ""
    origin: Origin = "deterministic"


class RevisionPlan(BaseModel):
    round: int
    queries: list[SearchQuery]
    rationale: str = ""
    origin: Origin = "deterministic"


class ProvenanceEvent(BaseModel):
    """Anything a reader must know happened: a fallback, a degraded service, an error."""

    node: str
    round: int = 0
    kind: Literal["fallback", "degraded", "error", "info"]
    message: str
    detail: dict[str, object] = Field(default_factory=dict)
