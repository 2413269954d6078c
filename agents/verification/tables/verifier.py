"""The table-claim verifier: the deterministic core's checks feed the shipped model, which
gives the label and a calibrated confidence; the verdict keeps the checks and their cells.
An optional LLM may propose one extra check (cells and an operation); the core runs it on
the table and it enters the model's evidence like any other check. The LLM never labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from agents.verification.artifact_io import write_artifact
from agents.verification.tables.core import Analysis, analyse, analyse_claim, inputs
from agents.verification.tables.data import LABELS, TWO_CLASS, TableClaim
from agents.verification.tables.features import FEATURES
from agents.verification.tables.model import TableModel
from agents.verification.tables.verdict import TableVerdict
from memory.errors import UserError
from memory.fulltext.model import Table

ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "scitab_verifier.joblib"
TRAIN_HINT = "rebuild it with `sovereign eval train-scitab`"


def load_model(path: Path | str | None = None) -> TableModel:
    """The shipped (or given) artifact, checked to match this code's feature list."""
    p = Path(path) if path is not None else ARTIFACT
    if not p.exists():
        raise UserError(f"table verifier model {p} is missing; {TRAIN_HINT}")
    try:
        obj = joblib.load(p)
    except Exception as exc:  # built by an incompatible scikit-learn, truncated file
        raise UserError(
            f"cannot load table verifier model {p} ({type(exc).__name__}); {TRAIN_HINT}"
        ) from exc
    if not isinstance(obj, TableModel):
        raise UserError(f"{p} is not a sovereign table verifier artifact")
    if tuple(obj.features) != FEATURES:
        raise UserError(f"table verifier model {p} was built for other features; {TRAIN_HINT}")
    return obj


def save_model(model: TableModel, path: Path | str | None = None) -> Path:
    """The same model, the same bytes (`artifact_io`); `joblib.load` reads it."""
    return write_artifact(model, Path(path) if path is not None else ARTIFACT)


@dataclass
class TableVerifier:
    """`verify(claim, table)` -> TableVerdict. `llm` (a ChatBackend) is optional."""

    model: TableModel
    name: str = "default"
    llm: Any = None
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | str | None = None, llm: Any = None) -> TableVerifier:
        model = load_model(path)
        return cls(model, llm=llm, meta=dict(model.meta))

    def verify(self, claim: str, table: Table) -> TableVerdict:
        return self.decide([analyse(claim, table)])[0]

    def verify_claims(self, claims: Sequence[TableClaim]) -> list[TableVerdict]:
        """A batch of SciTab claims (one model call for all of them)."""
        return self.decide([analyse_claim(c) for c in claims])

    def decide(self, analyses: list[Analysis]) -> list[TableVerdict]:
        notes: list[list[str]] = [[] for _ in analyses]
        origins = ["deterministic"] * len(analyses)
        if self.llm is not None:
            from agents.verification.tables.llm import add_llm_check

            for i, a in enumerate(analyses):
                origins[i], notes[i] = add_llm_check(self.llm, a)
        x = inputs(analyses)
        p3 = self.model.proba3(x)
        p2 = self.model.proba2(x)
        return [_verdict(a, p3[i], p2[i], origins[i], notes[i]) for i, a in enumerate(analyses)]


def _verdict(
    a: Analysis, p3: np.ndarray, p2: np.ndarray, origin: str, notes: list[str]
) -> TableVerdict:
    k3, k2 = int(np.argmax(p3)), int(np.argmax(p2))
    return TableVerdict(
        label=LABELS[k3],
        confidence=float(p3[k3]),
        probabilities={lab: float(v) for lab, v in zip(LABELS, p3, strict=True)},
        two_class=TWO_CLASS[k2],
        two_class_confidence=float(p2[k2]),
        reasoning_type=a.parsed.reasoning_type(),
        checks=a.check_views(),
        origin=origin,
        notes=notes,
    )
