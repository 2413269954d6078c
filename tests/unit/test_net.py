"""`memory.net`, the one pacing and retry layer of the kernel's HTTP clients: the rate limiter
under threads (fake clock), Retry-After parsing, the retry policy against a real loopback HTTP
server, and the same fault script run against the arXiv, LLM and NIM clients to show that they
all behave alike. Sleeps are recorded, never slept, so no assertion depends on wall time."""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from agents.llm.client import OpenAIChat
from memory.arxiv_client import ArxivSearch
from memory.embeddings.nim import NIMEmbedder
from memory.errors import ServiceUnavailable, UserError
from memory.net import (
    MAX_RETRY_AFTER_S,
    GaveUp,
    RateLimiter,
    RetryEvent,
    RetryPolicy,
    is_transient,
    retry_after_seconds,
)
from tests.conftest import get_free_port

# --- the rate limiter --------------------------------------------------------------------------


class FrozenClock:
    """Time stands still and sleeps are only recorded: each caller's wait is its slot's offset."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)


def test_threads_arriving_together_get_one_slot_each() -> None:
    fake = FrozenClock()
    limiter = RateLimiter(3.0, clock=fake.clock, sleep=fake.sleep)
    delays: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        for _ in range(5):
            d = limiter.wait()
            with lock:
                delays.append(d)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 20 requests at the same instant: every slot 3 s after the previous, none shared, none lost
    assert sorted(delays) == [3.0 * i for i in range(20)]
    assert sorted(fake.slept) == [3.0 * i for i in range(1, 20)]


def test_rpm_constructor_spaces_starts_and_forgets_after_a_pause() -> None:
    fake = FrozenClock()
    limiter = RateLimiter.from_rpm(30, clock=fake.clock, sleep=fake.sleep)
    assert limiter.min_interval_s == 2.0
    assert [limiter.wait() for _ in range(3)] == [0.0, 2.0, 4.0]
    fake.now += 1.0
    assert limiter.wait() == pytest.approx(5.0)  # still behind the queue of reserved slots
    fake.now += 60.0
    assert limiter.wait() == 0.0  # an idle spell is not saved up as a burst either


def test_zero_interval_never_sleeps_and_bad_budgets_are_refused() -> None:
    fake = FrozenClock()
    limiter = RateLimiter(0.0, clock=fake.clock, sleep=fake.sleep)
    assert [limiter.wait() for _ in range(5)] == [0.0] * 5 and fake.slept == []
    with pytest.raises(ValueError):
        RateLimiter(-1.0)
    with pytest.raises(ValueError):
        RateLimiter.from_rpm(0)


# --- Retry-After -------------------------------------------------------------------------------

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": " 120 "}, 120.0),
        ({"RETRY-AFTER": "1.5"}, 1.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # the finer header wins
        ({"Retry-After": email.utils.formatdate(NOW + 90, usegmt=True)}, 90.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a past date means now
        ({"Retry-After": "-5"}, None),  # negative: not a delay, use our own backoff
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": ""}, None),
        ({"Retry-After": "nan"}, None),
        ({"retry-after-ms": "lots"}, None),
        ({"Retry-After": "31536000"}, MAX_RETRY_AFTER_S),  # a year is capped
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str] | None, expected: float | None) -> None:
    assert retry_after_seconds(headers, now=NOW) == expected


def test_retry_after_reads_client_header_objects_and_custom_caps() -> None:
    assert retry_after_seconds(httpx.Headers({"Retry-After": "7"})) == 7.0
    assert retry_after_seconds({"Retry-After": "600"}, cap=60.0) == 60.0
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25.0 <= (retry_after_seconds({"Retry-After": soon}) or 0.0) <= 30.0


# --- a loopback server with scripted faults ----------------------------------------------------

TIMEOUT = "timeout"  # hold the request longer than any client here waits, then answer 200
HOLD_S = 1.5
CLIENT_TIMEOUT_S = 0.4
Fault = tuple[int, dict[str, str]] | str

ATOM = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"
      xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <opensearch:totalResults>1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/abs/2401.00001v1</id>
    <updated>2024-01-01T00:00:00Z</updated>
    <published>2024-01-01T00:00:00Z</published>
    <title>FastNet</title>
    <summary>We propose FastNet.</summary>
    <author><name>A. Author</name></author>
    <link href="http://arxiv.org/pdf/2401.00001v1" title="pdf" rel="related"/>
    <arxiv:primary_category term="cs.LG"/>
    <category term="cs.LG"/>
  </entry>
</feed>"""

CHAT = {
    "id": "c1",
    "object": "chat.completion",
    "created": 0,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
EMBEDDINGS = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.6, 0.8, 0.0]}],
    "model": "m",
    "usage": {"prompt_tokens": 1, "total_tokens": 1},
}


def success_body(path: str) -> tuple[str, bytes]:
    """A 200 in the protocol of whichever client asked (arXiv Atom, OpenAI chat or embeddings)."""
    if path.startswith("/api/query"):
        return "application/atom+xml", ATOM
    if path.endswith("/embeddings"):
        return "application/json", json.dumps(EMBEDDINGS).encode()
    if path.endswith("/chat/completions"):
        return "application/json", json.dumps(CHAT).encode()
    return "text/plain", b"ok"


class FaultServer:
    """Answers the n-th request with the n-th scripted fault, then with 200s."""

    def __init__(self, script: list[Fault]) -> None:
        self.script = list(script)
        self.requests = 0
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def next_fault(self) -> Fault:
        with self._lock:
            self.requests += 1
            return self.script.pop(0) if self.script else (200, {})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (stdlib name)
                self.answer(server.next_fault())

            def do_POST(self) -> None:  # noqa: N802 (stdlib name)
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.answer(server.next_fault())

            def answer(self, fault: Fault) -> None:
                if fault == TIMEOUT:
                    time.sleep(HOLD_S)
                    fault = (200, {})
                status, headers = fault if isinstance(fault, tuple) else (200, {})
                kind, body = success_body(self.path)
                if status != 200:
                    kind, body = "application/json", b'{"error": {"message": "scripted"}}'
                try:
                    self.send_response(status)
                    self.send_header("content-type", kind)
                    self.send_header("content-length", str(len(body)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout fault)

        return Handler

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[list[Fault]], FaultServer]]:
    servers: list[FaultServer] = []

    def start(script: list[Fault]) -> FaultServer:
        servers.append(FaultServer(script).__enter__())
        return servers[-1]

    yield start
    for server in servers:
        server.__exit__()


# --- the policy against the server -------------------------------------------------------------


def policy(sleeps: list[float], **kw: Any) -> RetryPolicy:
    return RetryPolicy(**{"max_attempts": 3, "sleep": sleeps.append, **kw})


def get(url: str) -> Callable[[], httpx.Response]:
    def attempt() -> httpx.Response:
        response = httpx.get(url, timeout=CLIENT_TIMEOUT_S)
        return response.raise_for_status()

    return attempt


def test_429_with_retry_after_waits_what_the_server_asks(serve: Any) -> None:
    server = serve([(429, {"Retry-After": "2"})])
    sleeps: list[float] = []
    events: list[RetryEvent] = []
    response = policy(sleeps).call(get(server.base_url), events.append)
    assert response.status_code == 200 and server.requests == 2
    assert sleeps == [2.0]
    (event,) = events
    assert (event.attempt, event.wait_s, event.retry_after_s) == (1, 2.0, 2.0)
    assert isinstance(event.error, httpx.HTTPStatusError)


@pytest.mark.parametrize(("rand", "waits"), [(0.0, [1.0, 2.0]), (1.0, [0.5, 1.0])])
def test_5xx_backs_off_exponentially_with_jitter(
    serve: Any, rand: float, waits: list[float]
) -> None:
    server = serve([(503, {}), (502, {})])
    sleeps: list[float] = []
    pinned = policy(sleeps, backoff_s=1.0, jitter=0.5, rand=lambda: rand)
    assert pinned.call(get(server.base_url)).status_code == 200
    assert sleeps == waits and server.requests == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_never_retried(serve: Any, status: int) -> None:
    server = serve([(status, {"Retry-After": "1"})])
    sleeps: list[float] = []
    events: list[RetryEvent] = []
    with pytest.raises(httpx.HTTPStatusError) as info:
        policy(sleeps).call(get(server.base_url), events.append)
    assert info.value.response.status_code == status  # the original error, not a wrapper
    assert server.requests == 1 and sleeps == [] and events == []


def test_408_is_retried_like_429(serve: Any) -> None:
    server = serve([(408, {})])
    sleeps: list[float] = []
    assert policy(sleeps).call(get(server.base_url)).status_code == 200
    assert server.requests == 2 and len(sleeps) == 1


def test_timeouts_are_retried_until_the_attempts_run_out(serve: Any) -> None:
    server = serve([TIMEOUT, TIMEOUT])
    sleeps: list[float] = []
    events: list[RetryEvent] = []
    with pytest.raises(GaveUp) as info:
        policy(sleeps, max_attempts=2).call(get(server.base_url), events.append)
    assert isinstance(info.value.error, httpx.TimeoutException)
    assert info.value.__cause__ is info.value.error
    assert info.value.attempts == 2 and info.value.retry_after_s is None
    assert server.requests == 2 and len(sleeps) == 1 and [e.attempt for e in events] == [1]


def test_persistent_5xx_gives_up_after_max_attempts(serve: Any) -> None:
    server = serve([(503, {})] * 5)
    sleeps: list[float] = []
    with pytest.raises(GaveUp) as info:
        policy(sleeps, max_attempts=3).call(get(server.base_url))
    assert info.value.attempts == 3 and server.requests == 3 and len(sleeps) == 2


def test_retry_after_beyond_patience_gives_up_at_once(serve: Any) -> None:
    server = serve([(429, {"Retry-After": "3600"})])
    sleeps: list[float] = []
    with pytest.raises(GaveUp) as info:
        policy(sleeps, max_wait_s=120.0).call(get(server.base_url))
    assert info.value.retry_after_s == 3600.0 and "3600" in str(info.value)
    assert server.requests == 1 and sleeps == []


def test_refused_connection_is_transient_other_errors_are_not() -> None:
    sleeps: list[float] = []
    url = f"http://127.0.0.1:{get_free_port()}/"  # nothing listens there
    with pytest.raises(GaveUp) as info:
        policy(sleeps, max_attempts=2).call(get(url))
    assert isinstance(info.value.error, httpx.ConnectError) and len(sleeps) == 1
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("a bug, not the network")

    with pytest.raises(ValueError):
        policy(sleeps).call(broken)
    assert calls == [1] and not is_transient(ValueError())


def test_backoff_is_capped_and_bad_policies_are_refused() -> None:
    capped = RetryPolicy(backoff_s=1.0, max_backoff_s=10.0, jitter=0.0)
    assert [capped.backoff(n) for n in (1, 2, 3, 4, 5, 9)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    bad: dict[str, Any]
    for bad in ({"max_attempts": 0}, {"jitter": 1.5}, {"backoff_s": -1.0}):
        with pytest.raises(ValueError):
            RetryPolicy(**bad)


# --- one fault script, three clients -----------------------------------------------------------


def arxiv_client(base_url: str, sleep: Callable[[float], None]) -> object:
    client = ArxivSearch(
        f"{base_url}/api/query", delay_s=0, timeout_s=CLIENT_TIMEOUT_S, num_retries=2, sleep=sleep
    )
    return client.search("all:fastnet", max_results=1)


def llm_client(base_url: str, sleep: Callable[[float], None]) -> object:
    llm = OpenAIChat(
        f"{base_url}/v1",
        "m",
        timeout_s=CLIENT_TIMEOUT_S,
        rpm=600_000,
        max_retries=2,
        sleep=sleep,
    )
    return [llm.complete("planner", [{"role": "user", "content": "hi"}])]


def nim_client(base_url: str, sleep: Callable[[float], None]) -> object:
    emb = NIMEmbedder(
        base_url=f"{base_url}/v1",
        api_key="k",
        dim=3,
        rpm=600_000,
        timeout_s=CLIENT_TIMEOUT_S,
        max_attempts=3,
        sleep=sleep,
    )
    return emb.embed_queries(["x"])


CLIENTS = {"arxiv": arxiv_client, "llm": llm_client, "nim": nim_client}
SCRIPTS: dict[str, tuple[list[Fault], int, type[Exception] | None]] = {
    # name: (faults, requests the server sees, error the caller gets or None for success)
    "429-retry-after-then-200": ([(429, {"Retry-After": "1"})], 2, None),
    "503-then-200": ([(503, {})], 2, None),
    "timeout-then-200": ([TIMEOUT], 2, None),
    "400-not-retried": ([(400, {})], 1, UserError),
    "503-until-attempts-run-out": ([(503, {})] * 3, 3, ServiceUnavailable),
}


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("client", CLIENTS)
def test_every_client_shares_the_policy(serve: Any, client: str, script: str) -> None:
    faults, requests, error = SCRIPTS[script]
    server = serve(faults)
    sleeps: list[float] = []
    if error is None:
        assert len(CLIENTS[client](server.base_url, sleeps.append)) == 1  # type: ignore[arg-type]
    else:
        with pytest.raises(error):
            CLIENTS[client](server.base_url, sleeps.append)
    assert server.requests == requests
    waits = [s for s in sleeps if s > 0.01]  # pacing at 600k rpm sleeps 0.1 ms at most
    assert len(waits) == requests - 1  # one wait before each re-send, none after giving up
    if script.startswith("429"):
        assert waits == [1.0]  # the server's number, not our backoff
    elif waits:
        assert 0.5 <= waits[0] <= 1.0  # first backoff: 1 s, less up to half of it (jitter)
