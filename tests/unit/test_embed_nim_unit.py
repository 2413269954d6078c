"""NIM client pieces that need no server: rate limiter, Retry-After parsing, settings wiring."""

from __future__ import annotations

import pytest

from memory.embeddings import embedder_from_settings
from memory.embeddings.nim import NIMEmbedder, RateLimiter, retry_after_seconds
from memory.errors import UserError


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def test_rate_limiter_allows_rpm_per_minute_then_waits() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock)
    for _ in range(3):
        assert limiter.wait(clock.sleep) == 0.0
    clock.now = 10.0
    waited = limiter.wait(clock.sleep)
    assert waited == pytest.approx(50.0)  # the first start leaves the window at t=60
    assert clock.now == pytest.approx(60.0)


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0


def test_missing_key_and_unknown_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NVIDIA_API_KEY", raising=False)
    with pytest.raises(UserError, match="NVIDIA_API_KEY"):
        NIMEmbedder()
    with pytest.raises(UserError, match="unknown dimension"):
        NIMEmbedder("someone/new-model", api_key="k")
    assert NIMEmbedder("someone/new-model", api_key="k", dim=768).dim == 768


def test_embedder_from_settings_reads_the_settings_model(
    monkeypatch: pytest.MonkeyPatch, sovereign_home: object
) -> None:
    from graph.settings import load_settings

    monkeypatch.setenv("SOVEREIGN_EMBEDDING_BACKEND", "nim")
    monkeypatch.setenv("SOVEREIGN_NIM_API_KEY", "secret")
    monkeypatch.setenv("SOVEREIGN_NIM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("SOVEREIGN_EMBEDDING_RPM", "7")
    emb = embedder_from_settings(load_settings())
    assert isinstance(emb, NIMEmbedder)
    assert emb.dim == 1024 and emb.base_url == "http://127.0.0.1:9/v1"
    assert emb._limiter.rpm == 7
