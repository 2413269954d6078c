"""Chat layer over any OpenAI-compatible endpoint (NIM, OpenAI, vLLM, Ollama, llama.cpp).

Built on the `openai` SDK directly (its own retries off) because three things must be ours:
the response_format form differs by server (llama.cpp wants json_object+schema), retries and
Retry-After follow the kernel's one policy (`memory.net`) under one shared concurrency/RPM
budget, and every call's tokens must be counted for the run's report. Replies are parsed
leniently; whether they are *true* is for the caller's grounding check (`agents.llm.propose`)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar
from urllib.parse import urlparse

import openai
from pydantic import BaseModel, ValidationError

from agents.llm.config import LLMConfig
from agents.llm.rendering import render
from agents.llm.schemas import LLAMA_CPP_MAX_STRING, request_schema
from agents.llm.usage import UsageCounter
from memory.errors import ServiceUnavailable
from memory.net import GaveUp, RateLimiter, RetryEvent, RetryPolicy
from memory.secrets import redact_text, register_secret
from memory.text import elide

T = TypeVar("T", bound=BaseModel)
JsonMode = Literal["json_schema", "json_object", "none"]

_SCHEMA_HOSTS = ("integrate.api.nvidia.com", "api.openai.com")
_MAX_JSON_STARTS = 200  # how many '{' positions to try when digging JSON out of prose


class LLMReplyError(ValueError):
    """The model answered, but not with a usable object (no JSON, wrong shape, cut off)."""


class LLMUnavailable(ServiceUnavailable):
    """The endpoint failed after all retries (429/5xx/timeouts/connection errors). Its message
    is scrubbed of credentials: a 401 body may echo the Authorization header."""

    def __init__(self, message: str) -> None:
        super().__init__(redact_text(message))


# --- JSON schema for the request ---------------------------------------------------------------


def pick_json_mode(base_url: str, configured: str) -> JsonMode:
    if configured in ("json_schema", "json_object", "none"):
        return configured  # type: ignore[return-value]
    host = urlparse(base_url).hostname or ""
    return "json_schema" if host.endswith(_SCHEMA_HOSTS) else "json_object"


def response_format(mode: JsonMode, role: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": role, "schema": schema, "strict": False},
        }
    if mode == "json_object":  # llama.cpp's form; servers without schema support ignore "schema"
        return {"type": "json_object", "schema": schema}
    return None


# --- lenient parsing ---------------------------------------------------------------------------

_CODE_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


def extract_json(text: str) -> Any:
    """The first JSON object (or list of objects) in `text`, tolerating code fences and prose
    around it."""
    decoder = json.JSONDecoder(strict=False)
    candidates = [m.group(1) for m in _CODE_FENCE.finditer(text)] + [text]
    for candidate in candidates:
        starts = [i for i, ch in enumerate(candidate) if ch in "{["][:_MAX_JSON_STARTS]
        for start in starts:
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict) or (
                isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
            ):
                return value
    raise LLMReplyError(f"no JSON object in reply: {elide(text, 160)!r}")


def _coerce_shape(value: Any, output_model: type[BaseModel]) -> Any:
    """Undo two common small-model slips: a bare list for a one-list model, and the object
    wrapped under its own name."""
    list_fields = [
        name
        for name, f in output_model.model_fields.items()
        if getattr(f.annotation, "__origin__", None) is list
    ]
    if isinstance(value, list) and len(list_fields) == 1:
        return {list_fields[0]: value}
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if isinstance(inner, dict) and key not in output_model.model_fields:
            return inner
    return value


def parse_reply(text: str, output_model: type[T]) -> T:
    value = _coerce_shape(extract_json(text), output_model)
    try:
        return output_model.model_validate(value, strict=False)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            for e in exc.errors()[:8]
        )
        raise LLMReplyError(f"reply does not match {output_model.__name__}: {problems}") from exc


# --- the backend -------------------------------------------------------------------------------


class OpenAIChat:
    """`ChatBackend` for `agents.llm.propose`. One instance per run: `usage` counts that run."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 60.0,
        max_concurrency: int = 4,
        rpm: int = 40,
        temperature: float = 0.1,
        max_tokens: int = 1024,
        max_retries: int = 3,
        json_mode: str = "auto",
        backoff_s: float = 1.0,
        max_wait_s: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        reopen_after_s: float = 60.0,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_retries = max_retries
        self.json_mode: JsonMode = pick_json_mode(base_url, json_mode)
        self.max_wait_s = max_wait_s
        self.timeout_s = timeout_s
        self.usage = UsageCounter()
        self.broken: str | None = None  # why the circuit is open: calls fail at once
        self.reopen_after_s = reopen_after_s
        self._broken_at = 0.0
        self._semaphore = threading.BoundedSemaphore(max_concurrency)
        self._limiter = RateLimiter.from_rpm(rpm, sleep=sleep)
        self._retry = RetryPolicy(
            max_attempts=max_retries + 1,
            backoff_s=backoff_s,
            max_backoff_s=max_wait_s,
            max_wait_s=max_wait_s,
            sleep=sleep,
        )
        register_secret(api_key)
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "no-key",  # local servers accept anything
            timeout=timeout_s,
            max_retries=0,
        )

    def check_reachable(self, timeout_s: float = 5.0) -> None:
        """One light request (GET /models) before a run leans on the endpoint: no answer, or a
        refused key, is one line naming the URL now, not minutes of retries per call later.
        Any other answer (even 404 from a server without /models) shows it is there."""
        try:
            quick = self._client.with_options(timeout=min(timeout_s, self.timeout_s))
            quick.models.list()
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                raise self._open_circuit(
                    f"LLM at {self.base_url} refused the API key (HTTP {exc.status_code})"
                ) from exc
        except openai.APIConnectionError as exc:
            what = "timeout" if isinstance(exc, openai.APITimeoutError) else "connection error"
            raise self._open_circuit(
                f"LLM at {self.base_url} is unreachable ({what}: {exc}); check llm_base_url "
                "or unset it to run without an LLM"
            ) from exc

    def structured(
        self,
        role: str,
        output_model: type[T],
        prompt_vars: Mapping[str, Any],
        feedback: str | None = None,
    ) -> T:
        prompt = render(role, prompt_vars, output_model, feedback)
        cap = LLAMA_CPP_MAX_STRING if self.json_mode == "json_object" else None
        text = self.complete(role, prompt.messages, request_schema(output_model, cap))
        return parse_reply(text, output_model)

    def complete(
        self, role: str, messages: list[dict[str, str]], schema: dict[str, Any] | None = None
    ) -> str:
        """One chat completion's text, with pacing, retries and accounting. Once the endpoint
        has failed for good (unreachable, refused the key), the circuit is open: calls in the
        next `reopen_after_s` fail at once with the same reason instead of each waiting out
        its retries."""
        if self.broken is not None:
            if time.monotonic() - self._broken_at < self.reopen_after_s:
                raise LLMUnavailable(self.broken)
            self.broken = None  # a while later (a long-lived Studio process): try again
        while True:
            fmt = response_format(self.json_mode, role, schema) if schema else None
            sent = self._send(role, messages, fmt)
            if sent is not None:
                return self._read(role, *sent)
            # the server refused the JSON form and we now ask in words only: send again

    def _send(
        self, role: str, messages: list[dict[str, str]], fmt: dict[str, Any] | None
    ) -> tuple[Any, float] | None:
        """The reply and its wall time, after the retry policy; None when the server rejected
        the response_format (json_mode is then 'none'). Every failed attempt is counted."""
        elapsed = [0.0]  # of the latest attempt; a list so the closures can update it
        attempts = [1]

        def attempt() -> Any:
            self._limiter.wait()
            started = time.monotonic()
            try:
                with self._semaphore:
                    started = time.monotonic()  # wall time of the request, not of the queue
                    extra: dict[str, Any] = {} if fmt is None else {"response_format": fmt}
                    return self._client.chat.completions.create(
                        model=self.model,
                        messages=messages,  # type: ignore[arg-type]
                        temperature=self.temperature,
                        max_tokens=self.max_tokens,
                        **extra,
                    )
            finally:
                elapsed[0] = time.monotonic() - started

        def on_retry(event: RetryEvent) -> None:
            attempts[0] = event.attempt + 1
            self.usage.record_failure(role, elapsed[0], will_retry=True)

        try:
            return self._retry.call(attempt, on_retry), elapsed[0]
        except openai.BadRequestError as exc:
            message = str(exc).lower()
            ask_in_words = fmt is not None and any(
                w in message for w in ("response_format", "schema")
            )
            self.usage.record_failure(role, elapsed[0], ask_in_words)
            if not ask_in_words:
                raise LLMUnavailable(f"LLM at {self.base_url} rejected the request: {exc}") from exc
            self.json_mode = "none"
            return None
        except GaveUp as exc:
            self.usage.record_failure(role, elapsed[0], False)
            raise self._open_circuit(self._gave_up(exc)) from exc.error
        except (openai.APIConnectionError, openai.APIStatusError) as exc:  # 401, 404, ...
            self.usage.record_failure(role, elapsed[0], False)
            raise self._open_circuit(self._describe(exc, attempts[0])) from exc

    def _open_circuit(self, reason: str) -> LLMUnavailable:
        """The endpoint is down or refuses us (not one bad request): every call for the next
        `reopen_after_s` fails at once with this reason instead of waiting out its retries."""
        error = LLMUnavailable(reason)
        self.broken = f"{error} (circuit open: no calls for {self.reopen_after_s:.0f} s)"
        self._broken_at = time.monotonic()
        return error

    def _read(self, role: str, reply: Any, elapsed: float) -> str:
        """Count the call's tokens and return its text; a cut-off or empty reply is an error."""
        usage = reply.usage
        self.usage.record_call(
            role,
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
            elapsed,
        )
        if not reply.choices:
            raise LLMReplyError("reply has no choices")
        choice = reply.choices[0]
        content = choice.message.content or ""
        if choice.finish_reason == "length":
            raise LLMReplyError(
                f"reply cut off at max_tokens={self.max_tokens}: {elide(content, 120)!r}"
            )
        return str(content)

    def _gave_up(self, exc: GaveUp) -> str:
        if exc.retry_after_s is not None:
            return (
                f"LLM at {self.base_url} asks to retry after {exc.retry_after_s:.0f} s "
                f"(more than the {self.max_wait_s:.0f} s we wait)"
            )
        return self._describe(exc.error, exc.attempts)

    def _describe(self, exc: BaseException, attempts: int) -> str:
        what = (
            f"HTTP {exc.status_code}"
            if isinstance(exc, openai.APIStatusError)
            else "timeout"
            if isinstance(exc, openai.APITimeoutError)
            else "connection error"
        )
        return f"LLM at {self.base_url} failed ({what}) after {attempts} attempt(s): {exc}"


def make_llm(config: LLMConfig, **overrides: Any) -> OpenAIChat | None:
    """The run's LLM backend, or None (deterministic agents) when no base URL is configured.
    `overrides` replace OpenAIChat's keyword options (tests, benchmarks)."""
    if not config.base_url:
        return None
    options: dict[str, Any] = {
        "timeout_s": config.timeout_s,
        "max_concurrency": config.max_concurrency,
        "rpm": config.rpm,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "max_retries": config.max_retries,
        "json_mode": config.json_mode,
    }
    options.update(overrides)
    key = config.api_key.get_secret_value() if config.api_key is not None else None
    return OpenAIChat(config.base_url, config.model, key, **options)
