"""The one embedding interface every layer codes against, and the input checks every backend
shares (so a bad text fails the same way whichever model is behind it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from memory.errors import UserError

# An abstract is ~2,000 characters; anything past this is a mistake upstream (a whole PDF),
# not something to embed silently.
MAX_TEXT_CHARS = 50_000


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; passages and queries may embed differently."""

    model_id: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]: ...


def check_texts(texts: Sequence[str], *, max_chars: int = MAX_TEXT_CHARS) -> list[str]:
    """Reject empty or over-long input before any work, naming the offending item."""
    if isinstance(texts, str):
        raise UserError("embed_* takes a list of texts, not one string")
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise UserError(f"text {i} is {type(text).__name__}, not str")
        if not text.strip():
            raise UserError(f"cannot embed an empty text (item {i})")
        if len(text) > max_chars:
            raise UserError(
                f"text {i} has {len(text)} characters; the embedding limit is {max_chars}"
            )
    return out


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.clip(norms, 1e-12, None)
