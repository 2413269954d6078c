"""The report.md of a version the watch recorded: the claim's row marked, a Corrections
section appended once, later entries after earlier ones, the text above otherwise unchanged."""

from __future__ import annotations

from agents.amendment import HEADING, Applied, amended_markdown
from agents.reverify import StatusChange
from memory.models import Claim, DocVerdict, Paper, Verification

TABLE = (
    "# Report\n\n## 6 Extracted Claims\n\n"
    "| ID | Claim | Source | Location | Verified | Verdict confidence | Evidence |\n"
    "|---|---|---|---|---|---|---|\n"
    "| C1 | SMoES reduces TTFT a \\| b | [2605.00001](u) | Abstract | × | no source decides | — |\n"
    "| C2 | Soft routing drops TTFT | [2605.00002](u) | Abstract | ✓ | support 0.82 | — |\n"
)


def _change(claim_id: str, before: str, status: str, labels: list[str]) -> StatusChange:
    claim = Claim(id=claim_id, text="t", quote="t", source_id="2605.00001")
    evidence = [DocVerdict(doc_id=f"d{i}", label=lab, confidence=0.7, rationale=[0])  # type: ignore[arg-type]
                for i, lab in enumerate(labels)]  # fmt: skip
    after = Verification(claim_id=claim_id, status=status, confidence=0.7, method="m",  # type: ignore[arg-type]
                         evidence=evidence)  # fmt: skip
    paper = Paper(arxiv_id="2607.01234", version=1, title="Later", abstract="x")
    return StatusChange(claim, before, after, paper, ("It is slower.",), ("Abstract",))


def test_rows_are_marked_and_the_section_grows_in_order() -> None:
    first = Applied(_change("C1", "unverified", "contradicted", ["CONTRADICT"]),
                    {"seq": 1, "at": "2026-07-15T10:00:00+00:00"})  # fmt: skip
    v2 = amended_markdown(TABLE, [first])
    assert v2 is not None
    rows = {line.split(" | ")[0]: line for line in v2.splitlines() if line.startswith("| C")}
    # the escaped pipe inside C1's claim cell is not a cell boundary
    assert rows["| C1"] == (
        "| C1 | SMoES reduces TTFT a \\| b | [2605.00001](u) | Abstract "
        "| ✗ contradicted (was unverified; correction #1) | no source decides | — |"
    )
    assert "| ✓ | support 0.82 |" in rows["| C2"]  # untouched
    assert v2.startswith(TABLE.split("| C1")[0])
    assert (
        "- 2026-07-15T10:00:00+00:00, correction #1, claim C1: unverified → contradicted. "
        'Evidence: arXiv 2607.01234v1 (Later): "It is slower." (Abstract).'
    ) in v2
    second = Applied(_change("C2", "verified", "verified", ["SUPPORT", "CONTRADICT"]),
                     {"seq": 2, "at": "2026-07-16T10:00:00+00:00"})  # fmt: skip
    v3 = amended_markdown(v2, [second])
    assert v3 is not None and v3.count(HEADING) == 1
    assert v3.index("correction #1,") < v3.index("correction #2,")
    assert "| ✓ contested (correction #2) |" in v3
    assert "claim C2: verified, now contested. Still verified by d0; contradicted by" in v3


def test_no_markdown_or_no_change_keeps_the_text() -> None:
    assert amended_markdown(None, []) is None
    assert amended_markdown(TABLE, []) == TABLE
