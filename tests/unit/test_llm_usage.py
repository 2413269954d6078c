"""Per-run accounting, and building the client from its typed config."""

from __future__ import annotations

import threading

import pytest
from pydantic import ValidationError

from agents.llm.client import make_llm
from agents.llm.config import LLMConfig
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


def llm_config(base_url: str | None, **fields: object) -> LLMConfig:
    return Settings.model_validate({"llm_base_url": base_url, **fields}).llm_config()


def test_make_llm_none_without_base_url_and_key_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_llm(llm_config(None)) is None
    monkeypatch.setenv("NVIDIA_API_KEY", "nv-key")
    monkeypatch.setenv("OPENAI_API_KEY", "oa-key")
    llm = make_llm(llm_config("https://integrate.api.nvidia.com/v1"))
    assert llm is not None
    assert llm.json_mode == "json_schema"
    assert llm._client.api_key == "nv-key"
    monkeypatch.delenv("NVIDIA_API_KEY")
    llm = make_llm(llm_config("https://api.openai.com/v1"))
    assert llm is not None and llm._client.api_key == "oa-key"
    monkeypatch.delenv("OPENAI_API_KEY")
    local = make_llm(llm_config("http://127.0.0.1:8081/v1"))
    assert local is not None and local.json_mode == "json_object"
    assert local._client.api_key == "no-key"  # no key anywhere: local servers take anything


def test_llm_config_carries_the_settings_and_hides_the_key() -> None:
    config = llm_config(
        "http://127.0.0.1:8081/v1",
        llm_api_key="sk-secret",
        llm_rpm=7,
        llm_max_retries=0,
        llm_json_mode="none",
    )
    assert "sk-secret" not in repr(config) and "sk-secret" not in str(config.model_dump())
    with pytest.raises(ValidationError):
        config.rpm = 8  # type: ignore[misc]  # frozen: a run's config cannot drift
    with pytest.raises(ValidationError):
        LLMConfig.model_validate({**config.model_dump(), "rpm": 0})
    llm = make_llm(config, max_tokens=64)
    assert llm is not None and llm._client.api_key == "sk-secret"
    assert llm._limiter.min_interval_s == pytest.approx(60 / 7)
    assert llm._retry.max_attempts == 1 and llm.json_mode == "none" and llm.max_tokens == 64
