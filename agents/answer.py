"""The Answer: the question answered first, per facet combination, from the run's passages.

Without an LLM it is extractive and deterministic: each statement is a passage's own words
(TeX rendered to plain text), with its paper, place and verification status; a combination no
passage states gets an explicit "No retrieved source reports X" line, and conflicting figures
are stated with both values. With an LLM a statement may be reworded, but every sentence must
pass a grounding check against its passage (its numbers and names appear there) or it is
replaced by the extractive statement, and each statement records which it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agents import names
from agents.claim_extractor import is_measurable
from agents.coverage import Candidate, Member, members_of, states
from agents.facets import content_tokens
from agents.llm import Proposal, propose
from agents.llm.schemas import AnswerDraft, AnswerPartView, AnswerVars, PassageView
from agents.plain import plain
from memory.models import (
    Answer,
    AnswerPart,
    AnswerStatement,
    Claim,
    Conflict,
    FacetCombination,
    Verification,
)

MAX_STATEMENTS = 3  # per combination
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class Evidence:
    """What the Answer is written from: the run's passages and verdicts."""

    pool: list[Candidate]
    claims: dict[str, Claim]
    verifications: dict[str, Verification]
    conflicts: list[Conflict]
    aliases: list[str]
    words: frozenset[str] = frozenset()  # the question's content words, to break ties


def _core(members: list[Member]) -> list[Member]:
    """What a passage must state to say anything about the combination: its entity and its
    metric (or every member, when it has neither)."""
    return [m for m in members if m.facet in ("entity", "metric")] or members


def _passages(members: list[Member], ev: Evidence) -> list[tuple[Candidate, list[Member]]]:
    """Measured passages that state the combination's core, most members first."""
    core = _core(members)
    found: list[tuple[tuple[Any, ...], Candidate, list[Member]]] = []
    for cand in ev.pool:
        hit = [m for m in members if states(m, cand, ev.aliases)]
        if not all(m in hit for m in core) or not is_measurable(cand.ref.text):
            continue
        shared = len(ev.words & set(content_tokens(cand.ref.text)))
        key = (-len(hit), -shared, cand.ref.claim_id is None, not cand.is_target, len(found))
        found.append((key, cand, hit))
    found.sort(key=lambda t: t[0])
    if not found:
        return []
    # every statement states what the best one does, conditions aside: an MMMU figure is no
    # answer about MMLU once some passage reports MMLU
    required = [m for m in found[0][2] if m.facet != "conditions"]
    kept = [(cand, hit) for _, cand, hit in found if all(m in hit for m in required)]
    return kept[:MAX_STATEMENTS]


def _status(cand: Candidate, ev: Evidence) -> str:
    v = ev.verifications.get(cand.ref.claim_id or "")
    return v.status if v else NOT_CHECKED


def extractive(cand: Candidate, ev: Evidence) -> AnswerStatement:
    ref = cand.ref
    return AnswerStatement(
        text=plain(ref.text),
        quote=ref.text,
        source_id=ref.source_id,
        location=ref.location,
        claim_id=ref.claim_id,
        status=_status(cand, ev),
    )


def _figure(claim: Claim) -> str:
    unit = claim.unit or ""
    value = f"{claim.value:g}{unit}" if claim.value is not None else "?"
    place = f", {claim.location}" if claim.location else ""
    return f"{value} ({claim.id}, {claim.source_id}{place})"


def _conflicts(statements: list[AnswerStatement], members: list[Member], ev: Evidence) -> list[str]:
    """Conflicting figures that touch this combination, both stated with their sources."""
    ids = {s.claim_id for s in statements if s.claim_id}
    metrics = {m.value for m in members if m.facet == "metric"}
    out: list[str] = []
    for c in ev.conflicts:
        if not (ids & set(c.claim_ids) or c.metric in metrics):
            continue
        figures = [_figure(ev.claims[cid]) for cid in c.claim_ids if cid in ev.claims]
        out.append(f"Sources disagree on {c.metric} ({c.setting}): " + " vs ".join(figures))
    return out


def _gap(combo: FacetCombination, members: list[Member], stated: list[Member]) -> list[str]:
    if combo.status == "covered" and stated:
        return []
    if not stated:
        return [f"No retrieved source reports {combo.label}."]
    missing = [m.value for m in members if m not in stated]
    if not missing:
        return []
    return [
        f"No retrieved source reports {combo.label} in one passage: the passages above do "
        f"not state {'; '.join(missing)}."
    ]


def _part(
    combo: FacetCombination, members: list[Member], ev: Evidence
) -> tuple[AnswerPart, list[Candidate]]:
    found = _passages(members, ev)
    statements = [extractive(cand, ev) for cand, _ in found]
    best = max((hit for _, hit in found), key=len, default=[])
    part = AnswerPart(
        label=combo.label,
        status=combo.status,
        statements=statements,
        gaps=_gap(combo, members, best),
        conflicts=_conflicts(statements, members, ev),
    )
    return part, [cand for cand, _ in found]


def extractive_answer(
    joint: list[FacetCombination], ev: Evidence
) -> tuple[Answer, list[list[Candidate]]]:
    """The deterministic Answer, and the passages each part rests on (for an LLM's wording)."""
    parts: list[AnswerPart] = []
    used: list[list[Candidate]] = []
    for combo in joint:
        part, cands = _part(combo, members_of(combo), ev)
        parts.append(part)
        used.append(cands)
    note = "Extractive: every statement is its passage's own words (TeX rendered as text)"
    return Answer(parts=parts, note=note), used


# --- an LLM's wording, sentence by sentence grounded -------------------------------------------


def _name_words(text: str) -> set[str]:
    """Words written as names (capitals after the first letter, or capitalised mid-sentence)."""
    toks = names.tokens(text)
    return {
        t.base.lower()
        for i, t in enumerate(toks)
        if names.distinctive(t.base) or (i > 0 and t.base[:1].isupper())
    }


def grounding_problems(sentence: str, passage: str) -> list[str]:
    """The sentence's numbers and names must all appear in the passage it rests on."""
    source = plain(passage)
    have_numbers = {n.replace(",", "") for n in _NUMBER.findall(source)}
    numbers = [n for n in _NUMBER.findall(sentence) if n.replace(",", "") not in have_numbers]
    have_words = {t.base.lower() for t in names.tokens(source)}
    unknown = sorted(_name_words(sentence) - have_words)
    problems = []
    if numbers:
        problems.append(f"numbers not in the passage: {', '.join(numbers)}")
    if unknown:
        problems.append(f"names not in the passage: {', '.join(unknown)}")
    return problems


def _vars(question: str, answer: Answer, used: list[list[Candidate]], ev: Evidence) -> AnswerVars:
    parts: list[AnswerPartView] = []
    n = 0
    for i, (part, cands) in enumerate(zip(answer.parts, used, strict=True)):
        views: list[PassageView] = []
        for cand in cands:
            n += 1
            views.append(
                {
                    "id": f"P{n}",
                    "text": plain(cand.ref.text),
                    "source_id": cand.ref.source_id,
                    "location": cand.ref.location or "",
                    "status": _status(cand, ev),
                }
            )
        parts.append({"part": i + 1, "label": part.label, "passages": views})
    return {"question": question, "parts": parts}


def _reworded(answer: Answer, draft: AnswerDraft) -> Answer:
    """Each statement takes the model's sentence for its passage when it is grounded there;
    otherwise it stays (or reverts to) the passage's own words, saying why."""
    sentences = {s.passage_id: s.text.strip() for s in draft.sentences}
    n = kept = replaced = 0
    out = answer.model_copy(deep=True)
    for part in out.parts:
        for st in part.statements:
            n += 1
            proposed = sentences.get(f"P{n}")
            if not proposed:
                continue
            problems = grounding_problems(proposed, st.quote)
            if problems:
                st.origin, st.note = (
                    "replaced",
                    "the model's sentence was replaced: " + "; ".join(problems),
                )
                replaced += 1
            else:
                st.text, st.origin = proposed, "llm"
                kept += 1
    out.origin = "llm"
    out.note = (
        f"Worded by the LLM, each sentence checked against its passage: {kept} kept, "
        f"{replaced} replaced by the passage's own words, {n - kept - replaced} left as quoted"
    )
    return out


def _check(draft: AnswerDraft, known: set[str]) -> list[str]:
    unknown = sorted({s.passage_id for s in draft.sentences} - known)
    return [f"unknown passage ids {unknown}"] if unknown else []


def answer(
    llm: Any, question: str, joint: list[FacetCombination], ev: Evidence
) -> Proposal[Answer]:
    """The Answer: the LLM's grounded wording when it gives one, else the extractive one."""
    base, used = extractive_answer(joint, ev)
    prompt_vars = _vars(question, base, used, ev)
    known = {p["id"] for part in prompt_vars["parts"] for p in part["passages"]}
    proposal = propose(
        llm if known else None,  # nothing to word: no call
        "answer",
        AnswerDraft,
        prompt_vars,
        check=lambda d: _check(d, known),
        fallback=lambda: base,
        convert=lambda d: _reworded(base, d),
    )
    if proposal.origin == "fallback":
        proposal.value.origin = "fallback"
        why = " could not be reached" if proposal.unavailable else "'s answer was rejected"
        proposal.value.note = f"The LLM{why}; " + base.note[0].lower() + base.note[1:]
    return proposal
