"""Training and cross-validation of the table verifier, and the baselines it is compared
with. Folds are grouped by paper (GroupKFold, deterministic): a paper's claims share tables
and phrasing, so a claim-level split would leak. Nothing here reads a held-out file."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from agents.verification.tables.core import Analysis, analyse_claim, inputs
from agents.verification.tables.data import LABELS, TWO_CLASS, TableClaim
from agents.verification.tables.metrics import Prediction
from agents.verification.tables.model import SEED, Inputs, TableModel, fit
from agents.verification.tables.text import normalize

N_FOLDS = 5


def claims_digest(claims: Sequence[TableClaim]) -> str:
    """sha256 over the claims as read (id, claim, label, table): what the artifact saw."""
    h = hashlib.sha256()
    for c in claims:
        h.update(c.model_dump_json().encode())
    return h.hexdigest()


def folds(claims: Sequence[TableClaim], n_folds: int = N_FOLDS) -> list[np.ndarray]:
    """Test indices of each fold, grouped by paper."""
    groups = np.array([c.group() for c in claims])
    n = min(n_folds, len(set(groups)))
    idx = np.arange(len(claims))
    return [test for _, test in GroupKFold(n_splits=n).split(idx, groups=groups)]


def labels_of(claims: Sequence[TableClaim]) -> list[str]:
    return [str(c.label) for c in claims]


def build(claims: Sequence[TableClaim], extra_meta: dict[str, Any] | None = None) -> TableModel:
    """The artifact: both heads trained on every claim given."""
    with threadpool_limits(1):  # one BLAS thread: identical floats run to run
        analyses = [analyse_claim(c) for c in claims]
        meta = {
            "claims": len(claims),
            "papers": len({c.group() for c in claims}),
            "train_claims_sha256": claims_digest(claims),
            "labels": {lab: labels_of(claims).count(lab) for lab in LABELS},
            **(extra_meta or {}),
        }
        return fit(inputs(analyses), labels_of(claims), meta)


def _subset(x: Inputs, idx: np.ndarray) -> Inputs:
    return Inputs([x.texts[i] for i in idx], x.dense[idx])


def predictions(
    model: TableModel, analyses: Sequence[Analysis], ids: Sequence[str]
) -> list[Prediction]:
    x = inputs(analyses)
    p3, p2 = model.proba3(x), model.proba2(x)
    out = []
    for i, a in enumerate(analyses):
        k3, k2 = int(np.argmax(p3[i])), int(np.argmax(p2[i]))
        out.append(
            Prediction(
                ids[i],
                LABELS[k3],
                float(p3[i, k3]),
                TWO_CLASS[k2],
                float(p2[i, k2]),
                a.parsed.reasoning_type(),
            )
        )
    return out


def cross_validate(
    claims: Sequence[TableClaim], n_folds: int = N_FOLDS
) -> tuple[list[Prediction], float]:
    """Out-of-fold predictions of the verifier (trained per fold exactly as `build` trains)
    and the seconds spent verifying the held-out claims (reading tables included)."""
    out: list[Prediction | None] = [None] * len(claims)
    seconds = 0.0
    with threadpool_limits(1):
        for test in folds(claims, n_folds):
            held = set(test.tolist())
            train = [c for i, c in enumerate(claims) if i not in held]
            model = fit(inputs([analyse_claim(c) for c in train]), labels_of(train))
            t0 = time.perf_counter()
            analyses = [analyse_claim(claims[i]) for i in test]
            preds = predictions(model, analyses, [claims[i].id for i in test])
            seconds += time.perf_counter() - t0
            for i, p in zip(test, preds, strict=True):
                out[i] = p
    return [p for p in out if p is not None], seconds


# --- baselines -------------------------------------------------------------------------------


def table_text(c: TableClaim) -> str:
    """The table as words: caption, headers and every cell."""
    return " ".join([c.caption, *c.columns, *(cell for row in c.rows for cell in row)])


def majority_cv(claims: Sequence[TableClaim], n_folds: int = N_FOLDS) -> list[Prediction]:
    """The training folds' most frequent label (and most frequent of supports/refutes)."""
    out: list[Prediction | None] = [None] * len(claims)
    for test in folds(claims, n_folds):
        held = set(test.tolist())
        train = [str(c.label) for i, c in enumerate(claims) if i not in held]
        top3 = max(LABELS, key=lambda lab: (train.count(lab), -LABELS.index(lab)))
        top2 = max(TWO_CLASS, key=lambda lab: (train.count(lab), -TWO_CLASS.index(lab)))
        p3 = train.count(top3) / len(train)
        p2 = train.count(top2) / max(1, sum(train.count(lab) for lab in TWO_CLASS))
        for i in test:
            out[i] = Prediction(claims[i].id, top3, p3, top2, p2, "other")
    return [p for p in out if p is not None]


def _lexical_fit(texts: list[str], y: np.ndarray) -> Callable[[list[str]], np.ndarray]:
    vec = TfidfVectorizer(preprocessor=normalize, ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    m = LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced", random_state=SEED)
    m.fit(vec.fit_transform(texts), y)
    order = list(m.classes_)

    def proba(new: list[str]) -> np.ndarray:
        p = m.predict_proba(vec.transform(new))
        return p[:, [order.index(lab) for lab in sorted(set(y), key=LABELS.index)]]

    return proba


def lexical_cv(claims: Sequence[TableClaim], n_folds: int = N_FOLDS) -> list[Prediction]:
    """TF-IDF (1-2 grams) over claim + table text, logistic regression, same folds and heads."""
    texts = [f"{c.claim} || {table_text(c)}" for c in claims]
    y = np.array(labels_of(claims), dtype=object)
    out: list[Prediction | None] = [None] * len(claims)
    for test in folds(claims, n_folds):
        train = np.setdiff1d(np.arange(len(claims)), test)
        p3 = _lexical_fit([texts[i] for i in train], y[train])([texts[i] for i in test])
        two = train[np.isin(y[train], TWO_CLASS)]
        p2 = _lexical_fit([texts[i] for i in two], y[two])([texts[i] for i in test])
        for row, i in enumerate(test):
            k3, k2 = int(np.argmax(p3[row])), int(np.argmax(p2[row]))
            out[i] = Prediction(
                claims[i].id, LABELS[k3], float(p3[row, k3]), TWO_CLASS[k2], float(p2[row, k2])
            )
    return [p for p in out if p is not None]


def write(model: TableModel, path: Path | None = None) -> Path:
    from agents.verification.tables.verifier import save_model

    return save_model(model, path)
