"""NVIDIA NIM embeddings (default `nvidia/nv-embedqa-e5-v5`, 1024-d) over the OpenAI-compatible
API. Asymmetric model: passages and queries are sent with different `input_type`s. Retries
transient failures and paces requests by the kernel's one policy and limiter (`memory.net`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from memory.embeddings.base import check_texts, l2_normalise, over_limit
from memory.errors import ServiceUnavailable, UserError
from memory.net import GaveUp, RateLimiter, RetryEvent, RetryPolicy
from memory.secrets import redact_text, register_secret

NIM_BASE_URL = "https://integrate.api.nvidia.com/v1"
NIM_DEFAULT_MODEL = "nvidia/nv-embedqa-e5-v5"
KNOWN_DIMS = {
    "nvidia/nv-embedqa-e5-v5": 1024,
    "nvidia/nv-embedqa-mistral-7b-v2": 4096,
    "nvidia/llama-3.2-nv-embedqa-1b-v2": 2048,
    "nvidia/nv-embed-v1": 4096,
    "baai/bge-m3": 1024,
}
MAX_BACKOFF_S = 60.0  # also the longest Retry-After we honour; a longer one ends the call


class NIMEmbedder:
    """Batches texts, one request per batch, vectors checked for count and dimension."""

    backend = "nim"

    def __init__(
        self,
        model: str = NIM_DEFAULT_MODEL,
        *,
        base_url: str = NIM_BASE_URL,
        api_key: str | None = None,
        rpm: int = 40,
        batch_size: int = 32,
        timeout_s: float = 30.0,
        max_attempts: int = 5,
        dim: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        key = api_key or os.environ.get("NVIDIA_API_KEY")
        if not key:
            raise UserError(
                "NIM embeddings need an API key: set NVIDIA_API_KEY or SOVEREIGN_NIM_API_KEY"
            )
        register_secret(key)  # error messages that echo it are scrubbed before storage
        expected = dim or KNOWN_DIMS.get(model)
        if expected is None:
            raise UserError(f"unknown dimension for NIM model {model!r}; pass dim=")
        if batch_size < 1 or max_attempts < 1 or rpm < 1:
            raise UserError("batch_size, max_attempts and rpm must be at least 1")
        import openai

        self.model_id = model
        self.dim = expected
        self.base_url = base_url
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.retries = 0  # requests re-sent after a 429/5xx/timeout, for the run record
        self.truncated = 0  # texts embedded from their first MAX_TEXT_CHARS characters only
        self.requests = 0
        self._limiter = RateLimiter.from_rpm(rpm, sleep=sleep)
        self._retry = RetryPolicy(
            max_attempts=max_attempts,
            max_backoff_s=MAX_BACKOFF_S,
            max_wait_s=MAX_BACKOFF_S,
            sleep=sleep,
        )
        self._client = openai.OpenAI(
            base_url=base_url, api_key=key, timeout=timeout_s, max_retries=0
        )

    def _request(self, batch: list[str], input_type: Literal["passage", "query"]) -> np.ndarray:
        try:
            resp = self._retry.call(lambda: self._send(batch, input_type), self._count_retry)
        except GaveUp as exc:
            raise ServiceUnavailable(self._gave_up(exc)) from exc.error
        return self._check(resp, len(batch))

    def _send(self, batch: list[str], input_type: Literal["passage", "query"]) -> Any:
        """One paced request; failures that retrying cannot fix become one clear error."""
        import openai

        self._limiter.wait()
        self.requests += 1
        try:
            return self._client.embeddings.create(
                model=self.model_id,
                input=batch,
                encoding_format="float",
                extra_body={"input_type": input_type, "truncate": "END"},
            )
        except openai.AuthenticationError as exc:
            raise UserError(
                f"NIM at {self.base_url} rejected the API key ({exc.status_code})"
            ) from exc
        except openai.PermissionDeniedError as exc:
            raise UserError(
                f"NIM at {self.base_url} denied access to {self.model_id} (403)"
            ) from exc
        except openai.NotFoundError as exc:
            raise UserError(f"NIM at {self.base_url} has no model {self.model_id}") from exc
        except openai.BadRequestError as exc:
            raise UserError(
                f"NIM refused the embedding request: {redact_text(exc.message)}"
            ) from exc

    def _count_retry(self, event: RetryEvent) -> None:
        self.retries += 1

    def _gave_up(self, exc: GaveUp) -> str:
        where = f"NIM embeddings at {self.base_url}"
        if exc.retry_after_s is not None:
            return (
                f"{where} asks to retry after {exc.retry_after_s:.0f} s "
                f"(more than the {MAX_BACKOFF_S:.0f} s we wait)"
            )
        return (
            f"{where} failed after {exc.attempts} attempts: {type(exc.error).__name__}: "
            f"{redact_text(str(exc.error))}"
        )

    def _check(self, resp: Any, n: int) -> np.ndarray:
        data = sorted(resp.data, key=lambda d: d.index)
        if len(data) != n:
            raise ServiceUnavailable(f"NIM returned {len(data)} vectors for {n} texts")
        matrix = np.asarray([d.embedding for d in data], dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != self.dim:
            got = matrix.shape[1] if matrix.ndim == 2 else "ragged"
            raise ServiceUnavailable(
                f"NIM returned {got}-d vectors for {self.model_id}; expected {self.dim}"
            )
        return l2_normalise(matrix)

    def _embed(
        self, texts: Sequence[str], input_type: Literal["passage", "query"]
    ) -> list[list[float]]:
        items = check_texts(texts)
        self.truncated += over_limit(texts)  # the server cuts further at its token limit
        out: list[list[float]] = []
        for start in range(0, len(items), self.batch_size):
            out.extend(self._request(items[start : start + self.batch_size], input_type).tolist())
        return out

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, "passage")

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, "query")
