"""A tiny deterministic embedder (hashed bag of words). It exists for tests of code that stores
and ranks vectors, where the model itself is beside the point and loading ONNX would only slow
things down. It is a real embedder: same text, same vector; shared words, higher cosine."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from memory.embeddings.base import check_texts, l2_normalise, over_limit

_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Bag of lower-cased words hashed into `dim` buckets with a sign bit."""

    backend = "hash"

    def __init__(self, dim: int = 256, model_id: str | None = None) -> None:
        self.dim = dim
        self.model_id = model_id or f"sovereign/hashing-bow-{dim}"
        self.calls = 0
        self.texts_embedded = 0
        self.truncated = 0  # texts embedded from their first MAX_TEXT_CHARS characters only

    def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        items = check_texts(texts)
        self.truncated += over_limit(texts)
        self.calls += 1
        self.texts_embedded += len(items)
        out = np.zeros((len(items), self.dim), dtype=np.float64)
        for row, text in enumerate(items):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                h = int.from_bytes(digest, "little")
                out[row, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
            if not out[row].any():
                out[row, 0] = 1.0  # text without words (e.g. "!!!") still gets a valid vector
        return [list(map(float, v)) for v in l2_normalise(out)]

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts)
