"""NVIDIA NIM embeddings (default `nvidia/nv-embedqa-e5-v5`, 1024-d) over the OpenAI-compatible
API. Asymmetric model: passages and queries are sent with different `input_type`s. Retries
429/5xx/timeouts with backoff (honouring Retry-After) and keeps a client-side request rate."""

from __future__ import annotations

import email.utils
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from memory.embeddings.base import check_texts, l2_normalise
from memory.errors import ServiceUnavailable, UserError

NIM_BASE_URL = "https://integrate.api.nvidia.com/v1"
NIM_DEFAULT_MODEL = "nvidia/nv-embedqa-e5-v5"
KNOWN_DIMS = {
    "nvidia/nv-embedqa-e5-v5": 1024,
    "nvidia/nv-embedqa-mistral-7b-v2": 4096,
    "nvidia/llama-3.2-nv-embedqa-1b-v2": 2048,
    "nvidia/nv-embed-v1": 4096,
    "baai/bge-m3": 1024,
}
MAX_BACKOFF_S = 60.0


class RateLimiter:
    """At most `rpm` request starts in any 60-second window (thread-safe)."""

    def __init__(self, rpm: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rpm < 1:
            raise UserError("requests per minute must be at least 1")
        self.rpm = rpm
        self._clock = clock
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> float:
        """Block until a request may start; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and now - self._starts[0] >= 60.0:
                    self._starts.popleft()
                if len(self._starts) < self.rpm:
                    self._starts.append(now)
                    return waited
                delay = 60.0 - (now - self._starts[0])
            sleep(delay)
            waited += delay


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds from Retry-After (delta or HTTP date) or retry-after-ms, if the server sent one."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


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
        expected = dim or KNOWN_DIMS.get(model)
        if expected is None:
            raise UserError(f"unknown dimension for NIM model {model!r}; pass dim=")
        if batch_size < 1 or max_attempts < 1:
            raise UserError("batch_size and max_attempts must be at least 1")
        import openai

        self.model_id = model
        self.dim = expected
        self.base_url = base_url
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.retries = 0  # requests re-sent after a 429/5xx/timeout, for the run record
        self.requests = 0
        self._sleep = sleep
        self._limiter = RateLimiter(rpm)
        self._client = openai.OpenAI(
            base_url=base_url, api_key=key, timeout=timeout_s, max_retries=0
        )

    def _request(self, batch: list[str], input_type: Literal["passage", "query"]) -> np.ndarray:
        import openai

        last: Exception | None = None
        for attempt in range(self.max_attempts):
            self._limiter.wait(self._sleep)
            self.requests += 1
            try:
                resp = self._client.embeddings.create(
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
            except (openai.RateLimitError, openai.InternalServerError) as exc:
                last = exc
                wait = retry_after_seconds(exc.response.headers)
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                last = exc
                wait = None
            except openai.BadRequestError as exc:
                raise UserError(f"NIM refused the embedding request: {exc.message}") from exc
            else:
                return self._check(resp, len(batch))
            if attempt + 1 < self.max_attempts:
                if wait is None:
                    wait = min(MAX_BACKOFF_S, 2.0**attempt) * (0.5 + random.random() / 2)
                self.retries += 1
                self._sleep(min(wait, MAX_BACKOFF_S))
        raise ServiceUnavailable(
            f"NIM embeddings at {self.base_url} failed after {self.max_attempts} attempts: "
            f"{type(last).__name__}: {last}"
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
        out: list[list[float]] = []
        for start in range(0, len(items), self.batch_size):
            out.extend(self._request(items[start : start + self.batch_size], input_type).tolist())
        return out

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, "passage")

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, "query")
