"""Publication policy: AUTO_APPROVE only when the tribunal passes, at least one claim is
verified by another source and every facet of the question is covered (and, stricter than that,
no conflicting numbers are left unresolved); else the owner decides."""

from __future__ import annotations

from typing import Any


def decide(state: dict[str, Any], threshold: float) -> tuple[str, list[str]]:
    reasons: list[str] = []
    if state.get("input_error"):
        reasons.append(str(state["input_error"]))
    if state.get("halted"):
        reasons.append(str(state["halted"]))
    if state.get("target_status") in ("not_found", "unavailable"):
        reasons.append(str(state.get("target_note", "target paper not found")))
    consensus = float(state.get("consensus", 0.0))
    if consensus < threshold:
        reasons.append(f"tribunal consensus {consensus:.2f} < {threshold:g}")
    verified = [v for v in state.get("verifications", []) if v["status"] == "verified"]
    if not verified:
        reasons.append("no claim is verified by another source")
    uncovered = [c for c in state.get("coverage", []) if not c["covered"]]
    if uncovered:
        reasons.append(
            "facets not covered by any retrieved source: "
            + "; ".join(f"{c['facet']} '{c['value']}'" for c in uncovered)
        )
    for conflict in state.get("conflicts", []):
        reasons.append(f"unresolved conflict: {conflict['note']}")
    if not state.get("claims"):
        reasons.append("no claim bearing on the question was extracted")
    if reasons:
        return "ESCALATE_TO_OWNER", _dedupe(reasons)
    return "AUTO_APPROVE", [
        f"consensus {consensus:.2f} ≥ {threshold:g}",
        f"{len(verified)} claim(s) verified by another source",
        "all facets covered",
        "no conflicting numbers",
    ]


def _dedupe(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
