"""Sentence embeddings for the verifier's dense features (local MiniLM), with a content-keyed
cache: in memory always, and on disk (SQLite under $SOVEREIGN_HOME) when a path is given, so
training and cross-validation embed each SciFact sentence once across runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.verification.cache import VectorCache, text_key
from memory.models import EvidenceDoc

DIM = 384
# top rationale candidates per abstract that are embedded. Grouped CV on claims_train: label-only
# F1 0.546 / 0.559 / 0.557 at 0 / 1 / 2 sentences, at 9.3 / 6.4 / 5.5 claims/s (MiniLM's cost)
DENSE_SENTS = 1
DENSE_FEATURES = ("dense_max", "dense_top2", "dense_centroid", "dense_max_minus_best")


class SentenceEmbeddings:
    """L2-normalised MiniLM vectors (float32) for texts; blank texts get a zero vector."""

    def __init__(self, cache_path: Path | None = None, embedder: Any = None) -> None:
        self._embedder = embedder
        self._cache = VectorCache(cache_path, np.float16)

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from memory.embeddings import get_embedder

            self._embedder = get_embedder("local")
        return self._embedder

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        have = self._cache.get(k for k, t in zip(keys, texts, strict=True) if t.strip())
        missing = {k: t for k, t in zip(keys, texts, strict=True) if t.strip() and k not in have}
        if missing:
            vecs = self.embedder.embed_passages(list(missing.values()))
            # at the disk cache's precision: a vector reads the same fresh or cached, so a
            # model trained on a warm cache is the model a cold one rebuilds
            fresh = {
                k: np.asarray(v, dtype=np.float16).astype(np.float32)
                for k, v in zip(missing, vecs, strict=True)
            }
            self._cache.put(fresh)
            have.update(fresh)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, k in enumerate(keys):
            v = have.get(k)
            if v is not None:
                out[i] = v
        return out

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("SentenceEmbeddings holds a model session; it is not pickled")


def dense_features(
    claim: str,
    docs: Sequence[EvidenceDoc],
    probs: Sequence[np.ndarray],
    embed: SentenceEmbeddings,
    top: int = DENSE_SENTS,
) -> np.ndarray:
    """MiniLM cosine between the claim and each abstract's `top` rationale candidates: catches
    paraphrase that term overlap misses. One row of DENSE_FEATURES per doc; one embedding call
    per claim (the claim plus at most top x len(docs) sentences)."""
    picks = []
    for d, p in zip(docs, probs, strict=True):
        order = np.argsort(-np.asarray(p), kind="stable")[:top]
        picks.append([d.sentences[int(i)] for i in order])
    vecs = embed([claim, *(s for ss in picks for s in ss)])
    c, rest = vecs[0], vecs[1:]
    rows = []
    pos = 0
    for ss in picks:
        v = rest[pos : pos + len(ss)]
        pos += len(ss)
        if not len(v):
            rows.append([0.0, 0.0, 0.0])
            continue
        cos = np.sort(v @ c)[::-1]
        m = v.mean(axis=0)
        m = m / (float(np.linalg.norm(m)) or 1.0)
        rows.append([float(cos[0]), float(cos[:2].mean()), float(m @ c)])
    out = np.asarray(rows, dtype=np.float64).reshape(len(docs), 3)
    best = out[:, 0].max() if len(out) else 0.0
    return np.column_stack([out, out[:, 0] - best])


def head_features(
    claim: str, docs: Sequence[EvidenceDoc], probs: Sequence[np.ndarray], head: Any
) -> np.ndarray:
    """A pair model's read of the claim against each abstract's top rationale candidate (the
    sentence `dense_features` already embedded, so the stance head costs no MiniLM pass here):
    its relevance logit log P(SUPPORT or CONTRADICT) - log P(NEI), and that minus the best of
    the claim's candidates. `head` is a `classifier.PairModel`."""
    rows = np.zeros((len(docs), 2))
    pairs = [
        (j, (claim, d.sentences[int(np.argmax(p))]))
        for j, (d, p) in enumerate(zip(docs, probs, strict=True))
        if len(d.sentences)
    ]
    if pairs:
        lp = np.asarray(head([pr for _, pr in pairs]), dtype=np.float64)[:, :3]
        nei = np.clip(lp[:, 2], -30.0, -1e-6)
        rows[[j for j, _ in pairs], 0] = np.log(-np.expm1(nei)) - nei
    rows[:, 1] = rows[:, 0] - rows[:, 0].max() if len(rows) else 0.0
    return rows
