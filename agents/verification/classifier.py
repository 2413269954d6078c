"""The default verifier: a rationale model scores every sentence of a candidate abstract, a
calibrated relevance model decides whether the abstract bears on the claim, a lexical stance
model decides SUPPORT vs CONTRADICT, and a second stage over the project's own stance head
(`stance_head`: a logistic head over MiniLM embeddings of claim and evidence; run only on
abstracts that pass relevance) decides whether they bear on it at all (an optional head over
the same passes can decide stance: `train.STANCE_HEAD`). The small scikit-learn models ship as
one artifact, the stance head's weights beside it; an exported NLI model can add its features
(the NLI slot, `stance.PairModelSpec`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import joblib
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from threadpoolctl import threadpool_limits

from agents.verification.artifact_io import write_artifact
from agents.verification.dense import SentenceEmbeddings, dense_features, head_features
from agents.verification.features import (
    DOC_FEATURES,
    Idf,
    TextView,
    bigram_coverage,
    coverage,
    cue_features,
    numbers,
    sentence_features,
    specificity_features,
    stance_text,
)
from agents.verification.stance import PairEncoder, PairModelSpec
from agents.verification.stance_head import StanceHead
from memory.errors import UserError
from memory.models import DocVerdict, EvidenceDoc, Label

ARTIFACT = Path(__file__).parent / "artifacts" / "default_verifier.joblib"
CLASSES: tuple[Label, ...] = ("SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO")
EVIDENCE_SENTS = 2  # top sentences whose text feeds the cue features
MAX_RANK = 2  # coverage ranks past this read as this (the model sees groups of any size)


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


NLI_SENTS = 3  # top rationale sentences each read against the claim by the pair models


class PairModel(Protocol):
    """What the stance rows need from a pair classifier (`stance.PairEncoder`, `CrossFitted`):
    (claim, evidence) pairs -> rows of n_scores log-probabilities then pooled_dim values."""

    @property
    def n_scores(self) -> int: ...

    @property
    def pooled_dim(self) -> int: ...

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray: ...


def block_dim(n_scores: int, pooled: int) -> int:
    """Width of one pair model's part of a stance row: the evidence pass (scores, pooled), the
    per-sentence margins in rationale order then their max, min, mean, the sentences' mean
    scores and mean pooled vector."""
    return n_scores + pooled + NLI_SENTS + 3 + n_scores + pooled


def stance_dim(models: Sequence[PairModel]) -> int:
    return sum(block_dim(m.n_scores, m.pooled_dim) for m in models) + 1


def stance_pairs(claim: str, doc: EvidenceDoc, probs: np.ndarray) -> list[tuple[str, str]]:
    """The passes for one source, claim first: the claim against the evidence text
    (`evidence_text`), then against each of its top NLI_SENTS rationale sentences."""
    order = np.argsort(-np.asarray(probs), kind="stable")[:NLI_SENTS]
    return [(claim, evidence_text(doc, probs))] + [(claim, doc.sentences[int(i)]) for i in order]


def _block(out: np.ndarray, n_scores: int) -> np.ndarray:
    """One pair model's part of a stance row from its outputs over one source's passes. The
    margin is log P(SUPPORT) - log P(CONTRADICT)."""
    whole, sents = out[0], out[1:]
    if not len(sents):  # a source with no abstract sentences: neutral sentence features
        sents = np.zeros((1, out.shape[1]), dtype=out.dtype)
    m = sents[:, 0] - sents[:, 1]
    ordered = np.pad(m, (0, NLI_SENTS - len(m)), mode="edge")  # short abstracts repeat
    spread = [m.max(), m.min(), m.mean()]
    return np.concatenate([whole, ordered, spread, sents.mean(axis=0)])


def nli_stance_rows(
    models: Sequence[PairModel],
    claims: Sequence[str],
    docs: Sequence[EvidenceDoc],
    probs: Sequence[np.ndarray],
    lexical_stance: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """Stance-head rows (`stance_dim(models)` wide), one per (claim, doc): each model's block,
    then the lexical stance logit. One call per model."""
    per_doc = [stance_pairs(c, d, p) for c, d, p in zip(claims, docs, probs, strict=True)]
    flat = [pair for pairs in per_doc for pair in pairs]
    outs = [m(flat) for m in models]
    lex = _logit(np.asarray(lexical_stance))
    rows = []
    pos = 0
    for j, pairs in enumerate(per_doc):
        parts = [_block(o[pos : pos + len(pairs)], m.n_scores) for m, o in zip(models, outs,
                 strict=True)]  # fmt: skip
        pos += len(pairs)
        rows.append(np.concatenate([*parts, [lex[j]]]))
    return np.asarray(rows, dtype=np.float64).reshape(len(per_doc), stance_dim(models))


def pooled_columns(models: Sequence[PairModel]) -> np.ndarray:
    """Mask of the pooled-vector columns in a `nli_stance_rows` row."""
    mask = []
    for m in models:
        k, p = m.n_scores, m.pooled_dim
        mask += [False] * k + [True] * p + [False] * (NLI_SENTS + 3 + k) + [True] * p
    return np.asarray([*mask, False], dtype=bool)


def pair_model_of(d: dict[str, Any], embed: SentenceEmbeddings | None = None) -> Any:
    """A pair model from its description in an artifact: the project's stance head (always the
    one beside this module, reading MiniLM vectors from `embed`) or an NLI slot model."""
    if d.get("kind") == "head":
        return StanceHead.load(embed=embed)
    return PairEncoder(spec_of(d))


def spec_of(d: dict[str, Any]) -> PairModelSpec:
    """An NLI slot model's spec from its description in an artifact."""
    if d.get("kind") == "shipped":
        raise UserError(
            "the verifier model was built for the withdrawn 22 MB stance model; rebuild it "
            "with `sovereign eval train-verifier`"
        )
    spec = PairModelSpec(
        model=Path(d["model"]),
        tokenizer=Path(d["tokenizer"]) if d.get("tokenizer") else None,
        labels=tuple(d["labels"]),
        premise_first=bool(d["premise_first"]),
        max_tokens=int(d["max_tokens"]),
        model_id=str(d["model_id"]),
        sha256=str(d.get("sha256", "")),
    )
    if not spec.model.is_file():
        raise UserError(f"the verifier's NLI model {spec.model} is missing (the NLI slot)")
    return spec


class ColumnScale(BaseEstimator, TransformerMixin):
    """Multiplies standardised columns by fixed weights: under one L2 penalty, a weight below 1
    shrinks those columns' coefficients harder."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights

    def fit(self, x: np.ndarray, y: Any = None) -> ColumnScale:
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x) * self.weights


def decisive_rows(
    rel: np.ndarray, stance_rows: np.ndarray, doc_rows: np.ndarray, best: np.ndarray
) -> np.ndarray:
    """Second-stage rows for sources that passed relevance: the relevance logit, its gap to the
    most relevant candidate of the same claim (`best`: that candidate's P(relevant); a SciFact
    claim is mostly decided by one abstract, so a runner-up on the same topic rarely is), their
    `nli_stance_rows` and the relevance model's own `doc_matrix` rows. Many such sources are on
    the claim's topic without deciding it (SciFact's NOT ENOUGH INFO claims cite one); the
    stance passes tell some of them apart, which term overlap could not."""
    return np.column_stack([_logit(rel), _logit(rel) - _logit(best), stance_rows, doc_rows])


def stance_texts(claim: str, docs: Sequence[EvidenceDoc], probs: Sequence[np.ndarray]) -> list[str]:
    c = TextView.of(claim)
    return [stance_text(c, evidence_view(d, p)) for d, p in zip(docs, probs, strict=True)]


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
                *specificity_features(c, views[j], ev, idf),
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
    head_in_relevance: bool = False  # the first pair model's `head_features` feed relevance
    # the pair models the heads read, in row order (`PairModelSpec.describe()`; "shipped" for
    # the project's stance model, which is read from beside this module whatever its path was)
    pair_models: list[dict[str, Any]] = field(default_factory=list)
    embeddings: SentenceEmbeddings | None = field(default=None, repr=False, compare=False)
    encoders: list[Any] | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["embeddings"] = None  # model sessions and caches, never part of the artifact
        state["encoders"] = None
        return state

    def describe(self) -> str:
        """One methodology line, read off this artifact (not off the docs)."""
        m = self.meta
        models = " and ".join(str(d.get("model_id", "?")) for d in self.pair_models)
        stance = (
            f"stance by {models} (the claim against its evidence and against each "
            f"of its top {NLI_SENTS} rationale sentences) with a logistic head"
            if getattr(self, "nli_head", None) is not None
            else "lexical stance model"
        )
        decides = f"a source decides when P(relevant) >= {self.label_threshold:g}"
        if getattr(self, "decisive_head", None) is not None:
            decides = (
                f"a source that passes relevance (P >= {self.label_threshold:g}) decides when a "
                f"second logistic stage over {models} (the claim against its evidence "
                f"and against each of its top {NLI_SENTS} rationale sentences) gives P >= "
                f"{self.accept_threshold:g}"
            )
        dense = " with MiniLM features" if self.dense_sents else ""
        if dense and getattr(self, "head_in_relevance", False):
            dense += " and the stance head's read of each source's top sentence"
        return (
            f"trained on {m.get('claims', '?')} SciFact claims: lexical rationale and "
            f"relevance models{dense}, {stance}; {decides}"
        )

    def pair_encoders(self) -> list[Any]:
        """The stance pair models, loaded on first use from `pair_models`."""
        if getattr(self, "encoders", None) is None:
            self.encoders = [pair_model_of(d, self.embed()) for d in self.pair_models]
        assert self.encoders is not None
        return self.encoders

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
        heads = (getattr(obj, "nli_head", None), getattr(obj, "decisive_head", None))
        if any(h is not None for h in heads):
            for d in getattr(obj, "pair_models", None) or []:
                pair_model_of(d)  # a missing stance or NLI model fails here, at load, not mid-run
            if not getattr(obj, "pair_models", None):
                raise UserError(
                    f"verifier model {p} was built for the withdrawn NLI package; rebuild it "
                    "with `sovereign eval train-verifier`"
                )
        return obj

    def save(self, path: Path | str | None = None) -> Path:
        """The same model, the same bytes (`artifact_io`); `joblib.load` reads it."""
        return write_artifact(self, Path(path) if path is not None else ARTIFACT)

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
        if dense is not None and getattr(self, "head_in_relevance", False):
            dense = np.hstack([dense, head_features(claim, docs, probs, self.pair_encoders()[0])])
        x = doc_matrix(claim, docs, probs, self.idf, stance, dense)
        rel = positive_proba(self.label_model, x)
        head = getattr(self, "nli_head", None)
        second = getattr(self, "decisive_head", None)
        gate = [int(i) for i in np.flatnonzero(rel >= self.label_threshold)]
        # the pair models run only where the decision is still open (~0.7 sources per claim)
        if (head is not None or second is not None) and gate:
            rows = nli_stance_rows(
                self.pair_encoders(),
                [claim] * len(gate),
                [docs[i] for i in gate],
                [probs[i] for i in gate],
                stance[gate],
            )
            if head is not None:
                stance = stance.copy()
                stance[gate] = positive_proba(head, rows)
            if second is not None:
                rel = rel.copy()
                best = np.full(len(gate), rel.max())
                rows = decisive_rows(rel[gate], rows, x[gate], best)
                rel[gate] = positive_proba(second, rows)
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
        return self.verdicts_from(claim, docs, probs, self.label_probs(claim, docs, probs))

    def verdicts_from(
        self,
        claim: str,
        docs: Sequence[EvidenceDoc],
        probs: Sequence[np.ndarray],
        lp: np.ndarray,
    ) -> list[DocVerdict]:
        """The verdicts from rationale and label probabilities (also the LLM judge's fallback)."""
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
