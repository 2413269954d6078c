"""Papers the mirror's events are about, read back from the mirror as the kernel's `Paper`
(and, for a new full text, its paragraphs); polling arXiv's newest submissions online into
the mirror, so they reach the watch through the same log as any ingest."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from memory import events
from memory.mirror import db, fulltext_db
from memory.mirror.records import MirrorRecord
from memory.mirror.rows import PAPER_COLS, PaperRow, paper_row
from memory.models import Paper

FULLTEXT_FORMATS = ("unarxive", "latexml", "pdf")
PAPER_KINDS = (events.PAPER_NEW, events.PAPER_UPDATED, events.FULLTEXT_NEW)


def _time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def to_paper(row: PaperRow) -> Paper:
    return Paper(
        arxiv_id=row.arxiv_id,
        version=row.version,
        title=row.title,
        abstract=row.abstract,
        authors=row.authors,
        categories=row.categories,
        primary_category=row.categories[0] if row.categories else None,
        published=_time(row.published),
        updated=_time(row.updated),
        comment=row.comment,
        journal_ref=row.journal_ref,
        doi=row.doi,
        abs_url=f"https://arxiv.org/abs/{row.versioned_id}",
    )


class MirrorPapers:
    """Read-only access to the mirror file for one batch of events (a machine that consumes
    only other machines' papers may have no mirror: then only what the events carry)."""

    def __init__(self, path: Path) -> None:
        self.conn = None
        if Path(path).exists():
            self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def for_events(self, batch: Sequence[events.Event]) -> dict[str, Paper]:
        """The papers of a batch's paper events: the record an event carries (relayed from
        another machine's mirror), else this mirror's."""
        mine = [e for e in batch if e.kind in PAPER_KINDS]
        out = self.papers([e.subject for e in mine if "paper" not in e.payload])
        out.update((e.subject, Paper.model_validate(e.payload["paper"]))
                   for e in mine if "paper" in e.payload)  # fmt: skip
        return out

    def papers(self, ids: Sequence[str]) -> dict[str, Paper]:
        wanted = sorted(set(ids))
        out: dict[str, Paper] = {}
        if self.conn is None:
            return out
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT {PAPER_COLS} FROM papers WHERE arxiv_id IN ({marks})", chunk
            )
            out.update((r[1], to_paper(paper_row(r))) for r in rows)
        return out

    def paragraphs(self, event: events.Event) -> list[str]:
        """The full text's paragraphs for a `fulltext.new` event; [] for other events."""
        if event.kind != events.FULLTEXT_NEW:
            return []
        if "paragraphs" in event.payload:  # relayed from another machine's mirror
            return [str(p) for p in event.payload["paragraphs"]]
        if self.conn is None:
            return []
        version = event.payload.get("version")
        found = fulltext_db.find(self.conn, event.subject, version, FULLTEXT_FORMATS)
        return [p.text for p in found.fulltext().paragraphs] if found else []


def _record(paper: Paper) -> MirrorRecord:
    stamp = (paper.updated or paper.published or datetime.now()).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = paper.published.strftime("%Y-%m-%dT%H:%M:%SZ") if paper.published else stamp
    return MirrorRecord(
        arxiv_id=paper.arxiv_id,
        version=paper.version,
        title=paper.title,
        abstract=paper.abstract,
        authors=list(paper.authors),
        categories=list(paper.categories),
        published=first,
        updated=stamp,
        comment=paper.comment,
        journal_ref=paper.journal_ref,
        doi=paper.doi,
    )


def poll_newest(search: object, mirror: Path, categories: Sequence[str], limit: int) -> int:
    """Read the newest `limit` submissions of each category (one rate-limited client) and
    upsert them into the mirror; returns how many were new or updated (each one an event)."""
    papers: dict[str, Paper] = {}
    for category in categories:
        found = search.search(f"cat:{category}", limit, sort_by="submittedDate")  # type: ignore[attr-defined]
        papers.update((p.arxiv_id, p) for p in found)
    if not papers:
        return 0
    conn = db.connect(mirror, create=True)
    try:
        counts = db.upsert(conn, [db.prepare(_record(p)) for p in papers.values()])
        conn.commit()
        if counts.inserted or counts.updated:
            db.mark_changed(conn)
    finally:
        conn.close()
    return counts.inserted + counts.updated
