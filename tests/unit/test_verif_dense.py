"""Dense (MiniLM) features of the default verifier: the embedding cache, the per-doc features,
and that the shipped artifact never carries a model session."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from agents.verification.classifier import ARTIFACT, TrainedVerifier
from agents.verification.dense import DIM, SentenceEmbeddings, dense_features
from memory.models import EvidenceDoc


class CountingEmbedder:
    """A deterministic stand-in: one-hot on the first word, so cosines are 0 or 1."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        out = []
        for t in texts:
            v = np.zeros(DIM)
            v[sum(map(ord, t.split()[0].lower())) % DIM] = 1.0
            out.append(v.tolist())
        return out


def test_cache_embeds_each_text_once_and_persists(tmp_path: Path) -> None:
    fake = CountingEmbedder()
    emb = SentenceEmbeddings(tmp_path / "c.sqlite", embedder=fake)
    a = emb(["alpha one", "beta two", "alpha one", "  "])
    assert fake.calls == [["alpha one", "beta two"]]
    assert np.allclose(a[0], a[2]) and not np.allclose(a[0], a[1])
    assert not a[3].any()  # blank text: zero vector, never sent to the model
    again = CountingEmbedder()
    b = SentenceEmbeddings(tmp_path / "c.sqlite", embedder=again)(["beta two"])
    assert again.calls == []  # read back from disk
    assert np.allclose(b[0], a[1], atol=1e-3)


class ThirdsEmbedder:
    """Values float16 cannot hold exactly (1/3, 1/7 ...)."""

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return [(np.arange(1, DIM + 1) / (3.0 * len(t))).tolist() for t in texts]


def test_fresh_and_cached_vectors_are_the_same_numbers(tmp_path: Path) -> None:
    """A model trained on a warm cache must be the model a cold one rebuilds."""
    fresh = SentenceEmbeddings(tmp_path / "c.sqlite", embedder=ThirdsEmbedder())(["abcd"])
    cached = SentenceEmbeddings(tmp_path / "c.sqlite", embedder=ThirdsEmbedder())(["abcd"])
    assert np.array_equal(fresh, cached)


def test_dense_features_follow_the_top_rationale_candidates() -> None:
    emb = SentenceEmbeddings(embedder=CountingEmbedder())
    claim = "Aspirin lowers risk."
    on = EvidenceDoc(doc_id="on", sentences=["Background text.", "Aspirin lowered risk."])
    off = EvidenceDoc(doc_id="off", sentences=["Aspirin is old.", "Unrelated result."])
    probs = [np.array([0.1, 0.9]), np.array([0.2, 0.8])]  # 'off': its aspirin sentence ranks 2nd
    f = dense_features(claim, [on, off], probs, emb, top=1)
    assert f.shape == (2, 4)
    assert f[0, 0] == 1.0 and f[1, 0] == 0.0  # only the top-1 candidate was compared
    assert f[0, 3] == 0.0 and f[1, 3] == -1.0  # distance to the best candidate
    f2 = dense_features(claim, [on, off], probs, emb, top=2)
    assert f2[1, 0] == 1.0


def test_artifact_pickles_without_the_embedding_session() -> None:
    v = TrainedVerifier.load(ARTIFACT)
    assert v.dense_sents > 0
    v.embeddings = SentenceEmbeddings(embedder=CountingEmbedder())
    clone = pickle.loads(pickle.dumps(v))
    assert clone.embeddings is None and clone.dense_sents == v.dense_sents
