"""Owner notifications: a correction that `sovereign watch` appended (a later paper changed a
claim's status) is a notification until the owner acts on the report after it (a decision,
a correction or a retraction of their own). Derived from the append-only records, so a
notification exists exactly when its correction does."""

from __future__ import annotations

from dataclasses import dataclass

from memory.publication.service import SYSTEM
from memory.publication.store import PublicationStore

WATCH = "sovereign-watch"  # `who` of the corrections the watch appends


@dataclass(frozen=True)
class Notice:
    report_id: str
    seq: int
    at: str
    what: str
    why: str
    report_status: str


def notices(store: PublicationStore, pending_only: bool = True) -> list[Notice]:
    """The watch's corrections, oldest first; pending ones are those the owner has not acted
    on since (no later status event or correction by anyone else)."""
    out: list[Notice] = []
    for report_id in store.report_ids():
        rep = store.get(report_id)
        for corr in rep.corrections:
            if corr["who"] != WATCH:
                continue
            acted = any(
                h.who not in (WATCH, SYSTEM) and h.at > corr["at"] for h in rep.history
            ) or any(c["who"] != WATCH and c["seq"] > corr["seq"] for c in rep.corrections)
            if pending_only and (acted or rep.status != "published"):
                continue
            out.append(
                Notice(report_id, int(corr["seq"]), str(corr["at"]), str(corr["what"]),
                       str(corr["why"]), rep.status)
            )  # fmt: skip
    return out
