"""One arXiv search (a `Send` branch). Errors become a log entry, never an exception, so one
failed query cannot sink the others; an unreachable source is reported as such."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from memory.errors import UserError
from memory.models import Paper


def to_arxiv_query(text: str) -> str:
    """Keywords pass as a plain arXiv `search_query`: adjacent words are OR-ed and ranked by
    relevance (documents matching every word first), on arXiv and on the mirror alike, so a
    query never comes back empty for want of one word. Field-prefixed text passes unchanged."""
    if re.search(r"\b(all|ti|abs|au|cat|id):", text):
        return text
    return " ".join(w for w in text.replace('"', " ").split() if w not in ("AND", "OR", "ANDNOT"))


def run_search(
    search: Any, query: dict[str, Any], max_results: int, sort_by: str = "relevance"
) -> tuple[list[Paper], dict[str, Any]]:
    """Returns the papers (tagged with the query that found them) and a search-log entry."""
    started = time.time()
    entry: dict[str, Any] = {
        "query": query["text"],
        "purpose": query.get("purpose", ""),
        "round": query.get("round", 0),
        "start": started,
    }
    try:
        papers = list(
            search.search(to_arxiv_query(query["text"]), max_results=max_results, sort_by=sort_by)
        )
    except UserError as exc:
        entry.update(end=time.time(), n=0, error=str(exc), ids=[])
        return [], entry
    except Exception as exc:  # a client bug or protocol error: keep the run going, say so
        entry.update(end=time.time(), n=0, error=f"{type(exc).__name__}: {exc}", ids=[])
        return [], entry
    now = datetime.now(UTC)
    tagged = [
        p.model_copy(update={"query": p.query or query["text"], "retrieved_at": now})
        for p in papers
    ]
    entry.update(end=time.time(), n=len(tagged), error=None, ids=[p.arxiv_id for p in tagged])
    return tagged, entry
