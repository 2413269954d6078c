"""The SciFact evaluation pipeline: index the corpus in vector memory (once, persistent),
retrieve abstracts per claim (hybrid BM25 + dense for the default, TF-IDF for the baseline),
verify, and score with the official metrics, ECE and throughput."""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agents.verification.base import Verifier
from agents.verification.calibration import expected_calibration_error
from agents.verification.retrieval import DenseSearch, Hit, HybridRetriever, TfidfRetriever
from agents.verification.scifact import (
    ClaimRecord,
    CorpusDoc,
    DocPrediction,
    abstract_level,
    has_labels,
    recall_at_k,
    sentence_level,
)
from agents.verification.train import evidence_doc
from memory.vector_store import StoreSettings, VectorMemory

NAMESPACE = "scifact"
RECALL_KS = (1, 3, 5, 10)


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def corpus_namespace(corpus: Mapping[str, CorpusDoc]) -> str:
    """One vector-memory namespace per corpus, named by a hash of its ids and texts: the dense
    retriever then only returns ids of the corpus being evaluated (one shared namespace held
    the first corpus indexed, and a second corpus's run looked up the first's ids)."""
    h = hashlib.sha256()
    for doc_id in sorted(corpus):
        d = corpus[doc_id]
        h.update("\x1e".join([doc_id, d.title, *d.sentences]).encode("utf-8") + b"\x1d")
    return f"{NAMESPACE}-{h.hexdigest()[:12]}"


def vector_memory(settings: StoreSettings, corpus: Mapping[str, CorpusDoc]) -> VectorMemory:
    """The persistent namespace of vector memory for this corpus under $SOVEREIGN_HOME."""
    return VectorMemory.from_settings(settings, namespace=corpus_namespace(corpus))


def index_corpus(
    memory: Any, corpus: Mapping[str, CorpusDoc], say: Callable[[str], None] = progress
) -> None:
    """Upsert every abstract (paper records only: 50k sentence embeddings would cost an hour
    on 2 cores); unchanged abstracts are skipped by content hash, so re-runs are cheap."""
    from memory.vector_store import Document

    have = memory.count().get("papers", 0)
    if have >= len(corpus):
        say(f"vector memory: {have} SciFact abstracts already indexed")
        return
    say(f"vector memory: indexing {len(corpus)} abstracts (once; ~6 min on 2 cores)")
    docs = [
        Document(id=d.doc_id, title=d.title, sentences=[s for s in d.sentences if s.strip()])
        for d in corpus.values()
    ]
    last = [0.0]

    def report(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 10 or done == total:
            last[0] = time.monotonic()
            say(f"  embedded {done}/{total}")

    memory.upsert_documents(docs, sentences=False, progress=report)


def dense_search(memory: Any, corpus: Mapping[str, CorpusDoc] | None = None) -> DenseSearch:
    """Dense hits from vector memory; with `corpus`, ids outside it are dropped (a namespace
    shared with another corpus must never yield a source this evaluation cannot read)."""

    def search(claim: str, k: int) -> list[tuple[str, float]]:
        hits = [(p.source_id, p.score) for p in memory.query(claim, k, kind="paper")]
        return hits if corpus is None else [h for h in hits if h[0] in corpus]

    return search


@dataclass
class EvalResult:
    verifier: str
    retriever: str
    n_claims: int
    k: int
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    recall: dict[str, float] = field(default_factory=dict)
    ece: float = 0.0
    claims_per_s: float = 0.0
    predictions: dict[int, dict[str, DocPrediction]] = field(default_factory=dict)
    retrieved: dict[int, list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "verifier": self.verifier,
            "retriever": self.retriever,
            "n_claims": self.n_claims,
            "k": self.k,
            "metrics": self.metrics,
            "retrieval_recall": self.recall,
            "ece": self.ece,
            "claims_per_s": self.claims_per_s,
            "predictions": {
                str(cid): {
                    d: {"label": p.label, "sentences": p.sentences, "confidence": p.confidence}
                    for d, p in docs.items()
                }
                for cid, docs in self.predictions.items()
            },
        }


def run(
    claims: Sequence[ClaimRecord],
    corpus: Mapping[str, CorpusDoc],
    verifier: Verifier,
    retriever: HybridRetriever | TfidfRetriever,
    k: int = 3,
    say: Callable[[str], None] = progress,
) -> EvalResult:
    """Retrieve k abstracts per claim, verify them, score. Timing covers retrieval and
    verification only (indexing is one-off)."""
    preds: dict[int, dict[str, DocPrediction]] = {}
    retrieved: dict[int, list[str]] = {}
    depth = max(k, *RECALL_KS)
    t0 = time.perf_counter()
    last = t0
    for n, c in enumerate(claims, 1):
        hits: list[Hit] = retriever.search(c.claim, depth)
        retrieved[c.id] = [h.doc_id for h in hits]
        docs = [evidence_doc(corpus[h.doc_id], h.score) for h in hits[:k]]
        verdicts = verifier.verify(c.claim, docs)
        preds[c.id] = {}
        for v in verdicts:
            preds[c.id][v.doc_id] = DocPrediction(v.label, list(v.rationale), v.confidence)
        if time.perf_counter() - last > 10:
            last = time.perf_counter()
            say(f"  {n}/{len(claims)} claims")
    elapsed = time.perf_counter() - t0
    res = EvalResult(verifier.name, retriever.name, len(claims), k, predictions=preds)
    res.retrieved = retrieved
    res.seconds = elapsed
    res.claims_per_s = len(claims) / elapsed if elapsed > 0 else 0.0
    score(res, claims)
    return res


def score(res: EvalResult, claims: Sequence[ClaimRecord]) -> None:
    """Fill metrics, recall@k and ECE from res.predictions / res.retrieved (labelled claims)."""
    if not has_labels(claims):
        return
    preds = res.predictions
    conf: list[float] = []
    correct: list[bool] = []
    for c in claims:
        for doc_id, p in preds.get(c.id, {}).items():
            gold = c.evidence.get(doc_id)
            conf.append(p.confidence)
            correct.append(p.label == (gold.label if gold else "NOT_ENOUGH_INFO"))
    a = abstract_level(claims, preds)
    s = sentence_level(claims, preds)
    res.metrics = {
        f"{level}:{name}": {"precision": m.precision, "recall": m.recall, "f1": m.f1}
        for level, ms in (("abstract", a), ("sentence", s))
        for name, m in ms.items()
    }
    res.recall = {f"recall@{kk}": recall_at_k(claims, res.retrieved, kk) for kk in RECALL_KS}
    res.ece = expected_calibration_error(conf, correct)


def format_table(results: Sequence[EvalResult]) -> str:
    """One column per verifier, one row per metric."""
    if not results:
        return ""
    rows: list[tuple[str, list[str]]] = []
    keys = list(results[0].metrics)
    for key in keys:
        for part in ("precision", "recall", "f1"):
            rows.append(
                (f"{key} {part[0].upper()}", [f"{r.metrics[key][part]:.3f}" for r in results])
            )
    for key in results[0].recall:
        rows.append((key, [f"{r.recall[key]:.3f}" for r in results]))
    if keys:
        rows.append(("ECE (printed confidence)", [f"{r.ece:.3f}" for r in results]))
    rows.append(("claims/s", [f"{r.claims_per_s:.1f}" for r in results]))
    return metric_table([f"{r.verifier} ({r.retriever})" for r in results], rows, min_width=8)


def metric_table(columns: list[str], rows: list[tuple[str, list[str]]], min_width: int) -> str:
    """Rows of formatted figures under one column per verifier, names left, figures right."""
    names = ["metric", *(name for name, _ in rows)]
    width = max(len(n) for n in names)
    cols = [max(len(h), min_width) for h in columns]

    def line(name: str, cells: list[str]) -> str:
        return (
            name.ljust(width)
            + "  "
            + "  ".join(c.rjust(w) for c, w in zip(cells, cols, strict=True))
        )

    return "\n".join([line("metric", columns), *(line(name, vals) for name, vals in rows)])
