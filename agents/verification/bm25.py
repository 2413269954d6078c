"""Okapi BM25 over a fixed document set, as sparse matrices so that scoring a query against
thousands of abstracts is one sparse product (no per-document Python loop)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

_TOKEN = re.compile(r"[a-z0-9][a-z0-9\-]*[a-z0-9]|[a-z0-9]")
_SUFFIXES = ("ations", "ation", "ing", "ies", "ed", "es", "s")


def _stem(word: str) -> str:
    """A light suffix strip so 'reduces'/'reduced'/'reduction' meet; not a real stemmer."""
    if word.isdigit() or len(word) <= 4:
        return word
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            return word[: -len(suf)]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-word-free, lightly stemmed tokens; hyphenated terms also split."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        parts = [tok, *tok.split("-")] if "-" in tok else [tok]
        out.extend(_stem(p) for p in parts if p and p not in ENGLISH_STOP_WORDS)
    return out


class BM25:
    """BM25 index; `scores(query)` gives one score per indexed text."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.vectorizer = CountVectorizer(analyzer=tokenize)
        tf = self.vectorizer.fit_transform(texts).tocsr().astype(np.float64)
        n_docs = tf.shape[0]
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        avg = float(lengths.mean()) if n_docs else 0.0
        df = np.bincount(tf.indices, minlength=tf.shape[1])
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        norm = k1 * (1 - b + b * lengths / (avg or 1.0))
        tf = tf.tocoo()
        data = tf.data * (k1 + 1) / (tf.data + norm[tf.row])
        self.matrix = sparse.csr_matrix((data, (tf.row, tf.col)), shape=tf.shape).T.tocsr()

    def query_vector(self, query: str) -> sparse.csr_matrix:
        q = self.vectorizer.transform([query])
        q.data = np.ones_like(q.data, dtype=np.float64)
        return q.multiply(self.idf).tocsr()

    def scores(self, query: str) -> np.ndarray:
        return np.asarray((self.query_vector(query) @ self.matrix).todense()).ravel()
