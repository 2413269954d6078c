"""SciTab bench: the table verifier by grouped 5-fold cross-validation inside scitab_train
(folds grouped by paper; each fold's model trained exactly as `sovereign eval train-scitab`
trains the shipped one), beside the deterministic checks alone (no training), a majority-class
baseline and two lexical baselines (TF-IDF 1-2 grams + logistic regression over the claim and
the table's text, and over the claim alone), with the same folds. Prints 2- and 3-class
macro-F1, ECE of the printed confidence, claims/s, accuracy per reasoning type (the core's own
tagging), and a sample of the errors that remain.

    python bench/scitab.py [--claims FILE] [--errors N] [--json OUT]"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from agents.verification.evaluate import metric_table
from agents.verification.tables.core import analyse_claim
from agents.verification.tables.data import TableClaim, load_claims
from agents.verification.tables.metrics import Prediction, Report, report
from agents.verification.tables.rules import rule_label
from agents.verification.tables.train import (
    _lexical_fit,
    cross_validate,
    folds,
    labels_of,
    lexical_cv,
    majority_cv,
)
from graph.cli.verifier import scitab_claims_path

PUBLISHED = "zero-shot (paper, 2-/3-class): random 50.0/33.3, TAPEX 56.1/-, Vicuna-7B 63.6/32.5, "
PUBLISHED += "InstructGPT 68.4/41.4, GPT-4 78.2/64.8"
TYPES = ("comparison", "superlative", "difference", "aggregate", "trend", "other")


def rules_predictions(claims: Sequence[TableClaim]) -> tuple[list[Prediction], float]:
    t0 = time.perf_counter()
    out = []
    for c in claims:
        a = analyse_claim(c)
        label, conf, two, two_conf = rule_label(a)
        out.append(Prediction(c.id, label, conf, two, two_conf, a.parsed.reasoning_type()))
    return out, time.perf_counter() - t0


def claim_only_cv(claims: Sequence[TableClaim]) -> list[Prediction]:
    """TF-IDF over the claim alone (stronger than claim + table here: the words of a claim
    carry its negations and hedges; the table's words mostly dilute them)."""
    import numpy as np

    from agents.verification.tables.data import LABELS, TWO_CLASS

    texts = [c.claim for c in claims]
    y = np.array(labels_of(claims), dtype=object)
    out: dict[int, Prediction] = {}
    for test in folds(claims):
        train = np.setdiff1d(np.arange(len(claims)), test)
        p3 = _lexical_fit([texts[i] for i in train], y[train])([texts[i] for i in test])
        two = train[np.isin(y[train], TWO_CLASS)]
        p2 = _lexical_fit([texts[i] for i in two], y[two])([texts[i] for i in test])
        for row, i in enumerate(test):
            k3, k2 = int(np.argmax(p3[row])), int(np.argmax(p2[row]))
            out[int(i)] = Prediction(
                claims[i].id, LABELS[k3], float(p3[row, k3]), TWO_CLASS[k2], float(p2[row, k2])
            )
    return [out[i] for i in range(len(claims))]


def timed_cv(
    fn: Callable[[Sequence[TableClaim]], list[Prediction]], claims: Sequence[TableClaim]
) -> tuple[list[Prediction], float]:
    t0 = time.perf_counter()
    preds = fn(claims)
    return preds, time.perf_counter() - t0


def _speed(r: Report) -> str:
    """Throughput of the verifiers; the baselines' times include their training: '-'."""
    return f"{r.claims_per_s:.0f}" if r.verifier in ("default", "rules") else "-"


def table(reports: Sequence[Report]) -> str:
    rows: list[tuple[str, list[str]]] = [
        ("2-class macro-F1", [f"{r.two.macro_f1:.3f}" for r in reports]),
        ("3-class macro-F1", [f"{r.three.macro_f1:.3f}" for r in reports]),
        ("3-class accuracy", [f"{r.three.accuracy:.3f}" for r in reports]),
        ("ECE, 3-class confidence", [f"{r.three.ece:.3f}" for r in reports]),
        ("ECE, 2-class confidence", [f"{r.two.ece:.3f}" for r in reports]),
        ("claims/s (verifying only)", [_speed(r) for r in reports]),
    ]
    for kind in TYPES:
        if kind in reports[0].per_type:
            n2 = int(reports[0].per_type[kind]["n2"])
            rows.append(
                (f"acc2 {kind} (n={n2})", [f"{r.per_type[kind]['acc2']:.3f}" for r in reports])
            )
    for kind in TYPES:
        if kind in reports[0].per_type:
            n = int(reports[0].per_type[kind]["n"])
            rows.append(
                (f"acc3 {kind} (n={n})", [f"{r.per_type[kind]['acc3']:.3f}" for r in reports])
            )
    return metric_table([r.verifier for r in reports], rows, min_width=7)


def error_sample(claims: Sequence[TableClaim], preds: Sequence[Prediction], n: int) -> str:
    """A seeded sample of out-of-fold errors (3-class), with what the checks found."""
    wrong = [(c, p) for c, p in zip(claims, preds, strict=True) if c.label != p.label]
    rng = random.Random(13)
    lines = [f"{len(wrong)} of {len(claims)} claims wrong (3-class); a sample of {n}:"]
    for c, p in rng.sample(wrong, min(n, len(wrong))):
        checks = analyse_claim(c).checks
        found = "; ".join(f"{k.outcome}: {k.text}" for k in checks[:3]) or "no statement checked"
        lines.append(
            f"- gold {c.label}, predicted {p.label} ({p.confidence:.2f}), {p.reasoning_type}"
        )
        lines.append(f"  claim: {c.claim[:220]}")
        lines.append(f"  checks: {found[:220]}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--claims")
    ap.add_argument("--errors", type=int, default=12, help="errors to list (default 12)")
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()
    claims = load_claims(scitab_claims_path(args.claims))
    tags = {c.id: analyse_claim(c).parsed.reasoning_type() for c in claims}

    def tagged(preds: list[Prediction]) -> list[Prediction]:
        return [replace(p, reasoning_type=tags[p.id]) for p in preds]

    print(f"{len(claims)} claims, {len({c.group() for c in claims})} papers; grouped 5-fold CV",
          file=sys.stderr)  # fmt: skip
    default, secs = cross_validate(claims)
    rules, rsecs = rules_predictions(claims)
    major, msecs = timed_cv(majority_cv, claims)
    lex, lsecs = timed_cv(lexical_cv, claims)
    lex_claim, csecs = timed_cv(claim_only_cv, claims)
    reports = [
        report("default", claims, default, secs),
        report("rules", claims, rules, rsecs),
        report("majority", claims, tagged(major), msecs),
        report("tfidf claim+table", claims, tagged(lex), lsecs),
        report("tfidf claim", claims, tagged(lex_claim), csecs),
    ]
    print(table(reports))
    print("\n(claims/s: reading each table, parsing and checking the claim, the model; one core)")
    print(PUBLISHED)
    print("\n" + error_sample(claims, default, args.errors))
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps([r.as_dict() for r in reports], indent=1), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
