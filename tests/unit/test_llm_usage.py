"""Per-run accounting and client-side pacing."""

from __future__ import annotations

import threading

import pytest

from agents.llm.client import RateLimiter, make_llm
from agents.llm.usage import UsageCounter
from graph.settings import Settings


def test_usage_totals_and_roles() -> None:
    usage = UsageCounter()
    usage.record_call("planner", 100, 20, 0.5)
    usage.record_call("skeptic", None, None, 0.25)
    usage.record_failure("skeptic", 0.25, will_retry=True)
    snap = usage.snapshot()
    assert snap["calls"] == 2 and snap["failed_calls"] == 1 and snap["retries"] == 1
    assert snap["prompt_tokens"] == 100 and snap["completion_tokens"] == 20
    assert snap["total_tokens"] == 120
    assert snap["calls_without_usage"] == 1
    by_role = snap["by_role"]
    assert isinstance(by_role, dict) and set(by_role) == {"planner", "skeptic"}
    usage.reset()
    assert usage.snapshot()["calls"] == 0


def test_usage_counts_from_many_threads() -> None:
    usage = UsageCounter()

    def work() -> None:
        for _ in range(200):
            usage.record_call("r", 1, 1, 0.0)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert usage.snapshot()["calls"] == 800


def test_rate_limiter_spaces_request_starts() -> None:
    now = [100.0]
    limiter = RateLimiter(rpm=30, clock=lambda: now[0])
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == 2.0  # 60 s / 30 requests
    assert limiter.reserve() == 4.0
    now[0] += 10.0
    assert limiter.reserve() == 0.0


def test_make_llm_none_without_base_url_and_key_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_llm(Settings.model_validate({"llm_base_url": None})) is None
    monkeypatch.setenv("NVIDIA_API_KEY", "nv-key")
    monkeypatch.setenv("OPENAI_API_KEY", "oa-key")
    llm = make_llm(Settings.model_validate({"llm_base_url": "https://integrate.api.nvidia.com/v1"}))
    assert llm is not None
    assert llm.json_mode == "json_schema"
    assert llm._client.api_key == "nv-key"
    monkeypatch.delenv("NVIDIA_API_KEY")
    llm = make_llm(Settings.model_validate({"llm_base_url": "https://api.openai.com/v1"}))
    assert llm is not None and llm._client.api_key == "oa-key"
    monkeypatch.delenv("OPENAI_API_KEY")
    local = make_llm(Settings.model_validate({"llm_base_url": "http://127.0.0.1:8081/v1"}))
    assert local is not None and local.json_mode == "json_object"
