"""BM25F scoring of a bounded candidate set, in Python.

FTS5's own bm25() recomputes every phrase's document frequency over the whole index on each
statement (a full doclist pass per phrase, repeated for every copy of a phrase in a tiered
expression), which is what makes it slow for common terms. Here FTS5 only selects candidates;
document frequencies are estimated from the newest DF_SAMPLE documents (exact for smaller
mirrors) and cached, and term frequencies come from one regex pass over each candidate's title
and abstract. Field weights: title 3, abstract 1.

A query of more than REGEX_TERMS terms (arXiv allows about a thousand OR'd terms) is matched
word by word instead: one regex alternation tries every branch at every word, which took
minutes for a thousand terms over the ranked pool; `_WordMatcher` looks each word's prefixes up
in a dict of stems, linear in the text for any number of terms."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from memory.mirror.query_parser import Term

REGEX_TERMS = 64
_RUN = re.compile(r"\w+")
K1 = 1.2
B = 0.75
FIELD_WEIGHTS = {"title": 3.0, "abstract": 1.0}
SCORED_FIELDS = {"all": ("title", "abstract"), "ti": ("title",), "abs": ("abstract",)}
_SUFFIXES = (
    "ational",
    "ization",
    "ations",
    "ation",
    "ings",
    "ing",
    "ions",
    "ion",
    "ies",
    "ers",
    "er",
    "ed",
    "es",
    "s",
    "ly",
    "al",
)


def fold(text: str) -> str:
    """Lower-case and strip accents, as the FTS5 tokenizer does (remove_diacritics 2)."""
    text = text.lower()
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def _stem(word: str) -> str:
    """A crude suffix strip that lands on (or just before) the Porter stem, for prefix
    matching; exactness is not needed because FTS5 already decided membership."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def term_stems(term: Term) -> list[str]:
    """The stems a term's words must start with (a prefix term's last word is kept whole)."""
    words = re.findall(r"[^\W_]+", fold(term.text))
    last = len(words) - 1
    return [w if (term.prefix and i == last) else _stem(w) for i, w in enumerate(words)]


def term_pattern(term: Term) -> str:
    """Regex (without the leading word boundary) for one term or phrase."""
    stems = term_stems(term)
    last = len(stems) - 1
    return "".join(
        re.escape(stem) + (r"\w*" if i == last else r"\w*[\W_]+") for i, stem in enumerate(stems)
    )


def compile_term_regex(term: Term) -> re.Pattern[str]:
    return re.compile(r"\b" + term_pattern(term))


class _WordMatcher:
    """Which terms occur at which word: each word's prefixes are looked up among the terms'
    first stems, and a phrase's later stems must start the following words. Unlike the
    regex, an underscore inside a word never separates a phrase's words."""

    def __init__(self, terms: Sequence[Term]) -> None:
        self.stems = [term_stems(t) for t in terms]
        self.first: dict[str, list[int]] = {}
        for i, stems in enumerate(self.stems):
            self.first.setdefault(stems[0], []).append(i)
        self.lengths = sorted({len(s) for s in self.first})

    def hits(self, text: str) -> Iterator[int]:
        """The index of every term at every word where it occurs."""
        runs = _RUN.findall(fold(text))
        for at, run in enumerate(runs):
            for n in self.lengths:
                if n > len(run):
                    break
                for i in self.first.get(run[:n], ()):
                    rest = self.stems[i][1:]
                    if at + len(rest) < len(runs) and all(
                        runs[at + k].startswith(s) for k, s in enumerate(rest, 1)
                    ):
                        yield i


def coordination(terms: Sequence[Term]) -> Callable[[str], int]:
    """How many of `terms` occur in a text (a title): one regex per term for a few terms, the
    word matcher for many."""
    if len(terms) > REGEX_TERMS:
        matcher = _WordMatcher(terms)
        return lambda text: len(set(matcher.hits(text)))
    patterns = [compile_term_regex(t) for t in terms]

    def count(text: str) -> int:
        folded = fold(text)
        return sum(1 for p in patterns if p.search(folded))

    return count


@dataclass(frozen=True)
class Doc:
    rid: int
    title: str
    abstract: str


class Scorer:
    """Scores candidates for one query's positive terms."""

    def __init__(self, terms: Sequence[Term], idf: Sequence[float], avg_len: dict[str, float]):
        self.terms = [t for t in terms if t.field in SCORED_FIELDS]
        self.idf = [w for t, w in zip(terms, idf, strict=True) if t.field in SCORED_FIELDS]
        self.avg_len = avg_len
        self.matcher = _WordMatcher(self.terms) if len(self.terms) > REGEX_TERMS else None
        # one alternation behind a single word boundary: far faster in `re` than one
        # boundary-anchored group per term
        self.pattern = (
            re.compile(r"\b(?:" + "|".join(f"({term_pattern(t)})" for t in self.terms) + ")")
            if self.terms and self.matcher is None
            else None
        )

    def _tf(self, text: str) -> list[int]:
        counts = [0] * len(self.terms)
        if self.matcher is not None:
            for i in self.matcher.hits(text):
                counts[i] += 1
            return counts
        if self.pattern is None:
            return counts
        for m in self.pattern.finditer(fold(text)):
            if m.lastindex is not None:
                counts[m.lastindex - 1] += 1
        return counts

    def score(self, doc: Doc) -> float:
        if not self.terms:
            return 0.0
        fields = {"title": doc.title, "abstract": doc.abstract}
        tfs = {f: self._tf(text) for f, text in fields.items()}
        norms = {
            f: FIELD_WEIGHTS[f] / (1 - B + B * len(text) / max(1.0, self.avg_len[f]))
            for f, text in fields.items()
        }
        total = 0.0
        for i, term in enumerate(self.terms):
            tfw = sum(tfs[f][i] * norms[f] for f in SCORED_FIELDS[term.field])
            if tfw > 0:
                total += self.idf[i] * tfw / (K1 + tfw)
        return total


def idf(n_docs: int, df: float) -> float:
    """Lucene's non-negative BM25 idf."""
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
