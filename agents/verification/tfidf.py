"""The seed system's verifier, kept faithfully as the baseline: TF-IDF cosine (unigrams and
bigrams) between the claim and each source, SUPPORT at or above a fixed threshold. It cannot say
CONTRADICT, and its 'confidence' is a raw cosine, not a probability (see its ECE in the bench)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from memory.models import DocVerdict, EvidenceDoc, Label

DEFAULT_THRESHOLD = 0.15


class TfidfVerifier:
    """Cosine >= threshold -> SUPPORT, else NOT_ENOUGH_INFO; rationale = sentences >= threshold."""

    name = "tfidf"

    def __init__(self, threshold: float | None = None) -> None:
        # the graph passes Settings.tfidf_threshold; without one, the seed's constant
        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)

    def verify(self, claim: str, docs: Sequence[EvidenceDoc]) -> list[DocVerdict]:
        if not docs:
            return []
        texts = [" ".join(d.sentences) for d in docs]
        vec = TfidfVectorizer(ngram_range=(1, 2))
        try:
            vec.fit([claim, *texts])
        except ValueError:  # empty vocabulary: nothing to compare
            return [
                DocVerdict(doc_id=d.doc_id, label="NOT_ENOUGH_INFO", confidence=0.0) for d in docs
            ]
        claim_v = vec.transform([claim])
        doc_sims = cosine_similarity(claim_v, vec.transform(texts))[0]
        out: list[DocVerdict] = []
        for doc, sim in zip(docs, doc_sims, strict=True):
            score = float(np.clip(sim, 0.0, 1.0))
            if doc.sentences:
                sent_sims = cosine_similarity(claim_v, vec.transform(doc.sentences))[0]
                rationale = [i for i, s in enumerate(sent_sims) if s >= self.threshold]
            else:
                rationale = []
            label: Label = "SUPPORT" if score >= self.threshold else "NOT_ENOUGH_INFO"
            out.append(
                DocVerdict(
                    doc_id=doc.doc_id,
                    label=label,
                    confidence=score,
                    rationale=rationale if label == "SUPPORT" else [],
                )
            )
        return out
