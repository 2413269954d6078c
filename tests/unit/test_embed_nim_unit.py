"""NIM client pieces that need no server: constructor checks and the typed config wiring.
Pacing, Retry-After and retries are `memory.net`'s (tests/unit/test_net.py)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from memory.embeddings import (
    EmbeddingConfig,
    HashingEmbedder,
    embedder_from_config,
)
from memory.embeddings.nim import NIMEmbedder
from memory.errors import UserError


def test_missing_key_and_unknown_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NVIDIA_API_KEY", raising=False)
    with pytest.raises(UserError, match="NVIDIA_API_KEY"):
        NIMEmbedder()
    with pytest.raises(UserError, match="unknown dimension"):
        NIMEmbedder("someone/new-model", api_key="k")
    assert NIMEmbedder("someone/new-model", api_key="k", dim=768).dim == 768
    with pytest.raises(UserError, match="at least 1"):
        NIMEmbedder(api_key="k", rpm=0)


def nim_config(**fields: object) -> EmbeddingConfig:
    base: dict[str, object] = {
        "backend": "nim",
        "model": None,
        "nim_base_url": "http://127.0.0.1:9/v1",
        "nim_api_key": "secret",
        "rpm": 7,
        "batch_size": 16,
        "timeout_s": 4.5,
    }
    return EmbeddingConfig.model_validate({**base, **fields})


def test_embedder_from_config_builds_the_configured_client() -> None:
    emb = embedder_from_config(nim_config())
    assert isinstance(emb, NIMEmbedder)
    assert emb.dim == 1024 and emb.base_url == "http://127.0.0.1:9/v1"
    assert emb.batch_size == 16 and emb._client.api_key == "secret"
    assert emb._client.timeout == 4.5
    assert emb._limiter.min_interval_s == pytest.approx(60 / 7)
    assert isinstance(embedder_from_config(nim_config(backend="hash")), HashingEmbedder)


def test_embedding_config_is_frozen_validated_and_keeps_the_key_secret() -> None:
    config = nim_config()
    assert isinstance(config.nim_api_key, SecretStr) and "secret" not in repr(config)
    with pytest.raises(ValidationError):
        config.rpm = 8  # type: ignore[misc]
    for bad in ({"rpm": 0}, {"timeout_s": 0}, {"backend": "carrier-pigeon"}, {"extra": 1}):
        with pytest.raises(ValidationError):
            nim_config(**bad)


def test_settings_hand_down_every_embedding_field(
    monkeypatch: pytest.MonkeyPatch, sovereign_home: object
) -> None:
    from graph.settings import load_settings

    monkeypatch.setenv("SOVEREIGN_EMBEDDING_BACKEND", "nim")
    monkeypatch.setenv("SOVEREIGN_NIM_API_KEY", "secret")
    monkeypatch.setenv("SOVEREIGN_NIM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("SOVEREIGN_EMBEDDING_RPM", "7")
    monkeypatch.setenv("SOVEREIGN_EMBEDDING_TIMEOUT_S", "4.5")  # settable since it has a field
    settings = load_settings()
    assert settings.embedding_config() == nim_config(batch_size=32)
    emb = embedder_from_config(settings.embedding_config())
    assert isinstance(emb, NIMEmbedder) and emb._client.timeout == 4.5


def test_nim_key_falls_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch, sovereign_home: object
) -> None:
    from graph.settings import load_settings

    monkeypatch.setenv("NVIDIA_API_KEY", "from-env")
    config = load_settings().embedding_config()
    assert config.nim_api_key is not None and config.nim_api_key.get_secret_value() == "from-env"
    monkeypatch.delenv("NVIDIA_API_KEY")
    assert load_settings().embedding_config().nim_api_key is None
