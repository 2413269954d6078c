"""Put retrieved papers into vector memory (idempotent upsert by arXiv id)."""

from __future__ import annotations

from typing import Any

from memory.models import Paper


def index_papers(memory: Any, papers: list[dict[str, Any]]) -> list[str]:
    """Upserts the papers; returns their ids. Re-indexing the same ids is harmless."""
    models = [Paper.model_validate(p) for p in papers]
    if models:
        memory.upsert_papers(models)
    return [p.arxiv_id for p in models]
