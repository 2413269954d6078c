"""Trained artifacts are written so that the same model gives the same bytes: what a fitted
scikit-learn object pickles to must not depend on which equal strings happen to be one
object, on memory addresses, or on the hash seed."""

from __future__ import annotations

import gzip
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from agents.verification.artifact_io import canonical, write_artifact
from tests.conftest import REPO

TEXTS = ["a rises b", "a lowers b", "c binds d", "c does not bind d"] * 5
LABELS = [True, False, True, False] * 5


def _hgb(scoring: str) -> HistGradientBoostingClassifier:
    x = np.arange(40, dtype=float).reshape(20, 2)
    return HistGradientBoostingClassifier(scoring=scoring, max_iter=5, random_state=0).fit(
        x, LABELS
    )


def test_equal_strings_that_are_different_objects_write_the_same_bytes(tmp_path: Path) -> None:
    a, b = "".join(["lo", "ss"]), "".join(["lo", "ss"])
    assert a == b and a is not b
    one, two = {"loss": a, "scoring": a}, {"loss": a, "scoring": b}
    assert pickle.dumps(one, protocol=4) != pickle.dumps(two, protocol=4)  # a back-reference
    assert (
        write_artifact(one, tmp_path / "1").read_bytes()
        == write_artifact(two, tmp_path / "2").read_bytes()
    )


def test_a_fitted_model_writes_the_same_bytes_however_its_strings_were_made(
    tmp_path: Path,
) -> None:
    # the case that made two trainings differ: scoring='loss' the key's own string, or a copy
    shared = _hgb(sys.intern("loss"))
    copied = _hgb("".join(["lo", "ss"]))
    a = write_artifact(shared, tmp_path / "a.pkl.gz").read_bytes()
    b = write_artifact(copied, tmp_path / "b.pkl.gz").read_bytes()
    assert a == b


def test_memory_addresses_are_not_written(tmp_path: Path) -> None:
    one = make_pipeline(CountVectorizer(stop_words=["x"]), LogisticRegression()).fit(TEXTS, LABELS)
    two = make_pipeline(CountVectorizer(stop_words=["x"]), LogisticRegression()).fit(TEXTS, LABELS)
    assert pickle.dumps(one) != pickle.dumps(two)  # `_stop_words_id` is id() of the list
    assert (
        write_artifact(one, tmp_path / "1").read_bytes()
        == write_artifact(two, tmp_path / "2").read_bytes()
    )


def test_written_artifact_predicts_as_the_model_and_leaves_it_untouched(tmp_path: Path) -> None:
    model = make_pipeline(CountVectorizer(stop_words=["x"]), LogisticRegression())
    model.fit(TEXTS, LABELS)
    before = model.steps[0][1].__dict__.get("_stop_words_id")
    path = write_artifact(model, tmp_path / "m.pkl.gz")
    assert model.steps[0][1].__dict__.get("_stop_words_id") == before
    back = pickle.loads(gzip.decompress(path.read_bytes()))
    np.testing.assert_array_equal(back.predict_proba(TEXTS), model.predict_proba(TEXTS))


def test_a_set_is_refused() -> None:
    with pytest.raises(ValueError, match="hash order"):
        canonical({"terms": {"b", "a"}})


_TRAIN = """
import sys
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from agents.verification.artifact_io import write_artifact
texts = [t for t in {"a rises b", "a lowers b", "c binds d", "c does not bind d"}] * 5
texts.sort()  # the set above iterates in hash order; the training data must not
labels = ["lowers" not in t and "not" not in t for t in texts]
write_artifact(make_pipeline(CountVectorizer(), LogisticRegression()).fit(texts, labels),
               __import__("pathlib").Path(sys.argv[1]))
"""


def test_two_processes_with_other_hash_seeds_write_the_same_bytes(tmp_path: Path) -> None:
    out = []
    for seed in ("1", "2"):
        path = tmp_path / f"{seed}.pkl.gz"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        subprocess.run([sys.executable, "-c", _TRAIN, str(path)], check=True, env=env)
        out.append(path.read_bytes())
    assert out[0] == out[1]
