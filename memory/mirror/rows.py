"""What a mirror query returns: paper rows as the Atom feed writes them, a page of them, and the
validation of an `id_list` (a malformed id is a 400, as on arXiv)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from memory.arxiv_client import is_arxiv_id
from memory.mirror.query_parser import QuerySyntaxError
from memory.models import split_arxiv_id

PAPER_COLS = (
    "rid, arxiv_id, version, title, abstract, authors, categories, published, updated, "
    "comment, journal_ref, doi"
)


class BadQuery(QuerySyntaxError):
    """Bad request parameters (id format, start, max_results, sort)."""


@dataclass(frozen=True)
class PaperRow:
    arxiv_id: str
    version: int
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published: str
    updated: str
    comment: str | None
    journal_ref: str | None
    doi: str | None

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"


@dataclass(frozen=True)
class ResultPage:
    total: int
    start: int
    max_results: int
    entries: list[PaperRow]


def paper_row(r: tuple) -> PaperRow:
    return PaperRow(
        arxiv_id=r[1],
        version=r[2],
        title=r[3],
        abstract=r[4],
        authors=json.loads(r[5]),
        categories=r[6].split(),
        published=r[7],
        updated=r[8],
        comment=r[9],
        journal_ref=r[10],
        doi=r[11],
    )


def parse_id_list(raw: str | Sequence[str]) -> list[tuple[str, int | None]]:
    """Split and validate an id_list; a malformed id is a 400, as on arXiv."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    out: list[tuple[str, int | None]] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        if not is_arxiv_id(item):
            raise BadQuery(f"incorrect id format for {item}")
        out.append(split_arxiv_id(item))
    return out
