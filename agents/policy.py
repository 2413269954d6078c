"""Publication policy: AUTO_APPROVE only when the tribunal passes, at least one claim is
verified by another source and every facet of the question is covered (and, stricter than that,
no conflicting numbers are left unresolved); else the owner decides. The pass mark is the run's
own (`RunRecord.consensus_threshold`), never a default retyped here."""

from __future__ import annotations

from memory.run import RunRecord

Decision = tuple[str, list[str]]


def _stops(record: RunRecord) -> list[str]:
    """Why the run could not answer at all (bad input, stopped early, paper not found)."""
    reasons = [str(r) for r in (record.input_error, record.halted) if r]
    if record.target_status in ("not_found", "unavailable"):
        reasons.append(record.target_note or "target paper not found")
    return reasons


def _shortfalls(record: RunRecord) -> list[str]:
    reasons: list[str] = []
    if not record.passes_tribunal:
        reasons.append(
            f"tribunal consensus {record.consensus:.2f} < {record.consensus_threshold:g}"
        )
    if not record.verified():
        reasons.append("no claim is verified by another source")
    uncovered = record.uncovered()
    if uncovered:
        reasons.append(
            "facets not covered by any retrieved source: "
            + "; ".join(f"{c.facet} '{c.value}'" for c in uncovered)
        )
    reasons += [f"unresolved conflict: {c.note}" for c in record.conflicts]
    if not record.claims:
        reasons.append("no claim bearing on the question was extracted")
    return reasons


def decide(record: RunRecord) -> Decision:
    """The policy and its reasons: every reason to escalate, or the four that allow approval."""
    reasons = list(dict.fromkeys(_stops(record) + _shortfalls(record)))
    if reasons:
        return "ESCALATE_TO_OWNER", reasons
    return "AUTO_APPROVE", [
        f"consensus {record.consensus:.2f} ≥ {record.consensus_threshold:g}",
        f"{len(record.verified())} claim(s) verified by another source",
        "all facets covered",
        "no conflicting numbers",
    ]
