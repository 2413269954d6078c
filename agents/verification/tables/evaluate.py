"""`sovereign eval scitab`: run a table verifier over a claims file, time it (reading the
tables included, no training), and score it when the file is labelled."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agents.verification.tables import TableClaimVerifier
from agents.verification.tables.data import TableClaim, has_labels
from agents.verification.tables.metrics import Prediction, Report, report
from agents.verification.tables.verdict import TableVerdict


@dataclass
class Run:
    claims: list[TableClaim]
    verdicts: list[TableVerdict]
    seconds: float
    report: Report | None

    @property
    def claims_per_s(self) -> float:
        return len(self.claims) / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": self.report.as_dict() if self.report else None,
            "claims_per_s": self.claims_per_s,
            "predictions": [
                {"id": c.id, "gold": c.label, **v.model_dump(mode="json")}
                for c, v in zip(self.claims, self.verdicts, strict=True)
            ],
        }


def prediction(claim_id: str, v: TableVerdict) -> Prediction:
    return Prediction(
        claim_id, v.label, v.confidence, v.two_class, v.two_class_confidence, v.reasoning_type
    )


def run(verifier: TableClaimVerifier, claims: Sequence[TableClaim]) -> Run:
    t0 = time.perf_counter()
    verdicts = verifier.verify_claims(claims)
    seconds = time.perf_counter() - t0
    rep = None
    if has_labels(claims):
        preds = [prediction(c.id, v) for c, v in zip(claims, verdicts, strict=True)]
        rep = report(verifier.name, claims, preds, seconds)
    return Run(list(claims), verdicts, seconds, rep)
