"""The publication rules in one place: a run becomes a draft, an escalated report or a published
one; only AUTO_APPROVE or an owner's approval publishes; corrections are added, never edited."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.errors import UserError
from memory.publication.decisions import crash_point
from memory.publication.manifest import build_correction_record, build_manifest, build_provenance
from memory.publication.runview import RunView, canonical_json, sha256_text, unanswered
from memory.publication.store import PublicationStore, StoredReport
from memory.run import PublicationSummary, RunInfo, RunRecord

SYSTEM = "sovereign-policy"


@dataclass(frozen=True)
class PublicationRecord:
    """What `record_run` returns to the graph: the public id, status and the three documents."""

    report_id: str
    run_id: str
    status: str
    version: int
    manifest: dict[str, Any]
    provenance: dict[str, Any]
    corrections: dict[str, Any]

    @property
    def published(self) -> bool:
        return self.status == "published"

    def summary(self) -> PublicationSummary:
        """What the run's record keeps about its publication."""
        return PublicationSummary(
            report_id=self.report_id, run_id=self.run_id, status=self.status, version=self.version
        )


def store_for(db_path: Path) -> PublicationStore:
    """The publication store in the SQLite file `db_path` (Settings.publications_path)."""
    return PublicationStore(Path(db_path))


def to_record(stored: StoredReport) -> PublicationRecord:
    corrections = build_correction_record(stored.report_id, stored.status, list(stored.corrections))
    manifest = dict(stored.manifest)
    manifest["counts"] = {**manifest["counts"], "corrections": corrections["correction_count"]}
    return PublicationRecord(
        report_id=stored.report_id,
        run_id=stored.run_id,
        status=stored.status,
        version=stored.version,
        manifest=manifest,
        provenance=stored.provenance,
        corrections=corrections,
    )


def _store_version(store: PublicationStore, run: RunView) -> int:
    """The run's documents as a new version, unless the latest version has the same digest
    (recording the same run twice changes nothing); returns the version number."""
    provenance = build_provenance(run)
    manifest = build_manifest(run, provenance)
    digest_doc = {**manifest, "submitted_at": None}
    digest = sha256_text(canonical_json([digest_doc, provenance, run.markdown]))
    record = run.record
    return store.add_version(
        run.report_id, record.run_id, digest, record.state_json(), manifest, provenance,
        run.markdown,
    )  # fmt: skip


def record_revision(
    store: PublicationStore,
    stored: StoredReport,
    record: RunRecord,
    info: RunInfo | None,
    markdown: str | None = None,
) -> PublicationRecord:
    """A recorded report revised after publication (`sovereign watch` re-verified a claim):
    its documents rebuilt from the revised run, tier and levels re-derived, report.md the
    amended text the caller gives (default: the stored one; older versions keep theirs). The
    status is untouched; idempotent."""
    text = stored.markdown if markdown is None else markdown
    _store_version(store, RunView(record, info, text))
    return to_record(store.get(stored.report_id))


def record_run(record: RunRecord, db_path: Path, info: RunInfo | None = None) -> PublicationRecord:
    """Store a run and apply the publication policy. `info` is what the run's services said
    they were (beats the requested settings in the documents). Idempotent: recording the same
    run again changes nothing; a changed run adds a version. A run that could not answer is
    refused: the store is append-only, and nobody could ever take such an entry out again."""
    run = RunView.of(record, info)
    if reason := unanswered(record):
        raise UserError(f"run {record.run_id} did not answer its question ({reason}); not recorded")
    store = store_for(db_path)
    _store_version(store, run)
    current = store.status(run.report_id)
    # only the first recording applies the policy: an owner's rejection is never undone by
    # recording the run again
    if current is None and record.policy == "AUTO_APPROVE":
        store.set_status(run.report_id, "published", SYSTEM, "policy AUTO_APPROVE", "auto")
    elif current is None:
        store.set_status(
            run.report_id, "escalated", SYSTEM, "; ".join(record.policy_reasons) or record.policy
        )
    decision = record.owner_decision
    if decision:
        settle(store, run.report_id, decision.decision, decision.note, decision.who)
    return to_record(store.get(run.report_id))


def apply_decision(
    store: PublicationStore, report_id: str, decision: str, note: str, who: str
) -> str:
    """Owner's decision on an escalated report: approve publishes it, reject returns it to draft
    (never published). Returns the new status."""
    if decision not in ("approve", "reject"):
        raise UserError(f"decision must be 'approve' or 'reject', not {decision!r}")
    current = store.status(report_id)
    if current != "escalated":
        raise UserError(f"{report_id} is {current or 'unrecorded'}, not awaiting owner review")
    if decision == "approve":
        store.set_status(report_id, "approved", who, note, "approve")
        crash_point("store-approved")
        store.set_status(report_id, "published", who, "published after owner approval", "approve")
        return "published"
    store.set_status(report_id, "draft", who, note, "reject")
    return "draft"


def settle(store: PublicationStore, report_id: str, decision: str, note: str, who: str) -> str:
    """Bring the store to what the owner decided, from wherever an interrupted application
    left it: escalated (nothing applied yet) or approved (killed before publishing). Any other
    status is returned as it is (already applied, or not the owner's to decide)."""
    current = store.status(report_id)
    if current == "escalated":
        return apply_decision(store, report_id, decision, note, who)
    if current == "approved" and decision == "approve":
        store.set_status(report_id, "published", who, "published after owner approval", "approve")
        return "published"
    return current or "unrecorded"


def correct(
    store: PublicationStore, ref: str, who: str, what: str, why: str, retract: bool = False
) -> PublicationRecord:
    """Append a correction (or a retraction, which also moves the report to `retracted`)."""
    report_id = store.resolve(ref)
    if retract:
        if store.status(report_id) != "published":
            raise UserError(f"{report_id} is not published; only published reports are retracted")
        store.add_correction(report_id, who, what, why, "retraction")
        store.set_status(report_id, "retracted", who, why, "retract")
    else:
        store.add_correction(report_id, who, what, why, "correction")
    return to_record(store.get(report_id))
