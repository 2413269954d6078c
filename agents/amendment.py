"""The report.md of a version `sovereign watch` recorded after publication: the previous
version's text (never edited in place: older versions stay as stored) with each changed claim's
row in the claims table marked, and a "Corrections" section at the end that says what changed,
on what evidence and under which correction id. Without it the downloadable report would still
state the statuses the correction overturned."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agents.reporter import MARKS
from agents.reverify import StatusChange

HEADING = "## Corrections"
INTRO = (
    "Added after publication by sovereign watch. The text above is as published, except the "
    "marked rows of the claims table."
)
_CELL = re.compile(r"(?<!\\)\|")  # a cell boundary (the report escapes pipes inside cells)
VERIFIED_COLUMN = 5  # `| ID | Claim | Source | Location | Verified | ...`: index after split


@dataclass(frozen=True)
class Applied:
    """One change with the correction record that announced it (its seq and time)."""

    change: StatusChange
    correction: dict[str, Any]


def _mark(applied: Applied) -> str:
    change, seq = applied.change, applied.correction["seq"]
    if change.contested:
        return f"{MARKS['verified']} contested (correction #{seq})"
    now = MARKS.get(change.after.status, "×")
    return f"{now} (was {change.before}; correction #{seq})"


def _mark_row(line: str, applied: Applied) -> str:
    cells = _CELL.split(line)
    if len(cells) <= VERIFIED_COLUMN + 1:
        return line
    cells[VERIFIED_COLUMN] = f" {_mark(applied)} "
    return "|".join(cells)


def _evidence(change: StatusChange) -> str:
    paper = change.paper
    said = "; ".join(
        f'"{q}" ({place})' for q, place in zip(change.quotes, change.places, strict=False)
    )
    return f"arXiv {paper.versioned_id} ({paper.title})" + (f": {said}" if said else "")


def _entry(applied: Applied) -> str:
    change, corr = applied.change, applied.correction
    head = f"- {corr['at']}, correction #{corr['seq']}, claim {change.claim.id}: "
    if change.contested:
        backers = ", ".join(change.supported_by) or "an earlier source"
        return (
            head + f"verified, now contested. Still verified by {backers}; contradicted by the "
            f"later paper {_evidence(change)}."
        )
    return head + f"{change.before} → {change.after.status}. Evidence: {_evidence(change)}."


def amended_markdown(markdown: str | None, applied: Sequence[Applied]) -> str | None:
    """`markdown` with the changed claims' rows marked and one entry per change appended to
    its Corrections section (added once, at the end, so later entries follow earlier ones)."""
    if markdown is None or not applied:
        return markdown
    by_claim = {a.change.claim.id: a for a in applied}
    lines = [
        _mark_row(line, by_claim[m.group(1)])
        if (m := re.match(r"^\| (\S+) \|", line)) and m.group(1) in by_claim
        else line
        for line in markdown.split("\n")
    ]
    text = "\n".join(lines).rstrip("\n")
    if HEADING not in text.split("\n"):
        text += f"\n\n{HEADING}\n\n{INTRO}\n"
    return text + "\n" + "\n".join(_entry(a) for a in applied) + "\n"
