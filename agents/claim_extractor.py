"""Extract claims that bear on the question from retrieved abstracts. A claim is a whole
source sentence (its verbatim quote), never cut; sentences with no measurable content
("the field has made significant strides") are dropped and recorded as dropped."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from agents.facets import (
    METRICS,
    benchmark_mentions,
    content_tokens,
    facet_items,
    metric_mentions,
    phrase_in,
)
from agents.llm import Proposal, propose
from graph.models import Claim, Facets
from memory.models import Paper
from memory.text import quote_in_source, split_sentences

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
_VAGUE_METRICS = {"performance", "efficiency", "robustness"}
PER_SOURCE = 4
PER_TARGET = 6


def quantities(sentence: str) -> list[tuple[float, str | None]]:
    """Numbers that measure something (years and bare ordinals left out)."""
    out: list[tuple[float, str | None]] = []
    for m in _QUANTITY.finditer(sentence):
        raw, unit = m.group("value"), m.group("unit")
        before = sentence[max(0, m.start() - 1) : m.start()]
        if before.isalpha():  # part of a name like 'GPT4' or 'Qwen3'
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
    """True if the sentence states a number, or compares on a named metric/benchmark."""
    if quantities(sentence):
        return True
    if _COMPARATIVE.search(sentence):
        specific = [m for m in metric_mentions(sentence) if m not in _VAGUE_METRICS]
        return bool(specific or benchmark_mentions(sentence))
    return False


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
    """Share of facet values the sentence touches, question-word overlap, target bonus."""
    items = facet_items(facets)
    hits = []
    for facet, value in items:
        text = f"{title} {sentence}" if facet == "entity" else sentence
        if phrase_in(value, text, facet):
            hits.append(value)
    q = set(content_tokens(question))
    overlap = len(q & set(content_tokens(sentence))) / max(1, len(q))
    score = 0.6 * (len(hits) / max(1, len(items))) + 0.4 * overlap + (0.15 if is_target else 0.0)
    return min(1.0, round(score, 4)), hits


class ClaimSet(BaseModel):
    claims: list[Claim] = Field(default_factory=list)


def deterministic_claims(
    question: str,
    facets: Facets,
    papers: list[Paper],
    target_id: str | None,
    max_claims: int,
) -> tuple[list[Claim], list[dict[str, Any]]]:
    candidates: list[tuple[float, Claim]] = []
    dropped: list[tuple[float, dict[str, Any]]] = []
    for paper in papers:
        is_target = paper.arxiv_id == target_id
        scored = []
        for idx, sentence in enumerate(split_sentences(paper.abstract)):
            rel, hits = relevance(sentence, paper.title, question, facets, is_target)
            bears = bool(hits) and rel >= 0.15
            if not bears:
                continue
            if not is_measurable(sentence):
                dropped.append(
                    (
                        rel,
                        {
                            "text": sentence,
                            "source_id": paper.arxiv_id,
                            "sentence_index": idx,
                            "reason": "vacuous: no measurable content (no number, no "
                            "comparison on a named metric or benchmark)",
                        },
                    )
                )
                continue
            m = parse_measurement(sentence, facets)
            claim = Claim(
                id="",
                text=sentence,
                quote=sentence,
                source_id=paper.arxiv_id,
                sentence_index=idx,
                facets=hits,
                relevance=rel,
                **m,
            )
            scored.append((rel, claim))
        scored.sort(key=lambda t: (-t[0], t[1].sentence_index or 0))
        candidates.extend(scored[: PER_TARGET if is_target else PER_SOURCE])
    candidates.sort(key=lambda t: (-t[0], t[1].source_id, t[1].sentence_index or 0))
    claims = [c for _, c in candidates[:max_claims]]
    for i, claim in enumerate(claims, start=1):
        claim.id = f"C{i}"
    dropped.sort(key=lambda t: -t[0])
    return claims, [d for _, d in dropped[:20]]


def check_claims(claims: ClaimSet, papers: dict[str, Paper], max_claims: int) -> list[str]:
    problems: list[str] = []
    if not claims.claims:
        problems.append("no claims proposed")
    if len(claims.claims) > max_claims:
        problems.append(f"at most {max_claims} claims")
    for c in claims.claims:
        paper = papers.get(c.source_id)
        if paper is None:
            problems.append(f"{c.id}: source {c.source_id} is not a retrieved paper")
        elif not quote_in_source(c.quote, paper.abstract):
            problems.append(f"{c.id}: quote does not occur verbatim in {c.source_id}")
        if not is_measurable(c.quote):
            problems.append(f"{c.id}: no measurable content")
    return problems


def extract_claims(
    llm: Any,
    question: str,
    facets: Facets,
    papers: list[Paper],
    target_id: str | None,
    max_claims: int,
) -> tuple[Proposal[ClaimSet], list[dict[str, Any]]]:
    by_id = {p.arxiv_id: p for p in papers}
    det_claims, dropped = deterministic_claims(question, facets, papers, target_id, max_claims)
    # prompt_vars keys: question (str), facets (dict of lists), max_claims (int),
    # sources (list of {"id", "title", "sentences": [str]}), target_id (str|None)
    prompt_vars = {
        "question": question,
        "facets": facets.model_dump(),
        "max_claims": max_claims,
        "target_id": target_id,
        "sources": [
            {"id": p.arxiv_id, "title": p.title, "sentences": split_sentences(p.abstract)}
            for p in papers
        ],
    }
    proposal = propose(
        llm,
        "claim_extractor",
        ClaimSet,
        prompt_vars,
        check=lambda cs: check_claims(cs, by_id, max_claims),
        fallback=lambda: ClaimSet(claims=det_claims),
    )
    if proposal.origin == "llm":
        for i, claim in enumerate(proposal.value.claims, start=1):
            paper = by_id[claim.source_id]
            claim.id = f"C{i}"
            claim.origin = "llm"
            claim.relevance, claim.facets = relevance(
                claim.quote, paper.title, question, facets, claim.source_id == target_id
            )
            parsed = parse_measurement(claim.quote, facets)
            for key, value in parsed.items():
                if getattr(claim, key) is None:
                    setattr(claim, key, value)
    elif proposal.origin == "fallback":
        for claim in proposal.value.claims:
            claim.origin = "fallback"
    return proposal, dropped


__all__ = ["METRICS", "ClaimSet", "extract_claims", "is_measurable", "quantities"]
