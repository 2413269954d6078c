"""The watch's consumer: reads the mirror's and the publication store's event logs (or, with
`database_url`, the log every machine relays them into: `graph.watch.shared`) after its
committed offsets, acts on each batch, and only then commits the batch's last cursor. Its
effects are idempotent (`graph.watch.revise`) and the site is rebuilt from the store, so a
watch killed anywhere and restarted reaches the same end state: exactly-once effects.

Mirror events (a new or updated paper, a new full text) re-verify the published claims the
paper bears on: the claims nearest it in the vector memory plus those whose subject names it
mentions. Publication events (a finished run, a new version, a decision, a correction)
rebuild the public site when one is configured. Every consumed event is a structlog event."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agents.reverify import StatusChange, mentions_subject, reverify_claim
from graph.settings import Settings
from graph.transcript import get_logger
from graph.watch.index import ClaimIndex, doc_id
from graph.watch.revise import pause_point, revise
from graph.watch.shared import event_sources
from graph.watch.sources import PAPER_KINDS, MirrorPapers
from memory import events
from memory.events import Event
from memory.models import Paper
from memory.publication.notices import notices
from memory.publication.service import store_for
from memory.publication.store import StoredReport

BATCH = 200  # events per read and per offset commit
PUBLICATION_KINDS = (events.RUN_FINISHED, events.REPORT_VERSION, events.REPORT_STATUS,
                     events.REPORT_CORRECTION, events.OWNER_DECISION)  # fmt: skip


@dataclass
class DrainSummary:
    """What one drain consumed and did."""

    events: int = 0
    relayed: int = 0
    corrections: int = 0
    contested: int = 0  # verified claims a later paper now contradicts (status unchanged)
    revised: set[str] = field(default_factory=set)
    site_builds: int = 0

    def line(self) -> str:
        relayed = f"relayed {self.relayed} local event(s), " if self.relayed else ""
        return relayed + (
            f"consumed {self.events} event(s): {self.corrections} claim status change(s) in "
            f"{len(self.revised)} report(s), "
            + (f"{self.contested} verified claim(s) contested, " if self.contested else "")
            + f"site rebuilt {self.site_builds} time(s)"
        )


@dataclass(frozen=True)
class WatchStatus:
    cursors: dict[str, tuple[int, int]]  # log -> (committed offset, newest cursor)
    pending: int
    relay: list[str] = field(default_factory=list)  # shared log: how far each local log is

    def lines(self) -> list[str]:
        out = [
            f"{log}: cursor {offset}, head {head}, lag {head - offset}"
            for log, (offset, head) in self.cursors.items()
        ]
        return [*out, *self.relay, f"pending notifications: {self.pending}"]


class Watcher:
    """One consumer (`watch`) of both logs; services are built on first need."""

    def __init__(
        self,
        settings: Settings,
        verifier: Any = None,
        index: ClaimIndex | None = None,
        build_site: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store_for(settings.publications_path)
        self.sources = event_sources(settings)
        self.offsets, self.logs = self.sources.offsets, self.sources.logs
        self.consumer = self.sources.consumer
        self._verifier = verifier
        self._index = index
        self._build_site = build_site or self._default_site
        self.log = get_logger(None, "watch", "watch")

    # --- services ----------------------------------------------------------------------------
    def verifier(self) -> Any:
        if self._verifier is None:
            from graph.services import Services

            self._verifier = Services(self.settings).verifier()
        return self._verifier

    def index(self) -> ClaimIndex:
        if self._index is None:
            self._index = ClaimIndex.from_settings(self.settings)
        return self._index

    def _default_site(self) -> None:
        from graph.site.builder import build_site

        if self.settings.site_dir is not None:
            build_site(self.store, self.settings.site_dir)

    # --- status ------------------------------------------------------------------------------
    def status(self) -> WatchStatus:
        cursors = {
            name: (self.offsets.get(self.consumer, name), log.head())
            for name, log in self.logs.items()
        }
        relay = self.sources.relay.lines() if self.sources.relay else []
        return WatchStatus(cursors, len(notices(self.store)), relay)

    def close(self) -> None:
        self.sources.close()

    # --- consuming ---------------------------------------------------------------------------
    def drain(self) -> DrainSummary:
        """Relay the local logs (shared log only), then consume the logs until none has events
        after its offset."""
        summary = DrainSummary()
        moved = True
        while moved:  # (a shared log: relay again, so the watch's own writes come back too)
            moved = False
            if self.sources.relay is not None:
                summary.relayed += self.sources.relay.run()
            for name, log in self.logs.items():
                batch = log.read_after(self.offsets.get(self.consumer, name), BATCH)
                if not batch:
                    continue
                moved = True
                self._consume(batch, summary)
                pause_point("before_commit")
                self.offsets.commit(self.consumer, name, batch[-1].cursor)
                summary.events += len(batch)
        return summary

    def _consume(self, batch: Sequence[Event], summary: DrainSummary) -> None:
        """Papers re-verify, then publication events rebuild the site (it then shows the
        corrections the papers made)."""
        publication = [e for e in batch if e.kind in PUBLICATION_KINDS]
        if len(publication) < len(batch):
            self._papers([e for e in batch if e.kind not in PUBLICATION_KINDS], summary)
        if publication:
            self._publication(publication, summary)

    def _publication(self, batch: Sequence[Event], summary: DrainSummary) -> None:
        """Only this home's own writes change its site (a shared log has every home's)."""
        own = [e for e in batch if self.sources.own(e)]
        rebuild = self.settings.site_dir is not None and bool(own)
        for event in batch:
            action = ("site" if rebuild else "none") if self.sources.own(event) else "other home"
            self.log.info(
                "watch.event", log=event.log, cursor=event.cursor, kind=event.kind,
                subject=event.subject, action=action,
            )  # fmt: skip
        if rebuild:
            self._build_site()
            summary.site_builds += 1

    def _papers(self, batch: Sequence[Event], summary: DrainSummary) -> None:
        published = [self.store.get(i) for i in self.store.report_ids("published")]
        if not published:
            for event in batch:
                self._logged(event, "no published reports", 0)
            return
        mirror = MirrorPapers(self.settings.mirror_path)
        try:
            papers = mirror.for_events(batch)
            index = self.index()
            index.sync(published)
            order = list(papers)
            nearest = dict(zip(order, index.nearest([papers[i] for i in order]), strict=True))
            for event in batch:
                paper = papers.get(event.subject)
                if event.kind not in PAPER_KINDS or paper is None:
                    self._logged(event, "ignored", 0)
                    continue
                changed = self._paper(
                    event, paper, mirror.paragraphs(event), nearest[paper.arxiv_id]
                )
                found = [c for cs in changed.values() for c in cs]
                summary.contested += sum(c.contested for c in found)
                summary.corrections += sum(not c.contested for c in found)
                summary.revised |= set(changed)
                self._logged(event, "re-verified", len(found))
        finally:
            mirror.close()

    def _logged(self, event: Event, action: str, changes: int) -> None:
        self.log.info(
            "watch.event", log=event.log, cursor=event.cursor, kind=event.kind,
            subject=event.subject, action=action, status_changes=changes,
        )  # fmt: skip

    def _paper(
        self, event: Event, paper: Paper, paragraphs: list[str], nearest: set[str]
    ) -> dict[str, list[StatusChange]]:
        """Re-verify every published report's candidate claims against one paper; revise the
        reports whose claims changed status."""
        out: dict[str, list[StatusChange]] = {}
        for report_id in self.store.report_ids("published"):
            stored = self.store.get(report_id)  # latest: an earlier event may have revised it
            changes = self._changes(stored, paper, paragraphs, nearest)
            if changes:
                revise(self.store, stored, changes, event, self.log)
                out[report_id] = changes
        return out

    def _changes(
        self, stored: StoredReport, paper: Paper, paragraphs: list[str], nearest: set[str]
    ) -> list[StatusChange]:
        record = stored.record()
        out = []
        for claim in record.claims:
            near = doc_id(stored.report_id, claim.id) in nearest
            if not (near or mentions_subject(record, claim, paper)):
                continue
            change = reverify_claim(record, claim, paper, self.verifier(), paragraphs)
            if change is not None:
                out.append(change)
        return out
