"""SciTab's scores: macro-F1 over 3 classes and over 2 (NEI claims removed, the 2-class
answer used), per-class precision and recall, the confusion matrix, accuracy per reasoning
type, ECE of the printed confidence, and throughput. Written out (no scikit-learn) so the
definitions are on the page: a class never predicted and never gold is left out of the
macro average; one that is gold but never predicted scores 0."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from agents.verification.calibration import expected_calibration_error
from agents.verification.tables.data import LABELS, TWO_CLASS, TableClaim


@dataclass(frozen=True)
class Prediction:
    """One claim's answers in both settings, with the confidence printed for each."""

    id: str
    label: str
    confidence: float
    two_class: str
    two_class_confidence: float
    reasoning_type: str = "other"


@dataclass
class ClassScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Scores:
    labels: tuple[str, ...]
    n: int
    macro_f1: float
    accuracy: float
    ece: float
    per_class: dict[str, ClassScore]
    confusion: list[list[int]]  # rows: gold, columns: predicted, in `labels` order


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def confusion(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> list[list[int]]:
    index = {lab: i for i, lab in enumerate(labels)}
    m = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        if g in index and p in index:
            m[index[g]][index[p]] += 1
    return m


def per_class(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]
) -> dict[str, ClassScore]:
    out = {}
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred, strict=True))
        n_pred = sum(p == lab for p in pred)
        n_gold = sum(g == lab for g in gold)
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_gold if n_gold else 0.0
        out[lab] = ClassScore(prec, rec, _f1(prec, rec), n_gold)
    return out


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    """Mean F1 over the classes that occur in gold or predictions."""
    scores = per_class(gold, pred, labels)
    used = [lab for lab in labels if scores[lab].support or lab in pred]
    return sum(scores[lab].f1 for lab in used) / len(used) if used else 0.0


def scores(
    gold: Sequence[str], pred: Sequence[str], conf: Sequence[float], labels: Sequence[str]
) -> Scores:
    correct = [g == p for g, p in zip(gold, pred, strict=True)]
    return Scores(
        labels=tuple(labels),
        n=len(gold),
        macro_f1=macro_f1(gold, pred, labels),
        accuracy=sum(correct) / len(correct) if correct else 0.0,
        ece=expected_calibration_error(conf, correct),
        per_class=per_class(gold, pred, labels),
        confusion=confusion(gold, pred, labels),
    )


@dataclass
class Report:
    """Scores of one verifier on one claims file."""

    verifier: str
    n_claims: int
    three: Scores
    two: Scores
    claims_per_s: float
    per_type: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def by_type(
    claims: Sequence[TableClaim], preds: Sequence[Prediction]
) -> dict[str, dict[str, float]]:
    """Per reasoning type: claims, 3-class accuracy, 2-class accuracy (non-NEI claims)."""
    out: dict[str, dict[str, float]] = {}
    for kind in sorted({p.reasoning_type for p in preds}):
        pairs = [(c, p) for c, p in zip(claims, preds, strict=True) if p.reasoning_type == kind]
        two = [(c, p) for c, p in pairs if c.label in TWO_CLASS]
        out[kind] = {
            "n": float(len(pairs)),
            "acc3": sum(c.label == p.label for c, p in pairs) / len(pairs),
            "n2": float(len(two)),
            "acc2": sum(c.label == p.two_class for c, p in two) / len(two) if two else 0.0,
        }
    return out


def report(
    name: str, claims: Sequence[TableClaim], preds: Sequence[Prediction], seconds: float
) -> Report:
    """Score predictions against the claims' gold labels (all claims must be labelled)."""
    gold = [str(c.label) for c in claims]
    two_idx = [i for i, g in enumerate(gold) if g in TWO_CLASS]
    return Report(
        verifier=name,
        n_claims=len(claims),
        three=scores(gold, [p.label for p in preds], [p.confidence for p in preds], LABELS),
        two=scores(
            [gold[i] for i in two_idx],
            [preds[i].two_class for i in two_idx],
            [preds[i].two_class_confidence for i in two_idx],
            TWO_CLASS,
        ),
        claims_per_s=len(claims) / seconds if seconds > 0 else 0.0,
        per_type=by_type(claims, preds),
    )


def timed(fn: Callable[[], Sequence[Prediction]]) -> tuple[list[Prediction], float]:
    t0 = time.perf_counter()
    out = list(fn())
    return out, time.perf_counter() - t0


SHORT = {"supports": "sup", "refutes": "ref", "not enough info": "NEI"}


def _scores_lines(title: str, s: Scores) -> list[str]:
    lines = [
        f"{title}: macro-F1 {s.macro_f1:.3f}  accuracy {s.accuracy:.3f}  ECE {s.ece:.3f}  (n={s.n})"
    ]
    for lab in s.labels:
        c = s.per_class[lab]
        lines.append(
            f"  {lab:<16} P {c.precision:.3f}  R {c.recall:.3f}  F1 {c.f1:.3f}  n={c.support}"
        )
    head = "  gold \\ pred  " + " ".join(f"{SHORT[lab]:>5}" for lab in s.labels)
    lines.append(head)
    for lab, row in zip(s.labels, s.confusion, strict=True):
        lines.append(f"  {SHORT[lab]:<12} " + " ".join(f"{v:>5}" for v in row))
    return lines


def format_report(r: Report) -> str:
    lines = [f"verifier {r.verifier}: {r.n_claims} claims, {r.claims_per_s:.1f} claims/s"]
    lines += _scores_lines("3-class", r.three)
    lines += _scores_lines("2-class (NEI removed)", r.two)
    if r.per_type:
        lines.append("per reasoning type (acc3 over all, acc2 over non-NEI claims):")
        for kind, d in r.per_type.items():
            lines.append(
                f"  {kind:<12} n={int(d['n']):>4}  acc3 {d['acc3']:.3f}  "
                f"n2={int(d['n2']):>4}  acc2 {d['acc2']:.3f}"
            )
    return "\n".join(lines)
