"""The LLM stance judge: an optional verifier that asks an OpenAI-compatible model for each
source's stance on a claim (role `stance_judge`, one call per claim), through
`agents.llm.propose`. The draft is bounded; it is accepted only when it answers every source
once, cites real sentences, quotes words that are in them, and does not SUPPORT a measured value
the source never states; a rejected draft is retried once, then the deterministic verifier's
verdicts stand. Confidence is never the model's word: it is the trained verifier's calibrated
probability of the label the judge chose. With no LLM it is the trained verifier exactly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field
from threadpoolctl import threadpool_limits

from agents.llm.propose import ChatBackend, propose
from agents.verification.classifier import CLASSES, TrainedVerifier, measured_numbers
from memory.models import DocVerdict, EvidenceDoc
from memory.text import quote_in_source

ROLE = "stance_judge"
MAX_SOURCES = 10
MAX_SENTENCES = 40  # sentences shown per source (an abstract; full text is never sent)


class SourceStance(BaseModel):
    source: str = Field(max_length=64, description="the source id, as given")
    label: Literal["SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO"]
    sentences: list[int] = Field(default_factory=list, max_length=3)
    quote: str = Field("", max_length=500)


class StanceDraft(BaseModel):
    """stance_judge: one verdict per source."""

    verdicts: list[SourceStance] = Field(max_length=MAX_SOURCES)


class StanceVerdicts(BaseModel):
    verdicts: list[DocVerdict]


def check_draft(claim: str, docs: Sequence[EvidenceDoc], draft: StanceDraft) -> list[str]:
    """Every way the draft could be wrong that can be checked without a model."""
    problems: list[str] = []
    by_id = {d.doc_id: d for d in docs}
    seen = [v.source for v in draft.verdicts]
    if sorted(seen) != sorted(by_id):
        problems.append(f"answer each source id once: {sorted(by_id)}; got {seen}")
    measured = measured_numbers(claim)
    for v in draft.verdicts:
        d = by_id.get(v.source)
        if d is None:
            continue
        n = min(len(d.sentences), MAX_SENTENCES)
        bad = [i for i in v.sentences if not 0 <= i < n]
        if bad:
            problems.append(f"{v.source}: no sentence {bad} (indices 0..{n - 1})")
            continue
        if v.label == "NOT_ENOUGH_INFO":
            continue
        if not v.sentences:
            problems.append(f"{v.source}: {v.label} needs the sentence indices that decide it")
            continue
        cited = " ".join(d.sentences[i] for i in v.sentences)
        if not v.quote.strip() or not quote_in_source(v.quote, cited):
            problems.append(f"{v.source}: the quote is not in sentences {v.sentences}")
        if v.label == "SUPPORT" and measured:
            found = measured_numbers(d.title + " " + " ".join(d.sentences), any_number=True)
            if not measured & found:
                problems.append(f"{v.source}: SUPPORT, but it never states {sorted(measured)}")
    return problems


def source_views(docs: Sequence[EvidenceDoc]) -> list[dict[str, Any]]:
    return [
        {
            "id": d.doc_id,
            "title": d.title,
            "sentences": [f"[{i}] {s}" for i, s in enumerate(d.sentences[:MAX_SENTENCES])],
        }
        for d in docs
    ]


class LLMStanceJudge:
    """A `Verifier`: the judge's checked verdicts, else the trained verifier's."""

    name = "llm-judge"

    def __init__(self, base: TrainedVerifier, llm: ChatBackend | None) -> None:
        self.base = base
        self.llm = llm
        self.origins: dict[str, int] = {"llm": 0, "fallback": 0, "deterministic": 0}

    def describe(self) -> str:
        return (
            "an LLM stance judge (checked: every source answered, cited sentences real, quotes "
            f"in them, number guard; retried once) over {self.base.describe()}"
        )

    def verify(self, claim: str, docs: Sequence[EvidenceDoc]) -> list[DocVerdict]:
        if not docs:
            return []
        with threadpool_limits(1):
            probs = self.base.rationale_probs(claim, docs)
            lp = self.base.label_probs(claim, docs, probs)
            deterministic = self.base.verdicts_from(claim, docs, probs, lp)
        # the judge reads the first MAX_SOURCES (retrieval order); any others keep theirs
        rest = deterministic[MAX_SOURCES:]
        docs, fallback = list(docs)[:MAX_SOURCES], deterministic[:MAX_SOURCES]

        def convert(draft: StanceDraft) -> StanceVerdicts:
            by_id = {v.source: v for v in draft.verdicts}
            out = []
            for d, p in zip(docs, lp, strict=True):
                v = by_id[d.doc_id]
                out.append(
                    DocVerdict(
                        doc_id=d.doc_id,
                        label=v.label,
                        confidence=float(np.clip(p[CLASSES.index(v.label)], 0.0, 1.0)),
                        rationale=list(dict.fromkeys(v.sentences)),
                    )
                )
            return StanceVerdicts(verdicts=out)

        proposal = propose(
            self.llm,
            ROLE,
            StanceDraft,
            {"claim": claim, "sources": source_views(docs)},
            lambda draft: check_draft(claim, docs, draft),
            lambda: StanceVerdicts(verdicts=fallback),
            convert,
        )
        self.origins[proposal.origin] = self.origins.get(proposal.origin, 0) + 1
        return proposal.value.verdicts + rest
