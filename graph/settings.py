"""The one settings model: environment (`SOVEREIGN_*`), CLI flags and Studio's configurable all
land here, so a run is described by the same fields however it was started."""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from annotated_types import Ge, Gt, Le, Lt
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from memory.errors import UserError

if TYPE_CHECKING:
    from agents.llm.config import LLMConfig
    from memory.embeddings.config import EmbeddingConfig

NIM_BASE_URL = "https://integrate.api.nvidia.com/v1"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ARXIV_API_URL = "https://export.arxiv.org/api/query"


def _default_home() -> Path:
    return Path(os.environ.get("SOVEREIGN_HOME") or Path.home() / ".sovereign")


class Settings(BaseSettings):
    """Every tunable of the kernel. Field descriptions double as CLI help and Studio UI text."""

    model_config = SettingsConfigDict(env_prefix="SOVEREIGN_", extra="ignore", frozen=False)

    # --- storage -----------------------------------------------------------------------------
    home: Path = Field(default_factory=_default_home, description="Root for all local state.")
    home_wait_s: float | None = Field(
        None,
        ge=0,
        description="Seconds to wait while another process uses this home's embedded vector "
        "memory (one process at a time); unset waits as long as it takes, 0 fails at once.",
    )

    # --- arXiv ---------------------------------------------------------------------------------
    arxiv_mode: Literal["auto", "mirror", "online"] = Field(
        "auto",
        description="'auto' uses the local mirror when one has been ingested, else arXiv's API "
        "online (checked with one light request); 'mirror' serves the local snapshot over "
        "arXiv's API on loopback; 'online' talks to arXiv itself (one request per 3 s).",
    )
    arxiv_online_url: str = Field(
        ARXIV_API_URL,
        description="arXiv's own API, used online ('online', or 'auto' without a mirror); "
        "full texts come from the same host's /html and /pdf (arxiv.org for the default).",
    )
    arxiv_url: str | None = Field(
        None,
        description="Query URL of an already running arXiv-compatible API, e.g. "
        "http://127.0.0.1:8000/api/query. Overrides arxiv_mode's default URL.",
    )
    arxiv_delay_s: float | None = Field(
        None, ge=0, description="Seconds between arXiv requests; default 3 online, 0 on a mirror."
    )
    arxiv_timeout_s: float = Field(30.0, gt=0, description="Timeout of one arXiv request.")
    mirror_db: Path | None = Field(None, description="Mirror SQLite file; default $HOME/mirror.db.")

    # --- embeddings / vector memory ------------------------------------------------------------
    embedding_backend: Literal["local", "nim"] = Field(
        "local", description="'local' runs MiniLM int8 ONNX from PyPI; 'nim' calls NVIDIA NIM."
    )
    embedding_model: str | None = Field(
        None, description="Model id; default all-MiniLM-L6-v2 (local) or nvidia/nv-embedqa-e5-v5."
    )
    nim_base_url: str = Field(NIM_BASE_URL, description="OpenAI-compatible base URL for NIM.")
    nim_api_key: SecretStr | None = Field(
        None, description="Key for NIM; NVIDIA_API_KEY works too."
    )
    embedding_rpm: int = Field(40, ge=1, description="Client-side requests per minute to NIM.")
    embedding_batch_size: int = Field(32, ge=1, le=512, description="Texts per NIM request.")
    embedding_timeout_s: float = Field(30.0, gt=0, description="Timeout of one NIM request.")
    chroma_url: str | None = Field(
        None, description="URL of a `chroma run` server; unset means embedded PersistentClient."
    )

    # --- LLM -----------------------------------------------------------------------------------
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible base URL; unset means deterministic agents only."
    )
    llm_model: str = Field("meta/llama-3.1-8b-instruct", description="Chat model id.")
    llm_api_key: SecretStr | None = Field(
        None, description="Key; NVIDIA_API_KEY or OPENAI_API_KEY are used when unset."
    )
    llm_timeout_s: float = Field(60.0, gt=0, description="Timeout of one LLM request.")
    llm_max_concurrency: int = Field(4, ge=1, description="LLM calls in flight at once.")
    llm_rpm: int = Field(40, ge=1, description="Client-side requests per minute.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    llm_json_mode: Literal["auto", "json_schema", "json_object", "none"] = Field(
        "auto",
        description="How to ask for JSON: OpenAI's json_schema form, llama.cpp's json_object with "
        "a schema, or none; 'auto' picks json_schema for NIM/OpenAI hosts, json_object otherwise.",
    )
    llm_max_tokens: int = Field(1024, ge=16, description="Completion token cap per LLM call.")
    llm_max_retries: int = Field(3, ge=0, le=10, description="HTTP retries on 429/5xx/timeout.")

    # --- research graph ------------------------------------------------------------------------
    num_queries: int = Field(4, ge=1, le=12, description="Queries planned per search round.")
    max_results_per_query: int = Field(
        10, ge=1, le=100, description="arXiv results kept per query."
    )
    max_revisions: int = Field(2, ge=0, le=5, description="Revision rounds before giving up.")
    consensus_threshold: float = Field(6.5, ge=0, le=10, description="Tribunal pass mark.")
    verifier: str = Field("default", description="'default' (trained) or 'tfidf' (baseline).")
    tfidf_threshold: float = Field(0.15, ge=0, le=1, description="Baseline verifier cut-off.")
    verifier_nli: Path | None = Field(
        None,
        description="NLI slot: an exported ONNX NLI model (file or folder) whose verifier "
        "`sovereign eval train-verifier --nli` built under the home; unset: the shipped default.",
    )
    evidence_k: int = Field(5, ge=1, le=50, description="Candidate sources per claim.")
    fulltext_sources: int = Field(
        8,
        ge=0,
        le=50,
        description="Sources read in full per round (the target paper first, then the most "
        "relevant others; HTML, else PDF); 0 reads abstracts only.",
    )
    max_claims: int = Field(20, ge=1, le=200, description="Claims kept per run, at most.")
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted.")

    # --- events and `sovereign watch` -------------------------------------------------------
    watch_interval_s: float = Field(
        60.0, gt=0, description="Seconds between the watch's polls of the event logs."
    )
    watch_categories: list[str] = Field(
        default_factory=list,
        description="arXiv categories whose newest submissions the watch polls online "
        "(none: no polling).",
    )
    watch_poll_results: int = Field(
        50, ge=1, le=2000, description="Newest submissions read per category and poll."
    )
    site_dir: Path | None = Field(
        None, description="Public site the watch rebuilds when a report changes."
    )

    # --- research queue and scale-out (sovereign submit / worker) -------------------------------
    database_url: str | None = Field(
        None,
        description="PostgreSQL URL (postgresql://USER:PASSWORD@HOST:PORT/DB) for the research "
        "queue, LangGraph checkpoints and the watch's shared event log, shared by workers on "
        "several machines; unset means SQLite files under home (one machine, no server).",
    )
    queue_max_attempts: int = Field(
        3, ge=1, le=20, description="Attempts per queued request before it ends as failed."
    )
    queue_backoff_s: float = Field(
        30.0, ge=0, description="Wait before a queued request's first retry; doubles per retry."
    )

    # --- logging -------------------------------------------------------------------------------
    log_file: Path | None = Field(None, description="Write structlog JSON events here too.")
    log_level: str = Field(
        "INFO", description="Lowest level of transcript events: " + ", ".join(LOG_LEVELS) + "."
    )

    @field_validator("home", "mirror_db", "log_file", "site_dir", "verifier_nli", mode="after")
    @classmethod
    def _expand(cls, v: Path | None) -> Path | None:
        return v.expanduser() if v is not None else None

    @field_validator("log_level", mode="after")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.upper() not in LOG_LEVELS:
            raise ValueError(f"unknown level {v!r}")
        return v.upper()

    # --- derived -------------------------------------------------------------------------------
    @property
    def mirror_path(self) -> Path:
        return self.mirror_db or self.home / "mirror.db"

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def checkpoint_path(self) -> Path:
        return self.home / "checkpoints.sqlite"

    @property
    def queue_path(self) -> Path:
        return self.home / "queue.sqlite"

    @property
    def publications_path(self) -> Path:
        return self.home / "publications.sqlite"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    def arxiv_delay(self, online: bool) -> float:
        """Seconds between arXiv requests: as set, else arXiv's 3 s online and none on a
        local mirror or an explicitly given API."""
        if self.arxiv_delay_s is not None:
            return self.arxiv_delay_s
        return 3.0 if online and not self.arxiv_url else 0.0

    def nim_key(self) -> str | None:
        if self.nim_api_key is not None:
            return self.nim_api_key.get_secret_value()
        return os.environ.get("NVIDIA_API_KEY")

    def llm_key(self) -> str | None:
        if self.llm_api_key is not None:
            return self.llm_api_key.get_secret_value()
        return os.environ.get("NVIDIA_API_KEY") or os.environ.get("OPENAI_API_KEY")

    def llm_config(self) -> LLMConfig:
        """What the LLM client needs, key resolved (imported here: settings stay cheap)."""
        from agents.llm.config import LLMConfig

        key = self.llm_key()
        return LLMConfig(
            base_url=self.llm_base_url,
            model=self.llm_model,
            api_key=SecretStr(key) if key else None,
            timeout_s=self.llm_timeout_s,
            max_concurrency=self.llm_max_concurrency,
            rpm=self.llm_rpm,
            temperature=self.llm_temperature,
            max_tokens=self.llm_max_tokens,
            max_retries=self.llm_max_retries,
            json_mode=self.llm_json_mode,
        )

    def embedding_config(self) -> EmbeddingConfig:
        """What the embedding layer needs, key resolved (imported here: settings stay cheap)."""
        from memory.embeddings.config import EmbeddingConfig

        key = self.nim_key()
        return EmbeddingConfig(
            backend=self.embedding_backend,
            model=self.embedding_model,
            nim_base_url=self.nim_base_url,
            nim_api_key=SecretStr(key) if key else None,
            rpm=self.embedding_rpm,
            batch_size=self.embedding_batch_size,
            timeout_s=self.embedding_timeout_s,
        )

    def with_overrides(self, **overrides: Any) -> Settings:
        """Apply CLI flags or Studio configurable on top (None means 'not given')."""
        data = self.model_dump()
        given = {k: v for k, v in overrides.items() if v is not None and k in data}
        data.update(given)
        return validated(data, frozenset(given))


PRESETS: dict[str, dict[str, Any]] = {
    "offline": {"arxiv_mode": "mirror", "embedding_backend": "local", "llm_base_url": None},
    "local-llm": {
        "arxiv_mode": "mirror",
        "embedding_backend": "local",
        "llm_base_url": "http://127.0.0.1:8081/v1",
        "llm_model": "smollm2-135m-instruct",
        "llm_max_concurrency": 1,
    },
    "nim": {
        "arxiv_mode": "online",
        "embedding_backend": "nim",
        "llm_base_url": NIM_BASE_URL,
        "llm_model": "meta/llama-3.1-8b-instruct",
    },
    "openai": {
        "arxiv_mode": "online",
        "embedding_backend": "local",
        "llm_base_url": "https://api.openai.com/v1",
        "llm_model": "gpt-4o-mini",
    },
}


class SettingsError(UserError):
    """A setting outside its allowed values: one line naming it (as the user set it: the
    environment variable, else the field) and what it allows, so a typo in one variable never
    surfaces as a traceback from every sub-command."""


_NOUNS: dict[Any, str] = {int: "an integer", float: "a number", Path: "a path"}
_BOUNDS = ((Ge, "ge", ">="), (Gt, "gt", ">"), (Le, "le", "<="), (Lt, "lt", "<"))


def allowed(name: str) -> str:
    """What a field accepts, in words: its choices, or its type and range."""
    info = Settings.model_fields[name]
    kind: Any = info.annotation
    if isinstance(kind, types.UnionType):  # `X | None`: the X
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(str(c) for c in typing.get_args(kind))
    if name == "log_level":
        return "one of " + ", ".join(LOG_LEVELS)
    bounds = [
        f"{sign} {getattr(rule, attr)}"
        for rule in info.metadata
        for cls, attr, sign in _BOUNDS
        if isinstance(rule, cls)
    ]
    return _NOUNS.get(kind, "a string") + (" " + " and ".join(bounds) if bounds else "")


def settings_error(exc: ValidationError, given: frozenset[str] = frozenset()) -> SettingsError:
    """The first invalid setting of a validation error, as one line; `given` are the fields
    set explicitly (flags, Studio), named as such rather than as environment variables."""
    err = exc.errors()[0]
    name = str(err["loc"][0]) if err.get("loc") else ""
    if name not in Settings.model_fields:
        return SettingsError(f"invalid settings: {err['msg']}")
    env = f"SOVEREIGN_{name.upper()}"
    if name not in given and env in os.environ:
        shown = f"{env}={os.environ[env]!r}"
    else:
        shown = f"{name}={err.get('input')!r}"
    return SettingsError(f"{shown} is invalid: expected {allowed(name)}")


def validated(data: dict[str, Any] | None = None, given: frozenset[str] = frozenset()) -> Settings:
    """Settings from the environment (or from `data`), or a one-line SettingsError."""
    try:
        return Settings.model_validate(data) if data is not None else Settings()
    except ValidationError as exc:
        raise settings_error(exc, given) from None


def load_settings(preset: str | None = None, **overrides: Any) -> Settings:
    """Environment first, then a named preset's values where the environment is silent, then
    explicit overrides. An invalid value raises SettingsError (one line)."""
    base = validated()
    if preset:
        if preset not in PRESETS:
            raise SettingsError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        env_set = {k for k in Settings.model_fields if f"SOVEREIGN_{k.upper()}" in os.environ}
        base = base.with_overrides(**{k: v for k, v in PRESETS[preset].items() if k not in env_set})
        if (
            PRESETS[preset].get("llm_base_url") is None
            and "SOVEREIGN_LLM_BASE_URL" not in os.environ
        ):
            base.llm_base_url = None
    return base.with_overrides(**overrides)
