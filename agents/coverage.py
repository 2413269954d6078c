"""Joint coverage: the question asks for facets together ("SMoES's TTFT on MMMU at 7B"), so a
combination counts as covered only when one passage states all of its members. A paper that
mentions "7B and 13B" elsewhere, or an SMoE paper measuring TTFT, covers nothing. Each
combination keeps its best passage (the one stating the most members) and what it lacks;
reviewers score answerability from these, the reviser searches for what is missing and the
Answer section quotes from them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agents import names
from agents.claim_extractor import is_measurable
from agents.facets import metric_mentions, phrase_in
from agents.reading import SKIP_SECTIONS
from memory.models import Claim, FacetCombination, FacetCoverage, Facets, PassageRef
from memory.text import normalize_for_match, split_sentences

MAX_COMBINATIONS = 8
PASSAGES_PER_COMBINATION = 6  # full-text paragraphs fetched from vector memory per combination
_SELF = re.compile(r"\b(?:we|our|ours|us|the proposed|this (?:paper|work|method))\b", re.I)
_IT = re.compile(r"\b(?:it|its)\b", re.I)
_NUMBER = re.compile(r"\d+(?:\.\d+)?[a-z]*")
_COMPARES = re.compile(
    r"\b(?:than|compared|comparison|versus|vs\.?|relative to|over|against|outperform\w*|"
    r"surpass\w*|beat\w*|exceed\w*|match\w*|on par|better|worse|faster|slower|"
    r"as \w+ as)\b",
    re.I,
)


@dataclass(frozen=True)
class Member:
    facet: str  # entity | metric | benchmark | conditions | comparison
    value: str

    @property
    def label(self) -> str:
        return f"{self.facet}: {self.value}"


@dataclass(frozen=True)
class Candidate:
    """A passage with what the matching needs to know about where it comes from."""

    ref: PassageRef
    is_target: bool = False
    after_intro: bool = False  # a target abstract sentence after the one that names it
    titled: bool = False  # its source's title names the entity (a concept, not a method)
    body: bool = False  # a full-text sentence or table row of a results-like section


_CLAUSE = re.compile(r",\s*(?:and|but|or)\s+|;\s*|\?\s+")


def _clause_members(facets: Facets, clause: str) -> dict[str, list[Member]]:
    """The facet values one clause of the question names."""
    metrics = [m for m in metric_mentions(clause) if m in facets.metric]
    low = clause.lower()
    return {
        "metric": [Member("metric", m) for m in metrics],
        "benchmark": [Member("benchmark", b) for b in facets.benchmark if b.lower() in low],
        "conditions": [Member("conditions", c) for c in facets.conditions if c.lower() in low],
        "comparison": [Member("comparison", c) for c in facets.comparison if c.lower() in low],
    }


def _combos(entity: list[Member], found: dict[str, list[Member]]) -> list[list[Member]]:
    """Entity x metric x benchmark with the conditions; then entity x metric x comparison."""
    metrics: list[Member | None] = list(found["metric"]) or [None]
    benches: list[Member | None] = list(found["benchmark"]) or [None]
    # a clause that only compares ('how does its latency compare with X') asks the
    # comparison, not the bare metric as well
    bare = not found["benchmark"] and not found["conditions"] and bool(found["comparison"])
    out: list[list[Member]] = []
    for metric in metrics:
        head = [*entity, *([metric] if metric else [])]
        if not bare:
            out += [[*head, *([b] if b else []), *found["conditions"]] for b in benches]
        out += [[*head, comp] for comp in found["comparison"]]
    return out


def combinations(facets: Facets, question: str = "") -> list[list[Member]]:
    """The combinations the question asks, clause by clause: 'How much accuracy does HAWK
    retain when pruning, and how does its latency compare with other methods?' asks HAWK's
    accuracy when pruning and HAWK's latency against other methods, not all four pairings.
    Without the question's words (or when no clause names a facet) every value joins in."""
    entity = [Member("entity", e) for e in facets.entity[:1]]
    combos: list[list[Member]] = []
    for clause in _CLAUSE.split(question) if question else []:
        found = _clause_members(facets, clause)
        if any(found.values()):
            combos += _combos(entity, found)
    if not combos:
        every = {
            "metric": [Member("metric", m) for m in facets.metric],
            "benchmark": [Member("benchmark", b) for b in facets.benchmark],
            "conditions": [Member("conditions", c) for c in facets.conditions],
            "comparison": [Member("comparison", c) for c in facets.comparison],
        }
        combos = _combos(entity, every)
    unique = {tuple(c): c for c in combos if c}
    return list(unique.values())[:MAX_COMBINATIONS]


def members_of(combo: FacetCombination) -> list[Member]:
    """A recorded combination's members ('facet: value' labels) as members again."""
    out = []
    for text in combo.members:
        facet, _, value = text.partition(": ")
        out.append(Member(facet, value))
    return out


def label(members: list[Member]) -> str:
    """'SMoES: latency on MMMU, at batch size 16' / 'HAWK: latency compared with X'."""
    by = {f: [m.value for m in members if m.facet == f] for f in ("entity", "metric")}
    head = ", ".join(by["metric"]) or "results"
    text = f"{by['entity'][0]}: {head}" if by["entity"] else head
    for m in members:
        if m.facet == "benchmark":
            text += f" on {m.value}"
        elif m.facet == "comparison":
            text += f" compared with {m.value}"
    conds = [m.value for m in members if m.facet == "conditions"]
    return text + (f", {'; '.join(conds)}" if conds else "")


def _numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(normalize_for_match(text)))


def condition_in(value: str, text: str) -> bool:
    """Every number of the condition ('7B', '13B', '16', '128') and most of its words."""
    wanted = _numbers(value)
    if wanted and not wanted <= _numbers(text):
        return False
    return phrase_in(value, text) or bool(wanted)


def states(member: Member, cand: Candidate, aliases: list[str]) -> bool:
    text = cand.ref.text
    if member.facet == "entity":
        if names.find_any([member.value, *aliases], text) is not None:
            return True
        # the target paper speaks of itself as "we"/"our method", and after naming itself
        # in its abstract, as "it"; a paper whose title names a concept ("Quantized
        # Mixture-of-Experts") is about it throughout
        if cand.titled:
            return True
        if not cand.is_target:
            return False
        if _SELF.search(text) or (cand.after_intro and _IT.search(text)):
            return True
        # the target's own results sections speak of it without naming it ('the detector
        # accuracy was about 91%'), unless the sentence names another method
        return cand.body and not names.names_another(text, [member.value, *aliases])
    if member.facet == "metric":
        # a share is written as a percentage as often as it is named
        percent = member.value == "share" and bool(re.search(r"\d\s?%", text))
        return percent or member.value in metric_mentions(text)
    if member.facet == "conditions":
        return condition_in(member.value, text)
    if member.facet == "comparison":  # the baseline's words, and the passage compares
        return phrase_in(member.value, text) and bool(_COMPARES.search(text))
    return phrase_in(member.value, text, member.facet)


def _rank(cand: Candidate, hit: list[Member]) -> tuple[Any, ...]:
    """Most members first, the entity and the metric among them, a selected claim, the
    target's own words, a measured statement, then the shorter."""
    has_entity = any(m.facet == "entity" for m in hit)
    has_metric = any(m.facet == "metric" for m in hit)
    return (
        -len(hit),
        not has_entity,
        not has_metric,
        cand.ref.claim_id is None,
        not cand.is_target,
        not is_measurable(cand.ref.text),
        len(cand.ref.text),
    )


def _judge(members: list[Member], pool: list[Candidate], aliases: list[str]) -> FacetCombination:
    best: tuple[tuple[Any, ...], Candidate, list[Member]] | None = None
    for cand in pool:
        hit = [m for m in members if states(m, cand, aliases)]
        if not hit:
            continue
        key = _rank(cand, hit)
        if best is None or key < best[0]:
            best = (key, cand, hit)
    text = label(members)
    if best is None:
        return FacetCombination(
            label=text,
            members=[m.label for m in members],
            status="not_covered",
            missing=[m.label for m in members],
            note=f"no retrieved passage states any of {text}",
        )
    _, cand, hit = best
    missing = [m for m in members if m not in hit]
    status = "covered" if not missing else "partial" if len(hit) >= 2 else "not_covered"
    note = "" if status == "covered" else f"no retrieved passage states {text} together"
    return FacetCombination(
        label=text,
        members=[m.label for m in members],
        status=status,
        best=cand.ref,
        stated=[m.label for m in hit],
        missing=[m.label for m in missing],
        note=note,
    )


def joint_coverage(
    facets: Facets, pool: list[Candidate], aliases: Iterable[str] = (), question: str = ""
) -> list[FacetCombination]:
    """Each combination the question asks, with its best passage and joint status."""
    names_of_target = list(aliases)
    return [_judge(m, pool, names_of_target) for m in combinations(facets, question)]


# --- the passages a run has: claims, candidate statements, abstracts, full-text paragraphs --


def _skipped(location: str | None) -> bool:
    low = (location or "").lower()
    return any(word in low for word in SKIP_SECTIONS)


_FRAMING = ("introduction", "background", "motivation", "title", "abstract")


def _results(ref: PassageRef) -> bool:
    """A body passage outside the framing sections (introduction, background, motivation),
    where a paper reports what it found."""
    low = (ref.location or "").lower()
    return bool(low) and not any(word in low for word in _FRAMING)


def _intro_index(papers: list[dict[str, Any]], target_id: str | None, aliases: list[str]) -> int:
    """Index of the target abstract's first sentence that names it (its later sentences may
    say "it"); past the end when none does or there is no target."""
    for paper in papers:
        if paper["arxiv_id"] == target_id:
            for i, sentence in enumerate(split_sentences(paper["abstract"])):
                if names.find_any(aliases, sentence) is not None:
                    return i
    return 10**6


def _titled(papers: list[dict[str, Any]], entity: str | None, aliases: list[str]) -> set[str]:
    """Sources whose title names a concept entity (never a method's distinctive name)."""
    if not entity or any(names.distinctive(t.base) for t in names.tokens(entity)):
        return set()
    return {
        p["arxiv_id"] for p in papers if names.find_any([entity, *aliases], p["title"]) is not None
    }


def passage_pool(
    claims: list[Claim],
    candidates: list[Claim],
    papers: list[dict[str, Any]],
    body: Iterable[Any],
    target_id: str | None,
    aliases: Iterable[str] = (),
    entity: str | None = None,
) -> list[Candidate]:
    """Every passage the run holds, selected claims first (they carry a verification), then
    the other candidate statements, the abstracts, and full-text sentences from memory;
    each statement once. Sections about other work (related work, references) are left out.
    When the entity is a concept ('Mixture-of-Experts'), a source whose title names it is
    about it in every sentence; a method's name ('SMoES') must be stated each time."""
    intro = _intro_index(papers, target_id, list(aliases))
    titled = _titled(papers, entity, list(aliases))
    pool: list[Candidate] = []
    seen: set[tuple[str, str]] = set()

    def add(ref: PassageRef, index: int | None = None) -> None:
        key = (ref.source_id, normalize_for_match(ref.text))
        if key in seen or _skipped(ref.location):
            return
        seen.add(key)
        is_target = ref.source_id == target_id
        after = is_target and ref.location == "Abstract" and index is not None and index > intro
        pool.append(Candidate(ref, is_target, after, ref.source_id in titled, _results(ref)))

    for group, selected in ((claims, True), (candidates, False)):
        for c in group:
            add(
                PassageRef(
                    source_id=c.source_id,
                    text=c.quote,
                    location=c.location,
                    claim_id=c.id if selected else None,
                ),
                c.sentence_index,
            )
    for paper in papers:
        add(PassageRef(source_id=paper["arxiv_id"], text=paper["title"], location="Title"))
        for i, sentence in enumerate(split_sentences(paper["abstract"])):
            add(PassageRef(source_id=paper["arxiv_id"], text=sentence, location="Abstract"), i)
    for passage in body:
        for sentence in split_sentences(passage.text):
            add(PassageRef(source_id=passage.source_id, text=sentence, location=passage.location))
    return pool


def body_passages(
    memory: Any, facets: Facets, restrict_to: list[str], question: str = ""
) -> list[Any]:
    """Full-text paragraphs nearest each combination, from the sources read in full."""
    if memory is None or not restrict_to:
        return []
    out: list[Any] = []
    for members in combinations(facets, question):
        query = " ".join(m.value for m in members)
        out += memory.query(
            query, k=PASSAGES_PER_COMBINATION, kind="passage", restrict_to=restrict_to
        )
    return out


def entity_names(
    facets: Facets, target_match: dict[str, Any] | None, papers: list[dict[str, Any]]
) -> list[str]:
    """The names the first entity goes by: the target paper's aliases and full name, or
    for a literature question, the acronym or long form the sources define for it
    ('Mixture-of-Experts' is 'MoE')."""
    match = target_match or {}
    known = [*match.get("aliases", []), *([match["full_name"]] if match.get("full_name") else [])]
    if known or not facets.entity:
        return [k for k in known if k]
    texts = [f"{p['title']}. {p['abstract']}" for p in papers]
    return names.aliases_in(facets.entity[0], texts)


COMBINATION = "combination"  # FacetCoverage.facet of a facet combination


def as_coverage(joint: list[FacetCombination]) -> list[FacetCoverage]:
    """Each combination as a coverage item, covered only when one passage states it whole,
    so every reader of `coverage` (policy, reviewers, Uncertainties) counts facets jointly."""
    return [
        FacetCoverage(
            facet=COMBINATION,
            value=c.label,
            covered=c.status == "covered",
            source_ids=[c.best.source_id] if c.best and c.status == "covered" else [],
            note=c.note,
        )
        for c in joint
    ]


def answerability(combos: list[FacetCombination]) -> float:
    """Share of the question answered jointly: a covered combination counts 1, a partial one
    half its share of members stated, an uncovered one 0."""
    if not combos:
        return 0.0
    score = 0.0
    for c in combos:
        if c.status == "covered":
            score += 1.0
        elif c.status == "partial":
            score += 0.5 * len(c.stated) / max(1, len(c.members))
    return score / len(combos)
