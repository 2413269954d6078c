"""The project's own stance model: a logistic head over MiniLM pair features, trained by
`sovereign eval train-stance` (scikit-learn, deterministic) and shipped as a small JSON file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agents.verification.dense import DIM, SentenceEmbeddings
from agents.verification.scifact import ClaimRecord, CorpusDoc, GoldDoc
from agents.verification.stance import LABELS
from agents.verification.stance_head import (
    HEAD_FILE,
    StanceHead,
    cross_fitted,
    examples,
    fit_head,
    pair_features,
)
from memory.errors import UserError

CLAIM = "Metformin reduces the incidence of type 2 diabetes in adults with prediabetes."
SUPPORT = "Metformin reduced the incidence of type 2 diabetes by 31% compared with placebo."
UNRELATED = "The telescope recorded a supernova in a neighbouring galaxy."


class WordEmbedder:
    """A deterministic stand-in: a bag of hashed words, so texts sharing words are close."""

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        out = []
        for t in texts:
            v = np.zeros(DIM)
            for w in t.lower().split():
                v[sum(map(ord, w)) % DIM] += 1.0
            out.append((v / (np.linalg.norm(v) or 1.0)).tolist())
        return out


def toy_data() -> tuple[list[ClaimRecord], dict[str, CorpusDoc]]:
    """Six claims, each with one abstract: sentence 0 supports or contradicts (by its wording),
    sentence 1 is on another subject."""
    claims, corpus = [], {}
    for i in range(6):
        label = "SUPPORT" if i % 2 else "CONTRADICT"
        verb = "increases" if i % 2 else "decreases"
        doc = CorpusDoc(
            str(100 + i),
            f"study {i}",
            [f"drug{i} {verb} marker{i} levels", f"weather{i} was mild in spring"],
        )
        corpus[doc.doc_id] = doc
        gold = {doc.doc_id: GoldDoc(label, [frozenset({0})])}
        claims.append(ClaimRecord(i, f"drug{i} increases marker{i} levels", gold, [doc.doc_id]))
    return claims, corpus


def test_the_shipped_head_is_small_and_documented() -> None:
    assert HEAD_FILE.is_file() and HEAD_FILE.stat().st_size < 2 * 2**20
    head = StanceHead.load()
    assert head.coef.shape == (3, 4 * DIM) and head.meta["examples"]["SUPPORT"] > 0
    # bounded weights: near-constant MiniLM dimensions are not blown up by standardising
    assert np.abs(head.coef).max() < 100
    card = (HEAD_FILE.parent / "STANCE_MODEL_CARD.md").read_text(encoding="utf-8")
    assert "sovereign eval train-stance" in card and "Apache-2.0" in card
    assert "stance_head.json" in card


def test_shipped_head_reads_minilm_pairs() -> None:
    head = StanceHead.load(embed=SentenceEmbeddings())
    out = head([(CLAIM, SUPPORT), (CLAIM, UNRELATED)])
    assert out.shape == (2, len(LABELS))
    assert np.allclose(np.exp(out).sum(axis=1), 1.0, atol=1e-5)
    nei = LABELS.index("NOT_ENOUGH_INFO")
    assert out[1, nei] > out[0, nei]  # an off-topic sentence is more likely NEI
    assert np.array_equal(head([(CLAIM, SUPPORT)])[0], out[0])  # a pair reads the same alone


def test_examples_label_rationales_flips_and_other_sentences() -> None:
    claims, corpus = toy_data()
    data = [e for e in examples(claims, corpus) if e.claim_id == 1]
    got = {(e.claim, e.evidence, LABELS[e.label]) for e in data}
    claim, flipped = "drug1 increases marker1 levels", "drug1 decreases marker1 levels"
    assert got == {
        (claim, claim, "SUPPORT"),
        (flipped, claim, "CONTRADICT"),  # the claim's stance flipped, the label with it
        (claim, "weather1 was mild in spring", "NOT_ENOUGH_INFO"),
    }


def test_fit_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    claims, corpus = toy_data()
    emb = SentenceEmbeddings(embedder=WordEmbedder())
    a = fit_head(examples(claims, corpus), emb, c=1.0)
    b = fit_head(examples(claims, corpus), SentenceEmbeddings(embedder=WordEmbedder()), c=1.0)
    assert a.to_json() == b.to_json()
    # most hashed-word dimensions never vary here: their weights stay bounded all the same
    assert np.abs(a.coef).max() < 1e4
    path = a.save(tmp_path / "head.json")
    again = StanceHead.load(path, embed=emb)
    pairs = [("drug3 increases marker3 levels", "weather3 was mild in spring")]
    assert np.allclose(again(pairs), a(pairs), atol=1e-4)
    feats = pair_features(emb, pairs)
    assert feats.shape == (1, 4 * DIM)


def test_cross_fitted_heads_never_read_their_own_claims() -> None:
    claims, corpus = toy_data()
    emb = SentenceEmbeddings(embedder=WordEmbedder())
    folds = [[0, 1], [2, 3], [4, 5]]
    routed = cross_fitted(claims, corpus, folds, emb)
    assert len(routed.encoders) == 3 and routed.fold_of[claims[4].claim] == 2
    seen = routed.encoders[2].meta["examples"]
    assert sum(seen.values()) == len([e for e in examples(claims, corpus) if e.claim_id < 4])


def test_missing_head_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="sovereign eval train-stance"):
        StanceHead.load(tmp_path / "none.json")
