"""One contract per LLM role: the variables its prompt template is given, and the bounded
draft it is asked to return. Drafts carry only what a model can know: ids, rounds, origins and
source checks are set by the agent that accepts the draft and turns it into a domain record.
Strings and lists are bounded, and scores are clamped to the rubric's range (a model saying
15/10 means 10/10, not an error)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, BeforeValidator, Field

SCORE_MIN = 0.0
SCORE_MAX = 10.0
DEFAULT_MAX_STRING = 2000  # maxLength put on strings the schema leaves open
DEFAULT_MAX_ITEMS = 40
LLAMA_CPP_MAX_STRING = 1000  # llama.cpp's grammar parser rejects much larger repetitions
MAX_QUERY_CHARS = 300  # one search query, from a model or from the deterministic planners


def clamp_score(value: Any) -> Any:
    """Clamp numbers (and numeric strings) into [0, 10]; leave anything else to validation."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    if number != number:  # NaN
        return value
    return min(SCORE_MAX, max(SCORE_MIN, number))


def _clamp_rubric(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): clamp_score(v) for k, v in value.items()}
    return value


Score = Annotated[float, BeforeValidator(clamp_score)]


class PlannedQuery(BaseModel):
    text: str = Field(
        max_length=MAX_QUERY_CHARS, description='arXiv search_query string, e.g. all:"x"'
    )
    purpose: str = Field("", max_length=400, description="which facet this query covers")


class QueryPlan(BaseModel):
    """planner: search queries for the question."""

    queries: list[PlannedQuery] = Field(min_length=1, max_length=12)


class ClaimDraft(BaseModel):
    text: str = Field(max_length=1000, description="one atomic claim in your words")
    quote: str = Field(
        max_length=3000, description="the exact sentence(s) of the source stating it, copied"
    )
    source_id: str = Field(max_length=64, description="arXiv id of the source, as given")
    metric: str | None = Field(None, max_length=120)
    value: float | None = None
    unit: str | None = Field(None, max_length=40)
    setting: str | None = Field(None, max_length=300, description="benchmark/condition")


class ClaimList(BaseModel):
    """claim_extractor: atomic claims, each with a verbatim quote of its source."""

    claims: list[ClaimDraft] = Field(max_length=40)


class ConcernDraft(BaseModel):
    text: str = Field(max_length=1000)
    claim_ids: list[str] = Field(default_factory=list, max_length=20)
    severity: Literal["low", "medium", "high"] = "medium"


class ReviewDraft(BaseModel):
    """skeptic / validator / synthesizer: rubric scores and concerns tied to claim ids."""

    score: Score = Field(description="overall 0..10")
    rubric: Annotated[dict[str, Score], BeforeValidator(_clamp_rubric)] = Field(
        default_factory=dict, description="criterion -> 0..10"
    )
    concerns: list[ConcernDraft] = Field(default_factory=list, max_length=20)
    summary: str = Field("", max_length=2000)


class RevisionDraft(BaseModel):
    """reviser: new queries that address the reviewers' concerns."""

    queries: list[PlannedQuery] = Field(min_length=1, max_length=12)
    rationale: str = Field("", max_length=2000)


class AnswerSentence(BaseModel):
    passage_id: str = Field(max_length=16, description="the id of the passage it rests on, e.g. P3")
    text: str = Field(max_length=600, description="one sentence: what that passage says")


class AnswerDraft(BaseModel):
    """answer: one sentence per passage worth stating, each resting on one given passage."""

    sentences: list[AnswerSentence] = Field(default_factory=list, max_length=24)


# --- what each prompt template is given ----------------------------------------------------
# One TypedDict per template: its keys are exactly the template's {{placeholders}} (a test
# holds both directions), so a call site cannot drop or invent a variable unnoticed.


class PlannerVars(TypedDict):
    question: str
    facets: dict[str, list[str]]  # Facets.model_dump()
    target_title: str | None
    num_queries: int


class SourceView(TypedDict):
    id: str
    title: str
    sentences: list[str]


class ClaimExtractorVars(TypedDict):
    question: str
    facets: dict[str, list[str]]
    sources: list[SourceView]  # the one source being read
    target_id: str | None  # the source's id when it is the paper the question names
    max_claims: int


class ClaimView(TypedDict):
    id: str
    text: str
    source_id: str
    status: str  # verified / contradicted / unverified
    confidence: float


class ConflictView(TypedDict):
    metric: str
    setting: str
    claim_ids: list[str]
    note: str


class CoverageView(TypedDict):
    facet: str
    value: str
    covered: bool
    note: str


class ReviewVars(TypedDict):
    """skeptic, validator and synthesizer: one template shape, three rubrics."""

    role: str
    round: int
    question: str
    facets: dict[str, list[str]]
    claims: list[ClaimView]
    conflicts: list[ConflictView]
    coverage: list[CoverageView]
    threshold: float | None  # the run's pass mark (every graph task carries its settings)


class UncoveredView(TypedDict):
    facet: str
    value: str
    note: str


class ConcernView(TypedDict):
    role: str
    text: str
    claim_ids: list[str]


class ReviserVars(TypedDict):
    round: int
    question: str
    facets: dict[str, list[str]]
    uncovered: list[UncoveredView]
    concerns: list[ConcernView]
    previous_queries: list[str]
    num_queries: int


class PassageView(TypedDict):
    id: str  # P1, P2, ...
    text: str
    source_id: str
    location: str
    status: str  # verified / contradicted / unverified / not checked


class AnswerPartView(TypedDict):
    part: int
    label: str  # the facet combination, e.g. "SMoES: latency on MMMU"
    passages: list[PassageView]


class AnswerVars(TypedDict):
    question: str
    parts: list[AnswerPartView]


@dataclass(frozen=True)
class Contract:
    """What a role's prompt is given and what its answer must be."""

    variables: type  # a TypedDict class
    draft: type[BaseModel]

    @property
    def variable_names(self) -> frozenset[str]:
        return frozenset(self.variables.__annotations__)


CONTRACTS: dict[str, Contract] = {
    "planner": Contract(PlannerVars, QueryPlan),
    "claim_extractor": Contract(ClaimExtractorVars, ClaimList),
    "skeptic": Contract(ReviewVars, ReviewDraft),
    "validator": Contract(ReviewVars, ReviewDraft),
    "synthesizer": Contract(ReviewVars, ReviewDraft),
    "reviser": Contract(ReviserVars, RevisionDraft),
    "answer": Contract(AnswerVars, AnswerDraft),
}


# --- the schema sent with a request ----------------------------------------------------------


def _inline_refs(node: Any, defs: Mapping[str, Any], depth: int = 0) -> Any:
    if depth > 20:
        raise ValueError("schema nests too deeply (recursive model?)")
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = copy.deepcopy(defs[ref.removeprefix("#/$defs/")])
            rest = {k: v for k, v in node.items() if k != "$ref"}
            target.update(rest)
            return _inline_refs(target, defs, depth + 1)
        return {k: _inline_refs(v, defs, depth + 1) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(v, defs, depth + 1) for v in node]
    return node


def _bound(node: Any, cap: int | None) -> None:
    """Put maxLength on open strings (at most `cap`) and maxItems on open arrays, so a
    constrained decoder cannot run away and the model sees the budget."""
    if isinstance(node, dict):
        if node.get("type") == "string" and "enum" not in node:
            limit = node.get("maxLength", DEFAULT_MAX_STRING)
            node["maxLength"] = min(limit, cap) if cap else limit
        if node.get("type") == "array" and "maxItems" not in node:
            node["maxItems"] = DEFAULT_MAX_ITEMS
        for value in node.values():
            _bound(value, cap)
    elif isinstance(node, list):
        for value in node:
            _bound(value, cap)


def request_schema(output_model: type[BaseModel], max_string: int | None = None) -> dict[str, Any]:
    """The model's JSON schema, self-contained ($refs inlined: small models copy "$ref" text
    into answers) and bounded. llama.cpp expands maxLength into grammar rules and refuses
    large ones, so its requests pass `max_string=LLAMA_CPP_MAX_STRING`."""
    raw = output_model.model_json_schema()
    schema = _inline_refs(raw, raw.get("$defs", {}))
    _bound(schema, max_string)
    return dict(schema)
