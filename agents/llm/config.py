"""What the LLM client needs to reach its endpoint, as one frozen, validated object.

The agents room sits below the graph and does not import its `Settings`; the graph hands down
this config instead (`Settings.llm_config()`), with the API key already resolved from the
environment so the client never reads it on its own."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

JsonModeSetting = Literal["auto", "json_schema", "json_object", "none"]


class LLMConfig(BaseModel):
    """One OpenAI-compatible endpoint and the client's limits; `base_url=None` means no LLM
    (agents stay deterministic). The key is a SecretStr so reprs and dumps never show it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str | None
    model: str
    api_key: SecretStr | None
    timeout_s: float = Field(gt=0)
    max_concurrency: int = Field(ge=1)
    rpm: int = Field(ge=1, description="Client-side requests per minute.")
    temperature: float = Field(ge=0, le=2)
    max_tokens: int = Field(ge=16, description="Completion token cap per call.")
    max_retries: int = Field(ge=0, le=10, description="Re-sends on 429/5xx/timeouts.")
    json_mode: JsonModeSetting = "auto"
