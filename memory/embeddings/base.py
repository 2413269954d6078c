"""The one embedding interface every layer codes against, and the input checks every backend
shares (so a bad text fails the same way whichever model is behind it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from memory.errors import UserError

# An abstract is ~2,000 characters and the models read a few hundred tokens; past this a text is
# cut for its embedding only (counted by the embedder, stored whole), so one odd record (a whole
# PDF in an abstract field) cannot halt the indexing of every run that retrieves it.
MAX_TEXT_CHARS = 50_000


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; passages and queries may embed differently."""

    model_id: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]: ...


def check_texts(texts: Sequence[str], *, max_chars: int = MAX_TEXT_CHARS) -> list[str]:
    """The texts as the model gets them: empty input is rejected before any work (naming the
    item), a text over `max_chars` is cut to its first `max_chars` characters."""
    if isinstance(texts, str):
        raise UserError("embed_* takes a list of texts, not one string")
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise UserError(f"text {i} is {type(text).__name__}, not str")
        if not text.strip():
            raise UserError(f"cannot embed an empty text (item {i})")
    return [text[:max_chars] for text in out]


def over_limit(texts: Sequence[str], max_chars: int = MAX_TEXT_CHARS) -> int:
    """How many of `texts` `check_texts` cuts (an embedder adds them to its `truncated`)."""
    return sum(1 for text in texts if len(text) > max_chars)


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.clip(norms, 1e-12, None)
