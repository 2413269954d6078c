"""Abstract retrieval for claim verification: BM25 over title+abstract fused with dense cosine
from vector memory (reciprocal-rank fusion), so exact terms (gene names, numbers) and paraphrase
both pull a source up."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from agents.verification.bm25 import BM25
from agents.verification.scifact import CorpusDoc

RRF_K = 60
# dense: claim -> list of (doc_id, cosine), best first
DenseSearch = Callable[[str, int], list[tuple[str, float]]]


@dataclass
class Hit:
    doc_id: str
    score: float
    bm25_rank: int | None = None
    dense_rank: int | None = None


class HybridRetriever:
    """BM25 always; dense when a search function is given. `depth` candidates per side."""

    name = "hybrid"

    def __init__(
        self,
        corpus: Mapping[str, CorpusDoc],
        dense: DenseSearch | None = None,
        depth: int = 50,
        dense_weight: float = 1.0,
    ) -> None:
        self.ids = list(corpus)
        self.bm25 = BM25([corpus[i].title + " " + " ".join(corpus[i].sentences) for i in self.ids])
        self.dense = dense
        self.depth = depth
        self.dense_weight = dense_weight

    def search(self, claim: str, k: int) -> list[Hit]:
        scores = self.bm25.scores(claim)
        top = np.argsort(-scores, kind="stable")[: self.depth]
        hits: dict[str, Hit] = {}
        for r, j in enumerate(top):
            if scores[j] <= 0:
                break
            doc_id = self.ids[int(j)]
            hits[doc_id] = Hit(doc_id, 1.0 / (RRF_K + r + 1), bm25_rank=r)
        if self.dense is not None:
            for r, (doc_id, _cos) in enumerate(self.dense(claim, self.depth)):
                h = hits.setdefault(doc_id, Hit(doc_id, 0.0))
                h.dense_rank = r
                h.score += self.dense_weight / (RRF_K + r + 1)
        ranked = sorted(hits.values(), key=lambda h: (-h.score, h.doc_id))
        return ranked[:k]


class TfidfRetriever:
    """The SciFact paper's retrieval baseline: TF-IDF (unigrams+bigrams) cosine over abstracts."""

    name = "tfidf"

    def __init__(self, corpus: Mapping[str, CorpusDoc]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.ids = list(corpus)
        self.vec = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", sublinear_tf=True)
        self.matrix = self.vec.fit_transform(
            [corpus[i].title + " " + " ".join(corpus[i].sentences) for i in self.ids]
        )

    def search(self, claim: str, k: int) -> list[Hit]:
        sims = (self.matrix @ self.vec.transform([claim]).T).toarray().ravel()
        top = np.argsort(-sims, kind="stable")[:k]
        return [Hit(self.ids[int(j)], float(sims[j])) for j in top]


def retrieve_all(
    retriever: HybridRetriever | TfidfRetriever, claims: Sequence[tuple[int, str]], k: int
) -> dict[int, list[Hit]]:
    return {cid: retriever.search(text, k) for cid, text in claims}
