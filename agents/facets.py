"""Break a question into facets (entity, metric, benchmark, comparison, conditions) and decide
which facets the retrieved evidence covers. Deterministic; an LLM may propose facets too."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from agents import names
from agents.vocab import KNOWN_BENCHMARKS, METRICS, QUESTION_WORDS, STOPWORDS
from memory.models import FacetCoverage, Facets
from memory.text import normalize_for_match, split_sentences

_KNOWN_NORM = {normalize_for_match(b): b for b in KNOWN_BENCHMARKS}

_COMPARISON = re.compile(
    r"\b(?:compared?\s+(?:with|to|against)|relative\s+to|versus|vs\.?|than|over|against)\s+"
    r"(?P<x>[^?,;]+?)(?=\s+(?:on|in|when|under|at|with|for|across|using)\b|[?,;]|$)",
    re.I,
)
_CONDITION = re.compile(
    r"\b(?P<x>(?:when|under|while|if)\s+[^?,;]+|at\s+(?:the\s+)?\d[^?,;]*|"
    r"with\s+(?:top-\d|\d)[^?,;]*|from\s+\d+\w*\s+to\s+\d+\w*[^?,;]*|"
    r"\d+(?:\.\d+)?\s*[BM]\b(?:\s+(?:and|or)\s+\d+(?:\.\d+)?\s*[BM]\b)?(?:\s+scales?)?)",
    re.I,
)
_NAME_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9\-\.+/]*[A-Za-z0-9+]|[A-Z]")
_WORD = re.compile(r"[a-z0-9][a-z0-9\-\./%@]*")


def content_tokens(text: str) -> list[str]:
    """Lower-case content words (stopwords out, light plural folding) for overlap scores."""
    out = []
    for tok in _WORD.findall(normalize_for_match(text)):
        tok = tok.strip(".-/")
        if not tok or tok in STOPWORDS or len(tok) < 2:
            continue
        if len(tok) > 4 and tok.endswith("s") and not tok.endswith("ss"):
            tok = tok[:-1]
        out.append(tok)
    return out


def metric_mentions(text: str) -> list[str]:
    """Canonical metrics named in `text`, in order of first mention."""
    norm = f" {normalize_for_match(text)} "
    found: list[tuple[int, str]] = []
    for canon, forms in METRICS.items():
        positions = [norm.find(f" {normalize_for_match(f)} ") for f in forms]
        positions = [p for p in positions if p >= 0]
        if positions:
            found.append((min(positions), canon))
    return [c for _, c in sorted(found)]


def benchmark_mentions(text: str) -> list[str]:
    """Benchmark/dataset names: known ones, plus tokens shaped like them ('DocVQA', 'X-Bench')."""
    out: list[str] = []
    for tok in re.findall(r"[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]", text):
        norm = normalize_for_match(tok)
        name = _KNOWN_NORM.get(norm)
        if name is None and re.search(r"(QA|VQA|Bench|bench|Eval)$", tok) and len(tok) > 4:
            name = tok
        if name and name not in out:
            out.append(name)
    return out


def _name_word(word: str, first: bool) -> bool:
    if not word or word.isdigit():
        return False
    if first and (word.lower() in QUESTION_WORDS or word.lower() in STOPWORDS):
        return False  # 'By how much ...', 'In arXiv ...': a capital that starts the question
    return word[0].isupper() or names.distinctive(word)


def _name_runs(text: str) -> list[str]:
    """Runs of capitalised / acronym words. A derived form ends its run at its base
    ('SMoES-based MoE-VLMs' gives 'SMoES', then 'MoE-VLMs'); an acronym plural is a class
    noun, never part of the name before it ('SMOES MoE-VLMs' gives 'SMOES', 'MoE-VLMs')."""
    runs: list[list[str]] = []
    current: list[str] = []

    def close() -> None:
        if current:
            runs.append(list(current))
            current.clear()

    for i, raw in enumerate(re.findall(r"\S+", text)):
        word = raw.strip("?,;:()[]\"'.")
        base, form = names.reduce(word)
        if not _name_word(base, i == 0):
            close()
            continue
        if form == "Xs":
            close()
            runs.append([word])
        elif form.startswith("X-") or form == "X's":
            current.append(base)
            close()
        else:
            current.append(base)
        if raw[-1] in "?,;:)":
            close()
    close()
    return [" ".join(run) for run in runs]


def entity_mentions(text: str, exclude: Iterable[str] = ()) -> list[str]:
    """Names of methods, models and systems in `text` ('Grove MoE', 'SMoES'), minus `exclude`
    (benchmarks, metric words)."""
    excluded = {normalize_for_match(e) for e in exclude}
    out: list[str] = []
    for name in _name_runs(text):
        if normalize_for_match(name) in excluded or name.lower() in QUESTION_WORDS:
            continue
        if name not in out:
            out.append(name)
    return out


def _trim_condition(text: str) -> str:
    """A condition ends where the question turns to its benchmark or an aside: 'when scaling
    from 7B to 70B parameters on … benchmarks like DocVQA' -> 'when scaling from 7B to 70B
    parameters'; '(e.g., …' is cut."""
    text = text.split("(", 1)[0]
    m = re.search(r"\s+(?:on|across|in)\s+(?P<rest>.*)$", text)
    if m and (benchmark_mentions(m.group("rest")) or "benchmark" in m.group("rest").lower()):
        text = text[: m.start()]
    return clean_phrase(text)


def _targeted(entities: list[str], aliases: list[str]) -> list[str]:
    """The target paper's name first, spelled as the paper spells it ('SMOES' -> 'SMoES')."""
    if not aliases:
        return entities
    rest = [e for e in entities if names.find_any(aliases, e) is None]
    return [aliases[0], *rest]


def _metrics(question: str, phrases: list[str]) -> list[str]:
    """Metrics the question asks for; a metric word inside a condition ('70B parameters') or
    a comparison ('the full quad precision code') belongs to that phrase, not the metrics."""
    outside = question
    for cond in phrases:
        outside = outside.replace(cond, " ")
    found = metric_mentions(outside)
    return [m for m in found if m != "performance"] or found


def extract_facets(
    question: str, target_title: str | None = None, aliases: Iterable[str] = ()
) -> Facets:
    """Deterministic facets of `question`; the target paper's name (its first alias, else its
    title's short name) leads the entities."""
    question = strip_ids(question)
    benchmarks = benchmark_mentions(question)
    conditions = [_trim_condition(m.group("x")) for m in _CONDITION.finditer(question)]
    conditions = [c for c in conditions if c]
    comparisons = [clean_phrase(m.group("x")) for m in _COMPARISON.finditer(question)]
    metrics = _metrics(question, [*conditions, *comparisons])
    metric_forms = {normalize_for_match(f) for c in metric_mentions(question) for f in METRICS[c]}
    comparisons = [c for c in comparisons if c and not c.lower().startswith(("the ", "a "))] or [
        c for c in comparisons if c
    ]
    entities = entity_mentions(question, exclude=[*benchmarks, *metric_forms])
    entities = [e for e in entities if not any(e in c for c in comparisons)]
    entities = [e for e in entities if not re.fullmatch(r"\d+(\.\d+)?[BM]", e)]
    names_of_target = [a for a in aliases if a]
    if target_title and not names_of_target and (short := short_name(target_title)):
        names_of_target = [short]
    entities = _targeted(entities, names_of_target)
    return Facets(
        entity=entities[:3],
        metric=metrics[:3],
        benchmark=benchmarks[:4],
        comparison=_dedupe(comparisons)[:2],
        conditions=_dedupe(conditions)[:3],
    )


ARXIV_ID = re.compile(
    r"(?:arxiv[:\s]*)?\b(?P<id>\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)\b",
    re.I,
)


def strip_ids(question: str) -> str:
    """Remove arXiv ids (and their brackets) so they do not read as names."""
    text = ARXIV_ID.sub(" ", question)
    text = re.sub(r"\(\s*\)|\[\s*\]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def clean_phrase(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" .?!,;:")


def _dedupe(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and item.lower() not in {o.lower() for o in out}:
            out.append(item)
    return out


def short_name(title: str) -> str:
    """'Grove MoE: Towards ...' -> 'Grove MoE'; titles without a colon give ''."""
    if ":" in title:
        head = title.split(":", 1)[0].strip()
        if 0 < len(head) <= 40:
            return head
    return ""


def facet_items(facets: Facets | dict[str, Any]) -> list[tuple[str, str]]:
    data = facets.model_dump() if isinstance(facets, Facets) else facets
    return [(name, value) for name in Facets.model_fields for value in data.get(name, [])]


def phrase_in(value: str, text: str, facet: str = "") -> bool:
    """Does `text` mention the facet value? Entities and benchmarks are names (matched by
    `agents.names`: derived forms yes, look-alikes never); metrics match any surface form;
    other phrases need most of their content words."""
    if facet == "metric" and value in METRICS:
        return value in metric_mentions(text)
    if facet in ("entity", "benchmark"):
        return names.find(value, text, runs=facet == "entity") is not None
    norm_text = f" {normalize_for_match(text)} "
    if f" {normalize_for_match(value)} " in norm_text:
        return True
    want = set(content_tokens(value))
    if not want:
        return False
    have = set(content_tokens(text))
    need = max(1, math.ceil(0.6 * len(want))) if len(want) > 1 else 1
    return len(want & have) >= need


def paired(metric: str, bench: str, question: str) -> bool:
    """Does the question ask for `metric` on `bench` (named within a few words of each other)?"""
    norm = normalize_for_match(question)
    b = norm.find(normalize_for_match(bench))
    if b < 0:
        return False
    for form in METRICS.get(metric, (metric,)):
        for m in re.finditer(rf"(?<!\w){re.escape(normalize_for_match(form))}(?!\w)", norm):
            if abs(m.start() - b) <= 40:
                return True
    return False


def _mentioned(value: str, text: str, facet: str, aliases: list[str]) -> bool:
    if facet == "entity" and aliases:
        return names.find_any([value, *aliases], text) is not None
    return phrase_in(value, text, facet)


def coverage(
    facets: Facets,
    papers: list[dict[str, Any]],
    question: str | None = None,
    aliases: Iterable[str] = (),
) -> list[FacetCoverage]:
    """Which facet values some retrieved source mentions, each on its own (whether one passage
    states them together is `agents.coverage.joint_coverage`); the first entity is also
    recognised by the target paper's `aliases`. Plus, for each metric the question asks on a
    benchmark, whether one sentence measures that metric on that benchmark."""
    sentences: list[tuple[str, str]] = []
    for paper in papers:
        sentences.append((paper["arxiv_id"], paper["title"]))
        sentences.extend((paper["arxiv_id"], s) for s in split_sentences(paper["abstract"]))
    out: list[FacetCoverage] = []
    first = facets.entity[0] if facets.entity else None
    for facet, value in facet_items(facets):
        known = list(aliases) if value == first else []
        ids = sorted({sid for sid, s in sentences if _mentioned(value, s, facet, known)})
        note = "" if ids else f"no retrieved source mentions {value}"
        out.append(
            FacetCoverage(facet=facet, value=value, covered=bool(ids), source_ids=ids, note=note)
        )
    for metric in facets.metric:
        for bench in facets.benchmark:
            if question is not None and not paired(metric, bench, question):
                continue
            ids = sorted(
                {
                    sid
                    for sid, s in sentences
                    if phrase_in(metric, s, "metric") and phrase_in(bench, s, "benchmark")
                }
            )
            note = "" if ids else f"no retrieved source measures {metric} on {bench}"
            out.append(
                FacetCoverage(
                    facet="metric@benchmark",
                    value=f"{metric} on {bench}",
                    covered=bool(ids),
                    source_ids=ids,
                    note=note,
                )
            )
    return out
