"""Sentence embeddings for the verifier's dense features (local MiniLM), with a content-keyed
cache: in memory always, and on disk (SQLite under $SOVEREIGN_HOME) when a path is given, so
training and cross-validation embed each SciFact sentence once across runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.verification.cache import VectorCache, text_key

DIM = 384


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
            fresh = {k: np.asarray(v, dtype=np.float32) for k, v in zip(missing, vecs, strict=True)}
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
