"""Break a question into facets (entity, metric, benchmark, comparison, conditions) and decide
which facets the retrieved evidence covers. Deterministic; an LLM may propose facets too."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from memory.models import FacetCoverage, Facets
from memory.text import normalize_for_match

METRICS: dict[str, tuple[str, ...]] = {
    # canonical metric -> surface forms (normalised, matched as whole words)
    "accuracy": ("accuracy", "accuracies", "acc", "top-1", "top 1", "top1"),
    "throughput": ("throughput", "tokens/s", "tokens/sec", "tokens per second", "tok/s", "qps"),
    "latency": ("latency", "ttft", "tpot", "time to first token", "inference time", "runtime"),
    "speedup": ("speedup", "speed-up", "faster", "speed up"),
    "memory": ("memory", "gpu memory", "vram", "memory footprint"),
    "parameters": ("parameters", "params", "activated parameters", "active parameters"),
    "flops": ("flops", "gflops", "tflops", "compute"),
    "f1": ("f1", "f1-score", "f1 score", "macro-f1"),
    "bleu": ("bleu",),
    "rouge": ("rouge", "rouge-l"),
    "perplexity": ("perplexity", "ppl"),
    "map": ("map", "mean average precision"),
    "auc": ("auc", "auroc"),
    "anls": ("anls",),
    "wer": ("wer", "word error rate"),
    "exact match": ("exact match", "em"),
    "success rate": ("success rate",),
    "win rate": ("win rate",),
    "precision": ("precision",),
    "recall": ("recall",),
    "error rate": ("error rate", "error"),
    "energy": ("energy", "power consumption"),
    "cost": ("cost", "training cost", "inference cost"),
    "robustness": ("robustness", "robust", "adversarial accuracy", "attack success rate"),
    "efficiency": ("efficiency", "efficient"),
    "iou": ("iou", "miou"),
    "psnr": ("psnr",),
    "ssim": ("ssim",),
    "fid": ("fid",),
    "pass@1": ("pass@1", "pass@k"),
    "performance": ("performance", "score", "scores"),
}

KNOWN_BENCHMARKS = [
    "MMLU",
    "GSM8K",
    "ImageNet",
    "COCO",
    "Winoground",
    "MMMU",
    "MathVista",
    "DocVQA",
    "ChartQA",
    "InfographicsVQA",
    "InfoVQA",
    "HumanEval",
    "MBPP",
    "SQuAD",
    "GLUE",
    "SuperGLUE",
    "HellaSwag",
    "TruthfulQA",
    "BBH",
    "MATH",
    "AIME",
    "ARC",
    "LibriSpeech",
    "CIFAR-10",
    "CIFAR-100",
    "KITTI",
    "nuScenes",
    "VQAv2",
    "GQA",
    "TextVQA",
    "ScienceQA",
    "SQA-IMG",
    "MME",
    "MMBench",
    "POPE",
    "SEED-Bench",
    "LLaVA-Bench",
    "OK-VQA",
    "Flickr30k",
    "ADE20K",
    "Cityscapes",
    "WMT",
    "LongBench",
    "RULER",
    "MT-Bench",
    "AlpacaEval",
    "Arena-Hard",
    "GPQA",
    "SWE-bench",
    "LiveCodeBench",
    "BoolQ",
    "PIQA",
    "WinoGrande",
    "OpenBookQA",
    "CommonsenseQA",
    "NaturalQuestions",
    "TriviaQA",
    "HotpotQA",
    "MS-MARCO",
    "BEIR",
    "MTEB",
    "SciFact",
    "FEVER",
    "ImageNet-1K",
    "ImageNet-21K",
    "Kinetics-400",
    "UCF101",
    "Something-Something",
]
_KNOWN_NORM = {normalize_for_match(b): b for b in KNOWN_BENCHMARKS}

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "for",
        "to",
        "and",
        "or",
        "with",
        "without",
        "by",
        "from",
        "at",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "does",
        "do",
        "did",
        "how",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "when",
        "where",
        "whether",
        "than",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "their",
        "there",
        "versus",
        "vs",
        "compare",
        "compared",
        "comparison",
        "relative",
        "against",
        "between",
        "into",
        "under",
        "over",
        "can",
        "could",
        "would",
        "should",
        "may",
        "might",
        "will",
        "shall",
        "has",
        "have",
        "had",
        "not",
        "no",
        "yes",
        "about",
        "across",
        "per",
        "each",
        "such",
        "any",
        "all",
        "more",
        "most",
        "less",
        "much",
        "many",
        "some",
        "model",
        "models",
        "method",
        "methods",
        "approach",
        "paper",
        *[
            "we",
            "our",
            "us",
            "present",
            "propose",
            "proposed",
            "show",
            "shows",
            "new",
            "novel",
            "using",
            "use",
            "also",
            "both",
            "via",
        ],
    ]
)
_QUESTION_WORDS = frozenset(
    [
        "what",
        "how",
        "does",
        "do",
        "did",
        "is",
        "are",
        "which",
        "who",
        "why",
        "when",
        "where",
        "can",
        "could",
    ]
)
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


def entity_mentions(text: str, exclude: Iterable[str] = ()) -> list[str]:
    """Runs of capitalised / acronym tokens (e.g. 'Grove MoE', 'SMoES'), minus benchmarks."""
    excluded = {normalize_for_match(e) for e in exclude}
    words = re.findall(r"\S+", text)
    runs: list[list[str]] = []
    current: list[str] = []
    for i, raw in enumerate(words):
        word = re.sub(r"['’]s$", "", raw.strip("?,;:()\"'"))
        is_name = bool(word) and (
            (word[0].isupper() and not (i == 0 and word.lower() in _QUESTION_WORDS))
            or any(c.isupper() for c in word[1:])
        )
        if word.lower() in _QUESTION_WORDS and i == 0:
            is_name = False
        if is_name and normalize_for_match(word) not in excluded and not word.isdigit():
            current.append(word)
        else:
            if current:
                runs.append(current)
            current = []
        if raw and raw[-1] in "?,;:" and current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    out: list[str] = []
    for run in runs:
        name = " ".join(run)
        if normalize_for_match(name) in excluded or name.lower() in _QUESTION_WORDS:
            continue
        if name not in out:
            out.append(name)
    return out


def extract_facets(question: str, target_title: str | None = None) -> Facets:
    """Deterministic facets of `question`; the target paper's short name joins the entities."""
    question = strip_ids(question)
    benchmarks = benchmark_mentions(question)
    metrics = metric_mentions(question)
    metric_forms = {normalize_for_match(f) for c in metrics for f in METRICS[c]}
    comparisons = [clean_phrase(m.group("x")) for m in _COMPARISON.finditer(question)]
    conditions = [clean_phrase(m.group("x")) for m in _CONDITION.finditer(question)]
    comparisons = [c for c in comparisons if c and not c.lower().startswith(("the ", "a "))] or [
        c for c in comparisons if c
    ]
    entities = entity_mentions(question, exclude=[*benchmarks, *metric_forms])
    entities = [e for e in entities if not any(e in c for c in comparisons)]
    entities = [e for e in entities if not re.fullmatch(r"\d+(\.\d+)?[BM]", e)]
    if target_title:
        short = short_name(target_title)
        if short and not any(
            normalize_for_match(short) == normalize_for_match(e) for e in entities
        ):
            entities.insert(0, short)
    metrics = [m for m in metrics if m != "performance"] or metrics
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
    """Does `text` mention the facet value? Metrics match any surface form; phrases need most
    of their content words."""
    if facet == "metric" and value in METRICS:
        return value in metric_mentions(text)
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


def coverage(
    facets: Facets, papers: list[dict[str, Any]], question: str | None = None
) -> list[FacetCoverage]:
    """Which facet values some retrieved source mentions; plus, for each metric the question
    asks on a benchmark, whether one sentence measures that metric on that benchmark."""
    sentences: list[tuple[str, str]] = []
    for paper in papers:
        from memory.text import split_sentences

        sentences.append((paper["arxiv_id"], paper["title"]))
        sentences.extend((paper["arxiv_id"], s) for s in split_sentences(paper["abstract"]))
    out: list[FacetCoverage] = []
    for facet, value in facet_items(facets):
        ids = sorted({sid for sid, s in sentences if phrase_in(value, s, facet)})
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
