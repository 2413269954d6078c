"""Embedding backends behind one protocol: `local` (MiniLM int8 ONNX, offline, the default),
`nim` (NVIDIA NIM over the OpenAI API) and `hash` (a deterministic bag of words for tests)."""

from __future__ import annotations

import functools

from memory.embeddings.base import MAX_TEXT_CHARS, Embedder, check_texts
from memory.embeddings.config import EmbeddingConfig
from memory.embeddings.hashing import HashingEmbedder
from memory.embeddings.local import MINILM_ALIASES, MINILM_ID, LocalMiniLMEmbedder
from memory.embeddings.nim import NIM_BASE_URL, NIM_DEFAULT_MODEL, NIMEmbedder
from memory.errors import UserError

__all__ = [
    "MAX_TEXT_CHARS",
    "MINILM_ID",
    "NIM_BASE_URL",
    "NIM_DEFAULT_MODEL",
    "Embedder",
    "EmbeddingConfig",
    "HashingEmbedder",
    "LocalMiniLMEmbedder",
    "NIMEmbedder",
    "check_texts",
    "embedder_from_config",
    "get_embedder",
]


@functools.lru_cache(maxsize=4)
def _local(batch_size: int) -> LocalMiniLMEmbedder:
    # One ONNX session per process and batch size: loading costs, running is thread-safe.
    return LocalMiniLMEmbedder(batch_size=batch_size)


def get_embedder(
    backend: str = "local",
    model: str | None = None,
    *,
    nim_base_url: str = NIM_BASE_URL,
    nim_api_key: str | None = None,
    rpm: int = 40,
    batch_size: int = 32,
    timeout_s: float = 30.0,
    dim: int | None = None,
) -> Embedder:
    """The embedder for a backend name; unknown names and models are one clear error."""
    if backend == "local":
        if model is not None and model not in MINILM_ALIASES:
            raise UserError(
                f"local embedding model {model!r} is not available; "
                f"the local backend runs {MINILM_ID}"
            )
        return _local(batch_size)
    if backend == "nim":
        return NIMEmbedder(
            model or NIM_DEFAULT_MODEL,
            base_url=nim_base_url,
            api_key=nim_api_key,
            rpm=rpm,
            batch_size=batch_size,
            timeout_s=timeout_s,
            dim=dim,
        )
    if backend == "hash":
        return HashingEmbedder(dim or 256)
    raise UserError(f"unknown embedding backend {backend!r}; choose local or nim")


def embedder_from_config(config: EmbeddingConfig) -> Embedder:
    """The embedder a run's configuration asks for."""
    key = config.nim_api_key.get_secret_value() if config.nim_api_key is not None else None
    return get_embedder(
        config.backend,
        config.model,
        nim_base_url=config.nim_base_url,
        nim_api_key=key,
        rpm=config.rpm,
        batch_size=config.batch_size,
        timeout_s=config.timeout_s,
    )
