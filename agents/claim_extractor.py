"""Extract claims that bear on the question from what a source offers: its abstract and, when
its full text was read, its body sentences and table rows (`agents/reading.py`). A claim is a
whole source statement (its verbatim quote) with its place, never cut; statements with no
measurable content ("the field has made significant strides") are dropped and recorded."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from agents import names
from agents.facets import (
    METRICS,
    benchmark_mentions,
    content_tokens,
    facet_items,
    metric_mentions,
    phrase_in,
)
from agents.llm import Proposal, propose
from agents.llm.schemas import ClaimDraft, ClaimExtractorVars, ClaimList
from agents.plain import plain
from agents.reading import Unit, abstract_units, source_units
from memory.fulltext.model import FullText
from memory.models import Claim, Facets, Paper
from memory.text import normalize_for_match

_UNIT = r"(?:%|×|x\b|times\b|points?\b|pp\b|[BMK]\b|ms\b|s\b|tokens?\b|fps\b|GB\b|MB\b|dB\b)"
_QUANTITY = re.compile(
    rf"(?P<value>\d+(?:[.,]\d+)?)(?:\s*[-–]\s*\d+(?:\.\d+)?)?\s*(?P<unit>{_UNIT})?", re.I
)
_COMPARATIVE = re.compile(
    r"\b(outperform\w*|surpass\w*|improv\w*|reduc\w*|increas\w*|faster|slower|higher|lower|"
    r"better|worse|exceed\w*|beat\w*|gain\w*|speed-?up\w*|decreas\w*|boost\w*|cut\w*|"
    r"state-of-the-art|sota|on par|comparable to|match\w*)\b",
    re.I,
)
_VAGUE_METRICS = {"performance", "efficiency", "robustness", "cost", "flops"}
PER_SOURCE = 4
PER_TARGET = 6


_REFERENCES = frozenset(
    ["sec.", "sec", "section", "sections", "table", "tab.", "fig.", "figure", "figures"]
    + ["eq.", "equation", "appendix", "chapter", "§", "line", "page", "step"]
)


def _part_of_name(sentence: str, start: int, unit: str | None) -> bool:
    """A number inside a name measures nothing: 'Qwen3', 'GPT-4', 'ResNet-50', 'top-2', a
    model size written after the model's name ('Flash-VL 2B', 'LLaVA 7B'), or a reference to
    a section, table, figure or equation."""
    before = sentence[max(0, start - 2) : start]
    if before[-1:].isalpha() or (before[-1:] == "-" and before[:1].isalnum()):
        return True
    words = sentence[:start].split()
    if words and words[-1].lower().strip("(") in _REFERENCES:
        return True  # 'Sec. 5.5', 'Table 3', 'Fig. 2': a place in the paper, not a measure
    if unit is None or unit.upper() not in ("B", "M"):
        return False
    words = sentence[:start].split()
    prev = words[-1].strip("(\"'") if words else ""
    return bool(prev) and (names.distinctive(prev) or (prev[0].isupper() and len(words) > 1))


def quantities(sentence: str) -> list[tuple[float, str | None]]:
    """Numbers that measure something (years, bare ordinals and digits of names left out)."""
    out: list[tuple[float, str | None]] = []
    for m in _QUANTITY.finditer(sentence):
        raw, unit = m.group("value"), m.group("unit")
        if _part_of_name(sentence, m.start(), unit):
            continue
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            continue
        if unit is None and (re.fullmatch(r"(19|20)\d\d", raw) or "." not in raw and value < 10):
            continue  # a year, or a small count like "two" stages: not a measurement
        out.append((value, unit))
    return out


def is_measurable(sentence: str) -> bool:
    """True if the sentence states a number, or compares on a named benchmark. A comparison
    with neither ("achieves state-of-the-art accuracy", "increases the inference time") cannot
    be checked against anything, so it is vacuous."""
    if quantities(sentence):
        return True
    return bool(_COMPARATIVE.search(sentence) and benchmark_mentions(sentence))


def parse_measurement(sentence: str, facets: Facets) -> dict[str, Any]:
    """metric / value / unit / setting of the sentence's first measured number, when any."""
    qty = quantities(sentence)
    metrics = [m for m in metric_mentions(sentence) if m not in _VAGUE_METRICS] or metric_mentions(
        sentence
    )
    benches = benchmark_mentions(sentence)
    conds = [c for c in facets.conditions if phrase_in(c, sentence)]
    batch = re.search(r"batch size (?:of )?\d+", sentence, re.I)
    setting_parts = benches + conds + ([batch.group(0)] if batch else [])
    out: dict[str, Any] = {"metric": None, "value": None, "unit": None, "setting": None}
    if metrics:
        out["metric"] = metrics[0]
    if qty:
        out["value"], out["unit"] = qty[0]
    if setting_parts:
        out["setting"] = "; ".join(setting_parts)
    return out


def relevance(
    sentence: str, title: str, question: str, facets: Facets, is_target: bool
) -> tuple[float, list[str]]:
    """Share of facet values the sentence touches, question-word overlap, target bonus.
    The paper's title names the entity only for the target paper's own sentences."""
    items = facet_items(facets)
    hits = []
    for facet, value in items:
        text = f"{title} {sentence}" if facet == "entity" and is_target else sentence
        if phrase_in(value, text, facet):
            hits.append(value)
    q = set(content_tokens(question))
    overlap = len(q & set(content_tokens(sentence))) / max(1, len(q))
    score = 0.6 * (len(hits) / max(1, len(items))) + 0.4 * overlap + (0.15 if is_target else 0.0)
    return min(1.0, round(score, 4)), hits


def bears_on_question(
    hits: list[str], overlap_score: float, is_target: bool, has_target: bool, entities: list[str]
) -> bool:
    """The target's own sentences need one facet. When the question is about a target paper,
    other sources must name its entity or touch two facets; for a literature question one
    facet plus enough of the question's words will do."""
    if not hits:
        return False
    if is_target or len(hits) >= 2:
        return True
    if has_target:
        return any(h in entities for h in hits)
    return overlap_score >= 0.15


class ClaimSet(BaseModel):
    """One source's claims as the graph stores them. Never asked of a model: the LLM's
    contract is `agents.llm.schemas.ClaimList`, whose accepted drafts `_claim_of` converts."""

    claims: list[Claim] = Field(default_factory=list)


MAX_SOURCES_PER_ROUND = 12  # sources read per round (each is one parallel branch)


def _dropped(unit: Unit, paper: Paper, rel: float) -> dict[str, Any]:
    return {
        "text": unit.text,
        "source_id": paper.arxiv_id,
        "sentence_index": unit.sentence_index,
        "location": unit.location,
        "relevance": rel,
        "reason": "vacuous: no measurable content (no number, no comparison on a "
        "named metric or benchmark)",
    }


def _claim_from(unit: Unit, paper: Paper, facets: Facets, hits: list[str], rel: float) -> Claim:
    return Claim(
        id=f"{paper.arxiv_id}#{unit.key}",
        text=plain(unit.text),
        quote=unit.text,
        source_id=paper.arxiv_id,
        sentence_index=unit.sentence_index,
        location=unit.location,
        facets=hits,
        relevance=rel,
        **parse_measurement(unit.text, facets),
    )


def source_candidates(
    question: str,
    facets: Facets,
    paper: Paper,
    is_target: bool,
    has_target: bool = False,
    fulltext: FullText | None = None,
) -> tuple[list[Claim], list[dict[str, Any]]]:
    """Every statement of one source (abstract, and body and tables when its full text was
    read) that bears on the question and measures something, most relevant first."""
    claims: list[Claim] = []
    dropped: list[dict[str, Any]] = []
    q = set(content_tokens(question))
    for unit in source_units(paper, fulltext):
        rel, hits = relevance(unit.text, paper.title, question, facets, is_target)
        overlap = len(q & set(content_tokens(unit.text))) / max(1, len(q))
        if not bears_on_question(hits, overlap, is_target, has_target, facets.entity):
            continue  # does not bear on the question
        if not is_measurable(unit.text):
            # recorded for the abstract, whose every sentence a reader can see; a body has
            # hundreds of unmeasured sentences, and listing them would bury the report
            if unit.kind == "abstract":
                dropped.append(_dropped(unit, paper, rel))
            continue
        claims.append(_claim_from(unit, paper, facets, hits, rel))
    order = {c.id: i for i, c in enumerate(claims)}
    claims.sort(key=lambda c: (-c.relevance, order[c.id]))
    return claims[: PER_TARGET if is_target else PER_SOURCE], dropped


def check_claims(claims: ClaimList, paper: Paper, units: list[Unit] | None = None) -> list[str]:
    """Every quote one whole measurable statement of this very source, copied verbatim: a
    fragment, a rewording or a splice of two sentences is refused (a model obeying an
    instruction planted in an abstract could otherwise lift its words into a claim)."""
    units = units if units else abstract_units(paper)
    problems: list[str] = []
    if len(claims.claims) > PER_TARGET:
        problems.append(f"at most {PER_TARGET} claims per source")
    for i, c in enumerate(claims.claims, start=1):
        if c.source_id != paper.arxiv_id:
            problems.append(f"claim {i}: source must be {paper.arxiv_id}, not {c.source_id}")
        elif sentence_of(c.quote, units) is None:
            problems.append(
                f"claim {i}: quote is not one whole sentence of {c.source_id} copied verbatim"
            )
        if not is_measurable(c.quote):
            problems.append(f"claim {i}: no measurable content")
    return problems


def sentence_of(quote: str, units: list[Unit]) -> Unit | None:
    """The source statement `quote` is, whole (case, accents, punctuation and spacing aside)."""
    wanted = normalize_for_match(quote)
    return next((u for u in units if wanted and normalize_for_match(u.text) == wanted), None)


def _claim_of(
    draft: ClaimDraft,
    question: str,
    facets: Facets,
    paper: Paper,
    is_target: bool,
    units: list[Unit],
) -> Claim:
    """An accepted draft as a claim. Its wording is the source's own sentence (the model's
    paraphrase is not kept: a claims table must not carry words no source wrote); id, place,
    relevance and facets come from the source, and a measurement the model gives is kept only
    when the sentence states that number."""
    unit = sentence_of(draft.quote, units)
    assert unit is not None, "check_claims admits whole source sentences only"
    rel, hits = relevance(unit.text, paper.title, question, facets, is_target)
    claim = _claim_from(unit, paper, facets, hits, rel)
    own_value = draft.value is not None and draft.value in {v for v, _ in quantities(unit.text)}
    update: dict[str, object] = {"origin": "llm"}
    if draft.metric is not None:
        update["metric"] = draft.metric
    if draft.setting is not None:
        update["setting"] = draft.setting
    if own_value:
        update["value"] = draft.value
        if draft.unit is not None:
            update["unit"] = draft.unit
    return claim.model_copy(update=update)


PROMPT_UNITS = 40  # body and table statements shown to an LLM beside the abstract


def _prompt_units(units: list[Unit], det: list[Claim]) -> list[Unit]:
    """The abstract plus the body statements most worth a model's attention: the
    deterministic candidates first, then the rest in document order, up to PROMPT_UNITS."""
    wanted = {c.id.split("#", 1)[1] for c in det}
    abstract = [u for u in units if u.kind == "abstract"]
    rest = [u for u in units if u.kind != "abstract"]
    rest.sort(key=lambda u: u.key not in wanted)
    return abstract + rest[:PROMPT_UNITS]


def read_source(
    llm: Any,
    question: str,
    facets: Facets,
    paper: Paper,
    is_target: bool,
    has_target: bool,
    fulltext: FullText | None = None,
) -> tuple[Proposal[ClaimSet], list[dict[str, Any]]]:
    """Claims one source offers (one LLM call at most). The quote must be verbatim."""
    det, dropped = source_candidates(question, facets, paper, is_target, has_target, fulltext)
    units = source_units(paper, fulltext)
    prompt_vars: ClaimExtractorVars = {
        "question": question,
        "facets": facets.model_dump(),
        "max_claims": PER_TARGET if is_target else PER_SOURCE,
        "target_id": paper.arxiv_id if is_target else None,
        "sources": [
            {
                "id": paper.arxiv_id,
                "title": paper.title,
                "sentences": [u.text for u in _prompt_units(units, det)],
            }
        ],
    }

    def accept(drafts: ClaimList) -> ClaimSet:
        claims = [_claim_of(d, question, facets, paper, is_target, units) for d in drafts.claims]
        return ClaimSet(claims=claims)

    proposal = propose(
        llm,
        "claim_extractor",
        ClaimList,
        prompt_vars,
        check=lambda cs: check_claims(cs, paper, units),
        fallback=lambda: ClaimSet(claims=det),
        convert=accept,
    )
    if proposal.origin == "fallback":
        for claim in proposal.value.claims:
            claim.origin = "fallback"
    return proposal, dropped


def select_claims(candidates: list[Claim], max_claims: int) -> list[Claim]:
    """Most relevant first, one claim per sentence, ids C1..Cn in that order."""
    seen: set[tuple[str, int | None, str]] = set()
    unique: list[Claim] = []
    for c in sorted(candidates, key=lambda c: (-c.relevance, c.source_id, c.sentence_index or 0)):
        key = (c.source_id, c.sentence_index, c.text)
        if key in seen:
            continue
        seen.add(key)
        unique.append(c.model_copy())
    chosen = unique[:max_claims]
    for i, claim in enumerate(chosen, start=1):
        claim.id = f"C{i}"
    return chosen


__all__ = ["METRICS", "ClaimSet", "is_measurable", "quantities", "read_source", "select_claims"]
