"""How the kernel's HTTP clients (arXiv, the LLM endpoint, NIM embeddings) pace and retry.

One rate limiter, one Retry-After parser and one retry policy, so the three clients cannot drift
apart in what they consider transient, how long they back off, or how politely they queue. The
policy is built on tenacity; what is ours is the judgement it applies:

* transient means the request got no answer (timeout, refused or dropped connection) or the
  answer was 408, 429 or 5xx; every other 4xx is the request's fault and is never re-sent;
* a server's Retry-After is obeyed as given; if it asks for more than we are willing to wait,
  we give up at once instead of hammering it early or stalling a run for an hour;
* otherwise the wait grows exponentially, with jitter so parallel clients do not retry in step.
"""

from __future__ import annotations

import email.utils
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar

import httpx
import requests
import tenacity

T = TypeVar("T")

MAX_RETRY_AFTER_S = 86_400.0  # a Retry-After beyond a day is a server bug, not a plan
RETRYABLE_4XX = frozenset({408, 429})  # request timeout, too many requests

_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")


# --- pacing ------------------------------------------------------------------------------------


class RateLimiter:
    """At least `min_interval_s` between the starts of consecutive requests, across every thread
    that shares this object.

    Each caller reserves the next free slot under a lock and sleeps outside it, so parallel
    callers queue up fairly (one slot each) instead of all firing when the interval elapses."""

    def __init__(
        self,
        min_interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min_interval_s < 0:
            raise ValueError("min_interval_s must not be negative")
        self.min_interval_s = float(min_interval_s)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free: float | None = None

    @classmethod
    def from_rpm(
        cls,
        rpm: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> RateLimiter:
        """Requests per minute, spread evenly (a budget of 40 rpm is one start per 1.5 s)."""
        if rpm < 1:
            raise ValueError("requests per minute must be at least 1")
        return cls(60.0 / rpm, clock=clock, sleep=sleep)

    def wait(self) -> float:
        """Block until this caller may send; returns the seconds it had to wait."""
        if self.min_interval_s == 0:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = now if self._next_free is None else max(now, self._next_free)
            self._next_free = slot + self.min_interval_s
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


# --- Retry-After -------------------------------------------------------------------------------


def retry_after_seconds(
    headers: Mapping[str, str] | None,
    *,
    cap: float = MAX_RETRY_AFTER_S,
    now: float | None = None,
) -> float | None:
    """Seconds the server asks us to wait, or None when it did not say (or said nonsense).

    Reads `retry-after-ms` (OpenAI-style servers, NIM) before `Retry-After`, whose value is
    either delta-seconds or an HTTP date (a past date means "now": 0). Header names match in
    any case. A negative or unparsable value is treated as absent, so the caller falls back to
    its own backoff; a huge one is capped. `now` (epoch seconds) is for tests."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = _delta_seconds(lowered.get("retry-after-ms"))
    if millis is not None:
        return min(millis / 1000.0, cap)
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    seconds = _delta_seconds(raw)
    if seconds is None:
        seconds = _seconds_until(raw, time.time() if now is None else now)
    return None if seconds is None else min(seconds, cap)


def _delta_seconds(raw: str | None) -> float | None:
    if raw is None or not _DELTA_SECONDS.fullmatch(raw.strip()):
        return None
    return float(raw)


def _seconds_until(http_date: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(http_date.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


# --- what is worth retrying --------------------------------------------------------------------


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind an error, if it carries a response.

    requests' HTTPError, httpx's HTTPStatusError and openai's APIStatusError all hold the
    response as `.response` with a `.status_code`; reading that shape keeps this module free of
    per-library branches (and of importing openai, which costs half a second)."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _server_wait(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    return retry_after_seconds(headers) if isinstance(headers, Mapping) else None


def _no_answer_errors() -> tuple[type[BaseException], ...]:
    """Error types meaning the request got no answer at all (timeout, refused, reset).

    openai's is looked up only when openai is already loaded: its errors cannot exist
    otherwise, and importing it here would slow every arXiv-only command."""
    types: list[type[BaseException]] = [
        TimeoutError,
        ConnectionError,
        requests.exceptions.Timeout,
        requests.exceptions.ConnectionError,
        httpx.TransportError,
    ]
    openai: Any = sys.modules.get("openai")
    if openai is not None:
        types.append(openai.APIConnectionError)  # APITimeoutError is a subclass
    return tuple(types)


def is_transient(exc: BaseException) -> bool:
    """True when sending the same request again may well succeed."""
    status = status_of(exc)
    if status is not None:
        return status in RETRYABLE_4XX or status >= 500
    return isinstance(exc, _no_answer_errors())


# --- the policy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryEvent:
    """One failed attempt that will be retried, as reported to `RetryPolicy.call`'s callback."""

    attempt: int  # 1-based number of the attempt that failed
    error: BaseException
    wait_s: float  # how long we now wait before the next attempt
    retry_after_s: float | None  # what the server asked for, if it said


class GaveUp(Exception):
    """A transient failure outlasted the policy. `error` is the last failure (also the cause);
    `retry_after_s` is set when the reason was a server asking for more than `max_wait_s`."""

    def __init__(
        self, error: BaseException, attempts: int, retry_after_s: float | None = None
    ) -> None:
        self.error = error
        self.attempts = attempts
        self.retry_after_s = retry_after_s
        why = (
            f"server asks to retry after {retry_after_s:.0f} s"
            if retry_after_s is not None
            else f"{attempts} attempt(s) failed"
        )
        super().__init__(f"{why}: {type(error).__name__}: {error}")


@dataclass(frozen=True)
class RetryPolicy:
    """Retry transient failures (see `is_transient`) with exponential backoff and jitter,
    honouring Retry-After. Non-transient errors propagate unchanged on the first attempt.

    The k-th backoff is `backoff_s * 2**(k-1)`, capped at `max_backoff_s`, then shortened by
    up to `jitter` of itself at random. `sleep` and `rand` are injectable for tests."""

    max_attempts: int = 3
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    max_wait_s: float = 120.0  # the longest Retry-After we are willing to honour
    jitter: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_s < 0 or self.max_backoff_s < 0 or self.max_wait_s < 0:
            raise ValueError("backoff and wait limits must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def call(
        self, attempt: Callable[[], T], on_retry: Callable[[RetryEvent], None] | None = None
    ) -> T:
        """Run `attempt` until it succeeds, fails for good (its error propagates) or the policy
        is exhausted (`GaveUp`). `on_retry` hears of every retry before the wait."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_transient),
            stop=self._should_stop,
            wait=self._wait_s,
            sleep=self.sleep,
            before_sleep=None if on_retry is None else _reporter(on_retry),
            retry_error_callback=self._give_up,
        )
        return retrying(attempt)

    def backoff(self, failures: int) -> float:
        """The jittered wait after the `failures`-th consecutive failure (no Retry-After)."""
        full = min(self.max_backoff_s, self.backoff_s * 2.0 ** (failures - 1))
        return full * (1.0 - self.jitter * self.rand())

    def _wait_s(self, state: tenacity.RetryCallState) -> float:
        server = _server_wait(_failure(state))
        return server if server is not None else self.backoff(state.attempt_number)

    def _should_stop(self, state: tenacity.RetryCallState) -> bool:
        return state.attempt_number >= self.max_attempts or self._too_long(state) is not None

    def _too_long(self, state: tenacity.RetryCallState) -> float | None:
        server = _server_wait(_failure(state))
        return server if server is not None and server > self.max_wait_s else None

    def _give_up(self, state: tenacity.RetryCallState) -> Any:
        raise GaveUp(_failure(state), state.attempt_number, self._too_long(state)) from (
            _failure(state)
        )


def _failure(state: tenacity.RetryCallState) -> BaseException:
    """The exception of the attempt just finished (the policy only retries on exceptions)."""
    assert state.outcome is not None
    exc = state.outcome.exception()
    assert exc is not None
    return exc


def _reporter(on_retry: Callable[[RetryEvent], None]) -> Callable[[tenacity.RetryCallState], None]:
    def report(state: tenacity.RetryCallState) -> None:
        error = _failure(state)
        on_retry(RetryEvent(state.attempt_number, error, state.upcoming_sleep, _server_wait(error)))

    return report
