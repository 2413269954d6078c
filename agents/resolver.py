"""Find the paper the question is about: an arXiv id (in the question or `--paper`) or a title.
If a named paper cannot be found we say so; we never analyse another paper in its place."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.facets import ARXIV_ID, content_tokens, entity_mentions, short_name, strip_ids
from agents.searcher import to_arxiv_query
from memory.errors import ServiceUnavailable
from memory.models import Paper, split_arxiv_id
from memory.text import normalize_for_match


@dataclass
class Resolution:
    paper: Paper | None
    status: str  # "resolved" | "not_found" | "none_named" | "unavailable"
    note: str


def find_ids(text: str) -> list[str]:
    return [split_arxiv_id(m.group("id"))[0] for m in ARXIV_ID.finditer(text)]


def resolve_target(question: str, paper_arg: str | None, search: object) -> Resolution:
    """`search` is an ArxivSearch-like object (`fetch(ids)`, `search(query, max_results)`)."""
    try:
        ids = find_ids(paper_arg) if paper_arg else find_ids(question)
        if ids:
            wanted = ids[0]
            found = [p for p in search.fetch([wanted]) if p.arxiv_id == wanted]  # type: ignore[attr-defined]
            if found:
                return Resolution(found[0], "resolved", f"arXiv {wanted} resolved by id")
            return Resolution(
                None,
                "not_found",
                f"arXiv {wanted} was not found in the arXiv source; no other paper was "
                "analysed in its place",
            )
        if paper_arg:
            paper = _match_title(paper_arg, search, exact=True)
            if paper is None:
                return Resolution(
                    None,
                    "not_found",
                    f"no paper titled {paper_arg!r} was found; no other paper was analysed "
                    "in its place",
                )
            return Resolution(paper, "resolved", "resolved by the given title")
        paper = _match_title(question, search, exact=False)
        if paper is not None:
            return Resolution(paper, "resolved", "resolved by a title named in the question")
        return Resolution(
            None,
            "none_named",
            "the question names no arXiv id or known title; treated as a literature question",
        )
    except ServiceUnavailable as exc:
        return Resolution(None, "unavailable", f"arXiv unavailable while resolving: {exc}")


def _names(short: str, text: str) -> bool:
    """The short name written as a name (same capitalisation, whole words): 'Grove MoE' is
    named by '... does Grove MoE reach ...', 'Quantized Experts' is not by 'quantized experts'."""
    return re.search(rf"(?<![\w-]){re.escape(short)}(?![\w-])", text) is not None


def _match_title(text: str, search: object, exact: bool) -> Paper | None:
    """A candidate matches when its whole title, or its short name ('Grove MoE' of
    'Grove MoE: ...'), occurs in `text` as words."""
    text = strip_ids(text)
    norm_text = f" {normalize_for_match(text)} "
    queries = [text] if exact else [*entity_mentions(text), text]
    seen: set[str] = set()
    for query in queries[:4]:
        if not query.strip():
            continue
        words = " ".join(content_tokens(query)[: 8 if exact else 4])
        if not words:
            continue
        for cand in search.search(to_arxiv_query(words), max_results=10):  # type: ignore[attr-defined]
            if cand.arxiv_id in seen:
                continue
            seen.add(cand.arxiv_id)
            title = normalize_for_match(cand.title)
            if exact:
                if title == normalize_for_match(text) or (len(title) > 20 and title in norm_text):
                    return cand
                continue
            short = short_name(cand.title)
            if f" {title} " in norm_text or (len(short) >= 4 and _names(short, text)):
                return cand
    return None
