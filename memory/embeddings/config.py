"""What the embedding layer needs to build its embedder, as one frozen, validated object.

The memory room is the bottom layer and never imports the top room's `Settings`; the graph hands
down this config instead (`Settings.embedding_config()`), so a field the embedder reads is a
field somebody can actually set."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class EmbeddingConfig(BaseModel):
    """Backend choice and the NIM client's limits; the key is resolved (environment included)
    by whoever builds the config, and kept secret in reprs and dumps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Literal["local", "nim", "hash"]
    model: str | None = Field(description="Model id; None means the backend's default.")
    nim_base_url: str
    nim_api_key: SecretStr | None
    rpm: int = Field(ge=1, description="Client-side requests per minute to NIM.")
    batch_size: int = Field(ge=1, le=512)
    timeout_s: float = Field(gt=0, description="Timeout of one NIM request.")
