"""What the table verifier returns: a label with a calibrated confidence, the probabilities
behind it, and the checks it ran with the cells each one read, so a report can show the
numbers a verdict rests on ('Table 2, row GDPL, column Agenda Match: 83.90')."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.verification.tables.data import Label
from memory.models import Origin


class UsedCell(BaseModel):
    """One cell a check read: body row and grid column, names, text, location string."""

    row: int
    column: int
    row_name: str
    column_name: str
    text: str
    location: str


class CheckView(BaseModel):
    kind: str
    text: str = Field(description="what was checked and what the table says")
    outcome: str  # holds / fails / unknown
    cells: list[UsedCell] = Field(default_factory=list)


class TableVerdict(BaseModel):
    """The verifier's answer for one claim about one table."""

    label: Label
    confidence: float = Field(ge=0.0, le=1.0, description="P(label) from the 3-class head")
    probabilities: dict[str, float]
    two_class: Label = Field(description="supports or refutes: the answer when NEI is ruled out")
    two_class_confidence: float = Field(ge=0.0, le=1.0)
    reasoning_type: str
    checks: list[CheckView] = Field(default_factory=list)
    origin: Origin = "deterministic"  # "llm" when an accepted LLM proposal added a check
    notes: list[str] = Field(default_factory=list)

    def cells(self) -> list[UsedCell]:
        """Every cell the verdict used, once, in the order the checks read them."""
        seen: dict[tuple[int, int], UsedCell] = {}
        for check in self.checks:
            for cell in check.cells:
                seen.setdefault((cell.row, cell.column), cell)
        return list(seen.values())
