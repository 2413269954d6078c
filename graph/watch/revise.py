"""What `sovereign watch` does to one published report when a later paper changes a claim's
status, or contradicts a claim that stays verified (contested): a correction record per claim,
a new version of the report's documents (tier and levels re-derived, report.md amended) and an
owner notification. Every write is idempotent: a correction is
keyed by the claim and the event (`claim C1 (mirror#17)`), the version by its digest, so a
watch killed half-way and restarted reaches the same end state."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from agents.amendment import Applied, amended_markdown
from agents.reverify import StatusChange, revised_record
from memory.events import Event
from memory.publication.notices import WATCH
from memory.publication.service import PublicationRecord, record_revision
from memory.publication.store import PublicationStore, StoredReport
from memory.run import RunInfo

PAUSE_ENV = "SOVEREIGN_WATCH_PAUSE_AT"  # tests: sleep at this named point (to SIGKILL there)


def pause_point(name: str) -> None:
    """A named point where a test can stop the watch (`SOVEREIGN_WATCH_PAUSE_AT=name:SECONDS`)."""
    want, _, seconds = os.environ.get(PAUSE_ENV, "").partition(":")
    if want == name:
        print(f"watch: paused at {name}", file=sys.stderr, flush=True)
        time.sleep(float(seconds or 60))


def recorded_info(stored: StoredReport) -> RunInfo:
    """The services the published documents name, so a revision keeps its method block."""
    method = stored.provenance.get("method", {})
    embedding = {"backend": method.get("embedding_backend"), "model": method.get("embedding_model")}
    return RunInfo(
        embedding=embedding if embedding["model"] else {},
        verifier=method.get("verifier") or "none",
        llm_usage=method.get("llm_usage"),
    )


def correction_what(change: StatusChange, event: Event) -> str:
    return f"claim {change.claim.id} ({event.key})"


def contested_why(change: StatusChange, report_id: str) -> str:
    """The notification a contested claim raises: who still supports it, what contradicts it."""
    paper = change.paper
    said = "; ".join(f'"{q}" ({p})' for q, p in zip(change.quotes, change.places, strict=False))
    backers = ", ".join(change.supported_by) or "an earlier source"
    return (
        f"claim {change.claim.id} of {report_id} is now contested: verified by {backers}, "
        f"contradicted by later paper arXiv {paper.versioned_id} ({paper.title})"
        + (f": {said}" if said else "")
    )


def correction_why(change: StatusChange, report_id: str = "") -> str:
    if change.contested:
        return contested_why(change, report_id)
    paper, after = change.paper, change.after
    quote = " ".join(after.evidence_quotes)  # stored whole: a correction is never truncated
    said = f': "{quote}"' if quote else ""
    return (
        f"re-verified against arXiv {paper.versioned_id} ({paper.title}), published after the "
        f"report: {change.before} -> {after.status} ({after.method}, confidence "
        f"{after.confidence:.2f}){said}"
    )


def event_time(event: Event) -> datetime:
    return datetime.fromisoformat(event.at.replace("Z", "+00:00"))


def _stamped(changes: Sequence[StatusChange], event: Event) -> list[StatusChange]:
    """The new papers as the report's sources: found by this event, retrieved at its time."""
    stamp = {"query": f"sovereign watch ({event.key})", "retrieved_at": event_time(event)}
    return [replace(c, paper=c.paper.model_copy(update=stamp)) for c in changes]


def _amended(
    store: PublicationStore, stored: StoredReport, changes: Sequence[StatusChange], event: Event
) -> str | None:
    """The new version's report.md: the latest one amended with the corrections just recorded
    (read back from the store, so a restart derives the very same text)."""
    recorded = {c["what"]: c for c in store.get(stored.report_id).corrections}
    applied = [Applied(c, recorded[correction_what(c, event)]) for c in changes]
    return amended_markdown(stored.markdown, applied)


def revise(
    store: PublicationStore, stored: StoredReport, changes: Sequence[StatusChange], event: Event,
    log: Any,
) -> PublicationRecord:  # fmt: skip
    """Corrections first, then the new version: a restart after the corrections re-derives the
    same change from the unchanged latest version and adds only the version."""
    done = {c["what"] for c in stored.corrections}
    for change in changes:
        what = correction_what(change, event)
        if what not in done:
            why = correction_why(change, stored.report_id)
            store.add_correction(stored.report_id, WATCH, what, why, "correction")
        pause_point("after_correction")
    stamped = _stamped(changes, event)
    revised = revised_record(stored.record(), stamped)
    markdown = _amended(store, stored, stamped, event)
    rec = record_revision(store, stored, revised, recorded_info(stored), markdown)
    pause_point("after_version")
    for change in (c for c in stamped if c.contested):
        log.warning(
            "watch.contested", report_id=stored.report_id, claim=change.claim.id,
            supported_by=change.supported_by, paper=change.paper.versioned_id,
            quotes=list(change.quotes), locations=list(change.places), event_key=event.key,
        )  # fmt: skip
    claims = [
        f"{c.claim.id}: {c.before}, contested" if c.contested
        else f"{c.claim.id}: {c.before} -> {c.after.status}"
        for c in changes
    ]  # fmt: skip
    log.warning(
        "watch.notification",
        report_id=stored.report_id,
        version=rec.version,
        tier=rec.manifest["quality"]["tier"],
        level=rec.manifest["quality"]["verification_level"]["code"],
        claims=claims,
        paper=changes[0].paper.versioned_id,
        event_key=event.key,
    )
    return rec
