"""Hand-built features for (claim, sentence) and (claim, abstract) pairs. They look for content
agreement, not just shared topic: idf-weighted coverage of the claim's terms and bigrams, numbers
the claim states and whether the source repeats them, negation and null-result cues, direction
words (increase/decrease...) on either side, and hedges. Cue lexicons are closed lists so the
features mean the same on biomedical abstracts and on arXiv."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from agents.verification.bm25 import tokenize

_WORD = re.compile(r"[a-z][a-z\-']*")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)?(?:\s?%)?")

NEGATION = frozenset(
    [
        "not",
        "no",
        "never",
        "none",
        "neither",
        "nor",
        "without",
        "cannot",
        "can't",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "won't",
        "fail",
        "fails",
        "failed",
        "lack",
        "lacks",
        "lacking",
        "absence",
        "absent",
        "unable",
        "unaffected",
        "unrelated",
        "independent",
        "neither",
    ]
)
NULL_RESULT = (
    "no significant",
    "not significant",
    "did not",
    "does not",
    "do not",
    "no difference",
    "no association",
    "no effect",
    "not associated",
    "no evidence",
    "no change",
    "unchanged",
    "not affect",
    "no increase",
    "no decrease",
    "similar",
    "comparable",
    "no relationship",
    "no correlation",
    "nonsignificant",
    "non-significant",
    "was not",
    "were not",
    "is not",
    "are not",
)
UP = (
    "increas",
    "higher",
    "high",
    "more",
    "greater",
    "larger",
    "enhanc",
    "promot",
    "activat",
    "upregulat",
    "up-regulat",
    "elevat",
    "rais",
    "improv",
    "stimulat",
    "induc",
    "accelerat",
    "augment",
    "exacerbat",
    "gain",
    "rise",
    "rises",
    "boost",
    "strengthen",
    "posit",
    "advers",
    "risk",
    "worse",
    "longer",
    "faster",
    "above",
    "major",
    "strong",
    "exceed",
    "outperform",
)
DOWN = (
    "decreas",
    "lower",
    "low",
    "less",
    "fewer",
    "smaller",
    "reduc",
    "inhibit",
    "suppress",
    "downregulat",
    "down-regulat",
    "diminish",
    "impair",
    "attenuat",
    "prevent",
    "block",
    "slow",
    "delay",
    "declin",
    "loss",
    "lose",
    "weaken",
    "abolish",
    "alleviat",
    "negativ",
    "protect",
    "better",
    "shorter",
    "below",
    "minor",
    "weak",
    "underperform",
    "deplet",
    "limit",
)
HEDGES = frozenset(
    [
        "may",
        "might",
        "could",
        "possibly",
        "possible",
        "suggest",
        "suggests",
        "suggested",
        "likely",
        "potential",
        "potentially",
        "associated",
        "association",
        "correlated",
        "linked",
        "appear",
        "appears",
    ]
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def numbers(text: str) -> set[str]:
    """Numbers as normalised strings ('5 %' -> '5%', '3,5' -> '3.5')."""
    out = set()
    for m in _NUMBER.findall(text):
        n = m.replace(" ", "").replace(",", ".").lstrip("+")
        out.add(n)
    return out


def _direction(ws: Sequence[str]) -> tuple[int, int]:
    up = sum(1 for w in ws if w.startswith(UP))
    down = sum(1 for w in ws if w.startswith(DOWN))
    return up, down


def _null_cues(text: str) -> int:
    low = text.lower()
    return sum(low.count(p) for p in NULL_RESULT)


@dataclass
class TextView:
    """One text pre-digested once: stemmed tokens, bigrams, raw words, numbers."""

    text: str
    tokens: list[str]
    token_set: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    words: list[str]
    numbers: set[str]

    @classmethod
    def of(cls, text: str) -> TextView:
        toks = tokenize(text)
        return cls(
            text=text,
            tokens=toks,
            token_set=frozenset(toks),
            bigrams=frozenset(zip(toks, toks[1:], strict=False)),
            words=words(text),
            numbers=numbers(text),
        )


class Idf:
    """Inverse document frequency with a ceiling for unseen terms (unseen = rare = telling)."""

    def __init__(self, table: Mapping[str, float], unseen: float) -> None:
        self.table = dict(table)
        self.unseen = unseen

    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = 2) -> Idf:
        df: dict[str, int] = {}
        for t in texts:
            for tok in set(tokenize(t)):
                df[tok] = df.get(tok, 0) + 1
        n = len(texts)
        # sorted: the pickled table (and so the artifact's bytes) must not follow set order
        table = {k: math.log((n + 1) / (v + 0.5)) for k, v in sorted(df.items()) if v >= min_df}
        return cls(table, math.log((n + 1) / 1.5))

    def __call__(self, term: str) -> float:
        return self.table.get(term, self.unseen)

    def mass(self, terms: frozenset[str] | set[str]) -> float:
        # fsum is exact, so the total does not depend on the set's (hash-seeded) order; a plain
        # sum differed in the last bits between processes, and the trained models with it
        return math.fsum(self(t) for t in terms)


def coverage(claim: TextView, other: TextView, idf: Idf) -> float:
    """Idf-weighted share of the claim's terms that the other text contains."""
    total = idf.mass(claim.token_set)
    return idf.mass(claim.token_set & other.token_set) / total if total else 0.0


def bigram_coverage(claim: TextView, other: TextView) -> float:
    return len(claim.bigrams & other.bigrams) / len(claim.bigrams) if claim.bigrams else 0.0


SENTENCE_FEATURES = (
    "cov_idf",
    "cov_plain",
    "jaccard",
    "bigram_cov",
    "log_len",
    "position",
    "is_first",
    "is_last",
    "cov_minus_best",
    "cov_rank",
    "num_shared",
    "doc_cov",
    "title_cov",
    "n_sents",
)


def sentence_features(
    claim: TextView, sents: Sequence[TextView], doc: TextView, title: TextView, idf: Idf
) -> np.ndarray:
    """One row per sentence of one abstract."""
    n = len(sents)
    if n == 0:
        return np.zeros((0, len(SENTENCE_FEATURES)))
    covs = np.array([coverage(claim, s, idf) for s in sents])
    order = np.argsort(-covs, kind="stable")
    rank = np.empty(n)
    rank[order] = np.arange(n)
    best = float(covs.max())
    doc_cov = coverage(claim, doc, idf)
    title_cov = coverage(claim, title, idf)
    rows = []
    for i, s in enumerate(sents):
        inter = len(claim.token_set & s.token_set)
        union = len(claim.token_set | s.token_set) or 1
        rows.append(
            [
                covs[i],
                inter / (len(claim.token_set) or 1),
                inter / union,
                bigram_coverage(claim, s),
                math.log1p(len(s.tokens)),
                i / max(n - 1, 1),
                float(i == 0),
                float(i == n - 1),
                covs[i] - best,
                min(rank[i], 10),
                len(claim.numbers & s.numbers),
                doc_cov,
                title_cov,
                math.log1p(n),
            ]
        )
    return np.asarray(rows, dtype=np.float64)


def cue_features(claim: TextView, evidence: TextView) -> list[float]:
    """Contradiction and agreement cues between the claim and its chosen evidence text."""
    c_neg = sum(1 for w in claim.words if w in NEGATION)
    e_neg = sum(1 for w in evidence.words if w in NEGATION)
    c_null = _null_cues(claim.text)
    e_null = _null_cues(evidence.text)
    c_up, c_down = _direction(claim.words)
    e_up, e_down = _direction(evidence.words)
    c_nums = claim.numbers
    shared_nums = len(c_nums & evidence.numbers)
    missing_nums = len(c_nums - evidence.numbers)
    hedges = sum(1 for w in claim.words if w in HEDGES)
    c_dir = np.sign(c_up - c_down)
    e_dir = np.sign(e_up - e_down)
    return [
        float(c_neg),
        float(e_neg),
        float((c_neg > 0) != (e_neg > 0)),
        float(c_null),
        float(e_null),
        float((c_null > 0) != (e_null > 0)),
        float(c_up),
        float(c_down),
        float(e_up),
        float(e_down),
        float(c_dir * e_dir),
        float(c_up > 0 and e_down > 0 and e_up == 0),
        float(c_down > 0 and e_up > 0 and e_down == 0),
        float(len(c_nums)),
        float(shared_nums),
        float(missing_nums),
        float(len(c_nums) > 0 and shared_nums == 0),
        float(hedges),
    ]


CUE_FEATURES = (
    "c_neg",
    "e_neg",
    "neg_mismatch",
    "c_null",
    "e_null",
    "null_mismatch",
    "c_up",
    "c_down",
    "e_up",
    "e_down",
    "dir_product",
    "up_vs_down",
    "down_vs_up",
    "c_nums",
    "shared_nums",
    "missing_nums",
    "nums_all_missing",
    "hedges",
)

SPECIFIC_FEATURES = ("top_terms_in_doc", "top_terms_in_evidence", "max_missing_idf")
SPECIFIC_TERMS = 3  # the claim's rarest terms: what it is specifically about


def specificity_features(
    claim: TextView, doc: TextView, evidence: TextView, idf: Idf
) -> list[float]:
    """Whether a source names what the claim is specifically about. Many sources that pass
    relevance share the claim's topic but not its subject (another gene, drug or population):
    they cannot decide it, yet term coverage, dominated by common topic words, rates them high.
    The share of the claim's SPECIFIC_TERMS rarest terms in the source and in its top sentences,
    and the idf of the rarest claim term the source lacks (relative to the claim's rarest)."""
    terms = sorted(claim.token_set, key=lambda t: (-idf(t), t))[:SPECIFIC_TERMS]
    if not terms:
        return [0.0, 0.0, 0.0]
    lacking = [idf(t) for t in claim.token_set - doc.token_set]
    return [
        sum(t in doc.token_set for t in terms) / len(terms),
        sum(t in evidence.token_set for t in terms) / len(terms),
        max(lacking, default=0.0) / (idf(terms[0]) or 1.0),
    ]


DOC_FEATURES = (
    "doc_cov",
    "title_cov",
    "doc_bigram_cov",
    "doc_cov_minus_best",
    "doc_cov_rank",
    "p1",
    "p2",
    "p3",
    "p_sum",
    "best_sent_cov",
    "union_cov",
    "claim_len",
    "missing_idf_mass",
    *CUE_FEATURES,
    "doc_e_neg",
    "doc_e_null",
    "doc_missing_nums",
    "doc_nums_all_missing",
    "stance_support",
    *SPECIFIC_FEATURES,
)


def stance_text(claim: TextView, evidence: TextView) -> str:
    """Tokens for the sparse stance model: the claim's words, and those the evidence lacks (a
    flipped 'decreases' or an added 'not' shows up as a claim-only word)."""
    ev = set(evidence.words)
    cues = cue_features(claim, evidence)
    named = dict(zip(CUE_FEATURES, cues, strict=True))
    flags = [
        f"x_{n}"
        for n in ("neg_mismatch", "null_mismatch", "up_vs_down", "down_vs_up", "nums_all_missing")
        if named[n] > 0
    ]
    if named["c_neg"] == 0 and named["e_neg"] > 0:
        flags.append("x_evidence_only_negation")
    if named["c_null"] == 0 and named["e_null"] > 0:
        flags.append("x_evidence_only_null")
    return " ".join(
        [f"c_{w}" for w in sorted(set(claim.words))]
        + [f"co_{w}" for w in sorted(set(claim.words) - ev)]
        + flags
    )
