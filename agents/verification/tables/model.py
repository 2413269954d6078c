"""The trained part of the table verifier: a logistic regression over the claim's word
n-grams (TF-IDF) and the scaled evidence features of the deterministic checks. Two heads
share the inputs: a 3-class one (supports / refutes / not enough info) and a 2-class one
trained without NEI claims (SciTab scores both settings; a 2-class head trained for it beats
renormalising the 3-class probabilities). Plain scikit-learn objects, seeded, so the same
claims give the same artifact byte for byte."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from agents.verification.tables.data import LABELS, TWO_CLASS
from agents.verification.tables.features import FEATURES
from agents.verification.tables.text import normalize

SEED = 13
EVIDENCE_WEIGHT = 0.3  # scale of the dense block beside TF-IDF (grouped CV on scitab_train)
C_THREE = 1.0
C_TWO = 1.0


@dataclass
class Inputs:
    """What the model reads per claim: its text and its feature vector."""

    texts: list[str]
    dense: np.ndarray


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        preprocessor=normalize, ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float64
    )


def _head(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=5000, class_weight="balanced", random_state=SEED)


@dataclass
class TableModel:
    """Vectoriser, scaler and the two heads; `features` pins the dense column order."""

    vectorizer: Any
    scaler: Any
    three: Any
    two: Any
    features: tuple[str, ...] = FEATURES
    evidence_weight: float = EVIDENCE_WEIGHT
    meta: dict[str, Any] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the vectoriser's run-specific leftovers: `stop_words_` (a set, pickled
        in hash order) and `_stop_words_id` (an object id). Both are documented caches."""
        state = dict(self.__dict__)
        vec = copy.copy(self.vectorizer)
        for attr in ("stop_words_", "_stop_words_id"):
            vec.__dict__.pop(attr, None)
        state["vectorizer"] = vec
        return state

    def matrix(self, x: Inputs) -> csr_matrix:
        words = self.vectorizer.transform(x.texts)
        dense = csr_matrix(self.scaler.transform(x.dense) * self.evidence_weight)
        return hstack([words, dense], format="csr")

    def proba3(self, x: Inputs) -> np.ndarray:
        """P(label) in LABELS order, one row per claim."""
        p = self.three.predict_proba(self.matrix(x))
        return p[:, [list(self.three.classes_).index(lab) for lab in LABELS]]

    def proba2(self, x: Inputs) -> np.ndarray:
        """P(supports), P(refutes) from the 2-class head."""
        p = self.two.predict_proba(self.matrix(x))
        return p[:, [list(self.two.classes_).index(lab) for lab in TWO_CLASS]]


def fit(x: Inputs, labels: Sequence[str], meta: dict[str, Any] | None = None) -> TableModel:
    """Train both heads on the same inputs (the 2-class head on the non-NEI claims only)."""
    y = np.asarray(labels, dtype=object)
    vec = _vectorizer().fit(x.texts)
    scaler = StandardScaler().fit(x.dense)
    model = TableModel(vec, scaler, None, None, FEATURES, EVIDENCE_WEIGHT, dict(meta or {}))
    m = model.matrix(x)
    model.three = _head(C_THREE).fit(m, y)
    keep = np.flatnonzero(y != LABELS[2])
    model.two = _head(C_TWO).fit(m[keep], y[keep])
    return model
