"""Where the watch reads its events: the home's own SQLite logs (one machine, the default), or,
with `database_url`, one log shared by every machine in PostgreSQL (`memory.events_postgres`).

In the shared setup the local logs stay the transactional outbox (their writers are
unchanged) and each `watch` poll first relays them into the shared log, idempotently by
(origin, local cursor). An origin is the log's file on its machine and the file's random id
(`host:/path/mirror.db#9f2c...`), so two homes that share one mirror file relay it once, and
a recreated file is relayed afresh. A paper event carries the paper's
metadata record (and a full-text event its paragraphs) because the consuming machine may not
have the paper in its mirror. Each watch then consumes the whole shared log under its own
consumer name (its publication store: that is where its effects go), with offsets in
PostgreSQL: a paper ingested on machine A re-verifies the reports published on machine B."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.settings import Settings
from graph.watch.sources import PAPER_KINDS, MirrorPapers
from memory import events
from memory.events import Event, SqliteEventLog, SqliteOffsets
from memory.models import Paper

CONSUMER = "watch"
SHARED = "shared"  # the shared log's name (and its events' keys: `shared#17`)
RELAY_BATCH = 500


def place(path: Path) -> str:
    """Where a local log is among all machines': its host and file."""
    return f"{socket.gethostname()}:{Path(path).resolve()}"


def origin(path: Path, log: SqliteEventLog) -> str:
    """A local log's name in the shared log: its place and the file's random id, so a file
    recreated (cursors from 1 again) is a new origin, not one already relayed. (A file from
    before the ids gets one at its writer's next open and is then relayed once more: the
    watch's effects are idempotent, so only the shared log grows.)"""
    found = log.log_id()
    return f"{place(path)}#{found or ''}"  # (the place is what precedes the last #)


def _enriched(event: Event, paper: Paper | None, mirror: MirrorPapers) -> Event:
    """A paper event with what a machine without the paper needs: its record, its paragraphs."""
    if event.kind not in PAPER_KINDS:
        return event
    payload = dict(event.payload)
    if paper is not None:
        payload["paper"] = paper.model_dump(mode="json")
    if event.kind == events.FULLTEXT_NEW:
        payload["paragraphs"] = mirror.paragraphs(event)
    return Event(event.log, event.cursor, event.kind, event.subject, event.at, payload)


class Relay:
    """Copies the home's local logs into the shared log."""

    def __init__(self, settings: Settings, shared: Any) -> None:
        self.shared = shared
        self.mirror_path = settings.mirror_path
        self.local = [
            (settings.mirror_path, SqliteEventLog(settings.mirror_path, "mirror")),
            (settings.publications_path,
             SqliteEventLog(settings.publications_path, "publication")),
        ]  # fmt: skip

    def run(self) -> int:
        """Relay everything not relayed yet; returns how many events were copied."""
        copied = 0
        for path, log in self.local:
            name = origin(path, log)
            while batch := log.read_after(self.shared.relayed(name), RELAY_BATCH):
                copied += self.shared.relay(name, self._prepared(batch))
        return copied

    def _prepared(self, batch: list[Event]) -> list[Event]:
        if not any(e.kind in PAPER_KINDS for e in batch):
            return batch
        mirror = MirrorPapers(self.mirror_path)
        try:
            papers = mirror.papers([e.subject for e in batch if e.kind in PAPER_KINDS])
            return [_enriched(e, papers.get(e.subject), mirror) for e in batch]
        finally:
            mirror.close()

    def lines(self) -> list[str]:
        """Per local log: how far it is relayed."""
        out = []
        for path, log in self.local:
            name = origin(path, log)
            done, head = self.shared.relayed(name), log.head()
            out.append(f"relay {place(path)}: relayed {done}, head {head}, lag {head - done}")
        return out


@dataclass
class EventSources:
    """The logs a watch consumes, its offsets and consumer name, and the relay (shared only)."""

    logs: dict[str, Any]
    offsets: Any
    consumer: str
    own_publications: str = ""  # place of this home's publication log (origins start with it)
    relay: Relay | None = None
    closers: list[Any] = field(default_factory=list)

    def own(self, event: Event) -> bool:
        """Whether a publication event is about this home's store (a local event always is)."""
        return event.origin.rpartition("#")[0] in ("", self.own_publications)

    def close(self) -> None:
        for item in self.closers:
            item.close()


def event_sources(settings: Settings) -> EventSources:
    """The home's SQLite logs, or the shared PostgreSQL log when `database_url` is set."""
    if not settings.database_url:
        return EventSources(
            logs={
                "mirror": SqliteEventLog(settings.mirror_path, "mirror"),
                "publication": SqliteEventLog(settings.publications_path, "publication"),
            },
            offsets=SqliteOffsets(settings.publications_path),
            consumer=CONSUMER,
        )
    from memory.events_postgres import PostgresEventLog, PostgresOffsets

    shared = PostgresEventLog(settings.database_url, SHARED)
    offsets = PostgresOffsets(settings.database_url)
    mine = place(settings.publications_path)
    return EventSources(
        logs={SHARED: shared},
        offsets=offsets,
        consumer=f"{CONSUMER}@{mine}",
        own_publications=mine,
        relay=Relay(settings, shared),
        closers=[shared, offsets],
    )
