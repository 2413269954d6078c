"""The publication rules in one place: a run becomes a draft, an escalated report or a published
one; only AUTO_APPROVE or an owner's approval publishes; corrections are added, never edited."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.errors import UserError
from memory.publication.manifest import build_correction_record, build_manifest, build_provenance
from memory.publication.runview import canonical_json, read_run, sha256_text
from memory.publication.store import PublicationStore, StoredReport

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

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON for the graph state (`publication` key)."""
        return {
            "report_id": self.report_id,
            "run_id": self.run_id,
            "status": self.status,
            "version": self.version,
            "tier": self.manifest["quality"]["tier"],
            "verification_level": self.manifest["quality"]["verification_level"]["code"],
        }


def store_for(settings: Any) -> PublicationStore:
    """`settings` is duck-typed: only `publications_path` (or `home`) is read."""
    path = getattr(settings, "publications_path", None)
    if path is None:
        path = Path(settings.home) / "publications.sqlite"
    return PublicationStore(Path(path))


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


def record_run(state: dict[str, Any], settings: Any) -> PublicationRecord:
    """Store a run's final state and apply the publication policy. Idempotent: calling it again
    with the same state changes nothing; a changed state adds a version."""
    run = read_run(state)
    provenance = build_provenance(run)
    manifest = build_manifest(run, provenance)
    store = store_for(settings)
    digest_doc = {**manifest, "submitted_at": None}
    digest = sha256_text(canonical_json([digest_doc, provenance, run.markdown]))
    store.add_version(
        run.report_id, run.run_id, digest, _jsonable(state), manifest, provenance, run.markdown
    )
    current = store.status(run.report_id)
    # only the first recording applies the policy: an owner's rejection is never undone by
    # recording the run again
    if current is None and run.policy == "AUTO_APPROVE":
        store.set_status(run.report_id, "published", SYSTEM, "policy AUTO_APPROVE", "auto")
    elif current is None:
        store.set_status(
            run.report_id, "escalated", SYSTEM, "; ".join(run.policy_reasons) or run.policy
        )
    if run.owner_decision and store.status(run.report_id) == "escalated":
        decision = dict(run.owner_decision)
        apply_decision(
            store,
            run.report_id,
            str(decision.get("decision", "")),
            str(decision.get("note", "")),
            str(decision.get("who") or "owner"),
        )
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
        store.set_status(report_id, "published", who, "published after owner approval", "approve")
        return "published"
    store.set_status(report_id, "draft", who, note, "reject")
    return "draft"


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


def _jsonable(state: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in state.items():
        if hasattr(value, "model_dump"):
            value = value.model_dump(mode="json")
        elif isinstance(value, list):
            value = [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value]
        out[key] = value
    return out
