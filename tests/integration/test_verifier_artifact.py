"""The shipped default verifier is what `sovereign eval train-verifier` builds from the shared
SciFact training data: the same bytes, whatever the hash seed and whether the MiniLM vectors
of the training texts are computed fresh or read from the home's cache. (Two trainings used to
write different bytes for the same model: pickle's memo follows object identity.)"""

from __future__ import annotations

import os
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn

from agents.verification.classifier import ARTIFACT, TrainedVerifier
from agents.verification.retrieval import HybridRetriever
from agents.verification.scifact import load_claims, load_corpus
from agents.verification.train import evidence_doc
from tests.conftest import run_cli, shared_file

pytestmark = pytest.mark.integration


def _train(home: Path, out: Path, hash_seed: str) -> bytes:
    env = {**os.environ, "SOVEREIGN_HOME": str(home), "PYTHONHASHSEED": hash_seed}
    proc = run_cli("eval", "train-verifier", "--output", str(out), env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out.read_bytes()


def _same_verdicts(a: TrainedVerifier, b: TrainedVerifier, n: int = 120) -> None:
    claims = load_claims(shared_file("scifact/claims_train.jsonl"))[:n]
    corpus = load_corpus(shared_file("scifact/corpus.jsonl"))
    retriever = HybridRetriever(corpus)
    for c in claims:
        docs = [evidence_doc(corpus[h.doc_id], h.score) for h in retriever.search(c.claim, 3)]
        va, vb = a.verify(c.claim, docs), b.verify(c.claim, docs)
        assert [(v.label, v.rationale) for v in va] == [(v.label, v.rationale) for v in vb]
        np.testing.assert_allclose(
            [v.confidence for v in va], [v.confidence for v in vb], rtol=0, atol=1e-9
        )


def test_shipped_verifier_is_what_the_trainer_builds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fresh = _train(home, tmp_path / "fresh.joblib", hash_seed="1")  # MiniLM computed
    cached = _train(home, tmp_path / "cached.joblib", hash_seed="2")  # MiniLM from the cache
    assert fresh == cached
    shipped = joblib.load(ARTIFACT)
    stale = "the shipped verifier is stale: run `sovereign eval train-verifier`"
    if (shipped.meta.get("sklearn"), shipped.meta.get("numpy")) == (
        sklearn.__version__,
        np.__version__,
    ):
        assert ARTIFACT.read_bytes() == fresh, stale
    else:  # another scikit-learn or numpy pickles differently: compare what it decides
        _same_verdicts(shipped, TrainedVerifier.load(tmp_path / "fresh.joblib"))
