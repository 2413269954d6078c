"""The kernel's domain records, at the bottom so every room may import them: papers and
passages (mirror, vector memory), and the run-level records the agents produce and the graph
stores as plain JSON dicts (`model_dump(mode="json")`) so checkpoints, Studio and the run's
JSON file read the same thing. Text fields are stored whole: display code may elide, these
never do."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from memory.text import normalize_text, split_sentences

_ID_VERSION = re.compile(r"^(?P<id>.+?)(?:v(?P<v>\d+))?$")


def split_arxiv_id(raw: str) -> tuple[str, int | None]:
    """'2604.23996v2' -> ('2604.23996', 2); also accepts abs URLs and old-style ids."""
    raw = raw.strip()
    raw = re.sub(r"^(https?://[^/]+/(abs|pdf)/)", "", raw)
    raw = raw.removeprefix("arXiv:").removeprefix("arxiv:").removesuffix(".pdf")
    m = _ID_VERSION.match(raw)
    assert m is not None
    v = m.group("v")
    return m.group("id"), int(v) if v else None


class Paper(BaseModel):
    """One arXiv record as the kernel read it."""

    arxiv_id: str = Field(description="Id without version, e.g. 2604.23996")
    version: int = 1
    title: str
    abstract: str
    authors: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    primary_category: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    abs_url: str = ""
    pdf_url: str | None = None
    # provenance: which query found it and when
    query: str | None = None
    retrieved_at: datetime | None = None

    @field_validator("title", "abstract", "comment", "journal_ref")
    @classmethod
    def _hygiene(cls, text: str | None) -> str | None:
        """Text hygiene wherever a record is made (arXiv client, mirror, fixtures, a stored
        state): NFC, no control or bidi-override characters (`memory.text.normalize_text`)."""
        return None if text is None else normalize_text(text)

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"

    @property
    def year(self) -> int | None:
        when = self.published or self.updated
        if when is not None:
            return when.year
        m = re.match(r"^(\d{2})(\d{2})\.", self.arxiv_id)
        return 2000 + int(m.group(1)) if m else None

    def sentences(self) -> list[str]:
        """The abstract's sentences; index i here is sentence i everywhere in the kernel."""
        return split_sentences(self.abstract)


class Passage(BaseModel):
    """One hit from vector memory: a whole paper, one abstract sentence (sentence_index), or
    one full-text paragraph (passage_id, with its location such as '§4.2 Results')."""

    id: str
    source_id: str = Field(description="arXiv id without version")
    version: int = 1
    sentence_index: int | None = None
    text: str
    title: str = ""
    score: float = Field(description="Cosine similarity in [-1, 1]; higher is closer")
    year: int | None = None
    categories: list[str] = Field(default_factory=list)
    passage_id: str | None = None
    location: str | None = None


# --- run-level records ------------------------------------------------------------------------

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


class LookAlike(BaseModel):
    """A candidate paper whose name shares a prefix with the named one but is another name
    ('SMoE' for 'SMoES'): recorded so a reader sees it was considered and refused."""

    arxiv_id: str
    title: str
    reason: str


class TargetMatch(BaseModel):
    """Why the target paper is the one the question names: how it was matched (id, title,
    title fragment or name), the words that matched and in which form, and the paper's
    names (aliases, full name) later steps may use to recognise it. `by="none"` records a
    resolution that matched nothing but refused look-alikes."""

    by: Literal["arxiv_id", "title", "title_fragment", "name", "none"]
    matched: str = Field(description="the words of the question or --paper that matched")
    name: str | None = Field(None, description="the paper's name they matched, if by name")
    form: str = Field("exact", description="exact, case variant, X's, X-based, Xs, ...")
    reason: str
    aliases: list[str] = Field(default_factory=list, description="the paper's names")
    full_name: str | None = None
    rejected: list[LookAlike] = Field(default_factory=list)


class PassageRef(BaseModel):
    """One statement of a source (abstract sentence, body sentence or table row), verbatim,
    with its place; `claim_id` when it is one of the run's selected claims."""

    source_id: str
    text: str = Field(description="verbatim")
    location: str | None = None
    claim_id: str | None = None


class FacetCombination(BaseModel):
    """One combination of the question's facets (entity + metric + benchmark + conditions,
    or entity + metric + comparison) and whether one passage states them together."""

    label: str = Field(description="e.g. 'SMoES: latency on MMMU at batch size 16'")
    members: list[str] = Field(description="'facet: value' of each member")
    status: Literal["covered", "partial", "not_covered"]
    best: PassageRef | None = None
    stated: list[str] = Field(default_factory=list, description="members the best passage states")
    missing: list[str] = Field(default_factory=list, description="members it does not")
    note: str = ""


class AnswerStatement(BaseModel):
    """One sentence of the Answer: what a passage says, the passage verbatim, its paper,
    place and verification status, and whether the wording is the quote's own or a model's
    that passed the grounding check."""

    text: str
    quote: str = Field(description="the verbatim passage the sentence rests on")
    source_id: str
    location: str | None = None
    claim_id: str | None = None
    status: str = Field(description="verified, contradicted, unverified or not checked")
    origin: Literal["extractive", "llm", "replaced"] = "extractive"
    note: str = Field("", description="why a model's sentence was replaced, if it was")


class AnswerPart(BaseModel):
    """What the evidence says about one facet combination."""

    label: str
    status: Literal["covered", "partial", "not_covered"]
    statements: list[AnswerStatement] = Field(default_factory=list)
    gaps: list[str] = Field(default_factory=list, description="'no retrieved source reports X'")
    conflicts: list[str] = Field(default_factory=list, description="both figures, cited")


class Answer(BaseModel):
    parts: list[AnswerPart] = Field(default_factory=list)
    origin: Origin = "deterministic"
    note: str = ""


class SearchQuery(BaseModel):
    text: str = Field(description="arXiv search_query string")
    purpose: str = ""
    round: int = 0


class Claim(BaseModel):
    id: str = Field(description="stable within a run, e.g. C1")
    text: str
    quote: str = Field(description="verbatim sentence(s) of the source that state the claim")
    source_id: str = Field(description="arXiv id (no version) of a retrieved paper")
    sentence_index: int | None = None  # abstract sentence index; None for body and tables
    location: str | None = Field(
        None, description="where the quote sits: 'Abstract', '§4.2 Results', 'Table 2, row X'"
    )
    metric: str | None = None
    value: float | None = None
    unit: str | None = None
    setting: str | None = None  # benchmark/dataset/condition the number belongs to
    facets: list[str] = Field(default_factory=list, description="facet values it bears on")
    relevance: float = 0.0
    origin: Origin = "deterministic"


class FullTextRead(BaseModel):
    """How one source was read in a round: in full (which format, how much) or only as its
    abstract, and why (the report's Methodology and Uncertainties are drawn from these)."""

    source_id: str
    round: int = 0
    status: Literal["full", "abstract"]
    format: str | None = Field(None, description="unarxive, latexml, pdf or latex, if read in full")
    paragraphs: int = 0
    tables: int = 0
    reason: str | None = Field(None, description="why only the abstract was read")


class EvidenceDoc(BaseModel):
    """A candidate source for verifying one claim: its abstract as sentences, then the
    sentences of its full-text passages nearest the claim when it was read in full."""

    doc_id: str
    title: str = ""
    sentences: list[str]
    retrieval_score: float = 0.0
    locations: list[str] = Field(
        default_factory=list, description="where each sentence sits ('Abstract', '§4 Results')"
    )

    def location_of(self, index: int) -> str:
        return self.locations[index] if 0 <= index < len(self.locations) else "Abstract"


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
    evidence_locations: list[str] = Field(
        default_factory=list, description="where each evidence quote sits in its source"
    )


class TableCell(BaseModel):
    """A table cell a check read, by its printed place ('Table 2, row X, column Y')."""

    location: str
    text: str


class TableCheck(BaseModel):
    """A claim's figure checked against tables: `internal` against its own paper's tables
    (supported, unlinked: in a table but not where the claim points, not_found, no_tables),
    `cross` against another paper's table on the same benchmark and metric (agreement,
    conflict). Kept apart from `Verification`, which judges the claim's sentence."""

    claim_id: str
    source_id: str = Field(description="the paper whose tables were read")
    kind: Literal["internal", "cross"]
    status: Literal["supported", "unlinked", "not_found", "no_tables", "agreement", "conflict"]
    value: str = Field(description="the figure as the claim states it, e.g. '23.9%'")
    cells: list[TableCell] = Field(default_factory=list)
    note: str = ""


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
