"""A run's settings as LangGraph sees them: Studio's configurable (`RunContext`) is derived
from the one `Settings` model, and the settings a run used are kept in its state (without
secrets) so a resumed run uses the same ones. Env, CLI flags and Studio therefore agree."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, create_model

from graph.settings import Settings

# Settings a run may override from Studio / `context=` (secrets and paths stay in the env).
CONTEXT_FIELDS = (
    "arxiv_mode",
    "arxiv_url",
    "embedding_backend",
    "embedding_model",
    "llm_base_url",
    "llm_model",
    "num_queries",
    "max_results_per_query",
    "max_revisions",
    "consensus_threshold",
    "verifier",
    "tfidf_threshold",
    "evidence_k",
    "fulltext_sources",
    "max_claims",
)
SECRET_FIELDS = ("nim_api_key", "llm_api_key", "database_url")  # a URL may hold a password
# Where things are on the machine running the step: a run resumed by a worker on another
# machine (the queue's scale-out) writes under that machine's home, not the first one's.
MACHINE_FIELDS = ("home", "mirror_db", "log_file")


def _optional_field(name: str) -> tuple[Any, Any]:
    info = Settings.model_fields[name]
    annotation: Any = info.annotation
    return (annotation | None, Field(None, description=info.description or name))


RunContext: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "RunContext",
    __doc__="Per-run overrides of Settings (unset = the environment's value).",
    **{name: _optional_field(name) for name in CONTEXT_FIELDS},
)


def context_overrides(context: Any) -> dict[str, Any]:
    if context is None:
        return {}
    if isinstance(context, BaseModel):
        return context.model_dump(exclude_none=True)
    if isinstance(context, dict):
        return {k: v for k, v in context.items() if v is not None and k in CONTEXT_FIELDS}
    return {}


def settings_record(settings: Settings) -> dict[str, Any]:
    """JSON form kept in the state (no secrets), so a resumed run uses the same settings."""
    return settings.model_dump(mode="json", exclude=set(SECRET_FIELDS))


def settings_from_record(base: Settings, record: dict[str, Any] | None) -> Settings:
    if not record:
        return base
    data = base.model_dump()
    kept = (*SECRET_FIELDS, *MACHINE_FIELDS)
    data.update({k: v for k, v in record.items() if k not in kept and k in data})
    return Settings.model_validate(data)
