"""SciFact bench: the tfidf baseline vs the default verifier, by grouped 5-fold cross-validation
inside claims_train (claims sharing an abstract stay in one fold). For each fold the default is
trained on the other four folds exactly as `sovereign eval train-verifier` trains the shipped
model, then retrieves and verifies the held-out claims. Metrics are pooled over the folds.

The stance head is cross-fitted: one head per fold, trained (in seconds) without that fold's
claims, and a claim is only ever read by the head that never saw it, both when the verifier's
second stage trains and when the fold's held-out claims are verified. Training-sentence
embeddings and pair-model outputs are cached under $SOVEREIGN_HOME; each fold's held-out claims
are verified with empty caches and freshly loaded models, so claims/s includes MiniLM's cost.

    python bench/scifact.py [--claims FILE] [--corpus FILE] [--no-dense] [--no-stance] [--k K]
        [--dense-sents N] [--nli PATH [--nli-labels L]] [--llm-judge [--llm-limit N]]
        [--train-hybrid] [--json OUT]

--nli adds a column: the default with the NLI slot's model (an exported ONNX pair classifier);
--llm-judge adds one for the LLM stance judge over the default (the LLM of the settings).
Dense retrieval uses the corpus's own vector-memory namespace (indexed on first use, ~6+ min
on 2 cores); --no-dense uses BM25 only."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.verification.cache import cache_path
from agents.verification.dense import DENSE_SENTS, SentenceEmbeddings
from agents.verification.evaluate import (
    EvalResult,
    dense_search,
    format_table,
    index_corpus,
    progress,
    run,
    score,
    vector_memory,
)
from agents.verification.retrieval import HybridRetriever, TfidfRetriever
from agents.verification.scifact import ClaimRecord, CorpusDoc, folds, load_claims, load_corpus
from agents.verification.stance import PairEncoder, PairModelSpec
from agents.verification.stance_head import cross_fitted
from agents.verification.tfidf import TfidfVerifier
from agents.verification.train import TRAIN_K, candidate_pairs, fit, fit_idf
from graph.cli.verifier import _path
from graph.settings import load_settings


def cross_validate(
    name: str,
    claims: Sequence[ClaimRecord],
    corpus: dict[str, CorpusDoc],
    retriever: HybridRetriever,
    args: argparse.Namespace,
    nli: PairModelSpec | None = None,
    judge_llm: Any = None,
) -> EvalResult:
    """Pooled grouped-CV result of the default (with the stance model unless --no-stance, the
    NLI slot's model when `nli`, the LLM judge over it when `judge_llm`)."""
    settings = load_settings()
    home = settings.home
    by_id = {c.id: c for c in claims}
    # training candidates: BM25, as `sovereign eval train-verifier` draws them (--train-hybrid:
    # the evaluation's own retriever)
    train_ret = retriever if getattr(args, "train_hybrid", False) else HybridRetriever(corpus)
    idf = fit_idf(corpus)
    train_embed = SentenceEmbeddings(cache_path("minilm", home))  # training sentences, on disk
    split = folds(claims)
    stance = None if args.no_stance else cross_fitted(claims, corpus, split, train_embed)
    slot = PairEncoder(nli, cache_path("nli", home)) if nli else None
    models = [m for m in (stance, slot) if m is not None]
    pooled = EvalResult(name, retriever.name, len(claims), args.k)
    for f, test_ids in enumerate(split):
        held = set(test_ids)
        train = [c for c in claims if c.id not in held]
        pairs = [
            p
            for c in train
            for p in candidate_pairs(c, corpus, train_ret.search(c.claim, TRAIN_K), TRAIN_K, True)
        ]
        verifier = fit(
            pairs, idf, embed=train_embed, pair_models=models, dense_sents=args.dense_sents
        )
        verifier.embeddings = SentenceEmbeddings()  # cold per fold: claims/s pays for MiniLM
        # ... and the fold's own stance head, never trained on its claims, reads the same vectors
        cold = [stance.for_fold(f).with_embed(verifier.embeddings)] if stance else []
        verifier.encoders = cold + ([PairEncoder(nli)] if nli else [])
        test = [by_id[i] for i in test_ids]
        if judge_llm is not None:
            from agents.verification.judge import LLMStanceJudge

            test = test[: max(0, args.llm_limit - len(pooled.predictions))]
            if not test:
                continue
            r = run(test, corpus, LLMStanceJudge(verifier, judge_llm), retriever, k=args.k,
                    say=lambda _m: None)  # fmt: skip
        else:
            r = run(test, corpus, verifier, retriever, k=args.k, say=lambda _m: None)
        pooled.predictions.update(r.predictions)
        pooled.retrieved.update(r.retrieved)
        pooled.seconds += r.seconds
        progress(f"{name} fold {f + 1}/5: {len(test)} held-out claims, {r.claims_per_s:.1f}/s")
    scored = [c for c in claims if c.id in pooled.predictions]
    pooled.n_claims = len(scored)
    pooled.claims_per_s = len(scored) / pooled.seconds if pooled.seconds else 0.0
    score(pooled, scored)
    return pooled


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--claims")
    ap.add_argument("--corpus")
    ap.add_argument("--no-dense", action="store_true", help="BM25-only retrieval for default")
    ap.add_argument("--no-stance", action="store_true", help="default without its stance model")
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument(
        "--dense-sents",
        type=int,
        default=DENSE_SENTS,
        help=f"sentences per source embedded for MiniLM features (0: none; default {DENSE_SENTS})",
    )
    ap.add_argument("--nli", help="NLI slot: an exported ONNX pair classifier (file or folder)")
    ap.add_argument(
        "--nli-labels", help="its output labels in order, e.g. contradiction,entailment,neutral"
    )
    ap.add_argument(
        "--train-hybrid", action="store_true", help="train on hybrid-retrieved candidates"
    )
    ap.add_argument("--llm-judge", action="store_true", help="also the LLM stance judge")
    ap.add_argument("--llm-limit", type=int, default=200, help="claims the LLM judge reads")
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()
    claims = load_claims(_path(args.claims, "claims_train.jsonl"))
    corpus = load_corpus(_path(args.corpus, "corpus.jsonl"))

    progress(f"tfidf baseline on {len(claims)} claims")
    results = [run(claims, corpus, TfidfVerifier(), TfidfRetriever(corpus), k=args.k)]
    if args.no_dense:
        retriever = HybridRetriever(corpus)
        retriever.name = "bm25"
    else:
        memory = vector_memory(load_settings(), corpus)
        index_corpus(memory, corpus)
        retriever = HybridRetriever(corpus, dense=dense_search(memory))
    results.append(cross_validate("default", claims, corpus, retriever, args))
    if args.nli:
        spec = PairModelSpec.from_path(args.nli, args.nli_labels)
        results.append(cross_validate("default+nli", claims, corpus, retriever, args, nli=spec))
    if args.llm_judge:
        from agents.llm.client import make_llm

        llm = make_llm(load_settings().llm_config())
        if llm is None:
            progress("--llm-judge: no LLM configured (SOVEREIGN_LLM_BASE_URL); skipped")
        else:
            results.append(
                cross_validate("llm-judge", claims, corpus, retriever, args, judge_llm=llm)
            )

    print(format_table(results))
    lo = {r.verifier: r.metrics["abstract:label_only"]["f1"] for r in results}
    print(
        f"\nabstract label-only F1: default {lo['default']:.3f} vs tfidf {lo['tfidf']:.3f} "
        f"(+{lo['default'] - lo['tfidf']:.3f}); target: >= 0.52 at >= 5 claims/s"
    )
    if args.json_out:
        keep = ("verifier", "retriever", "n_claims", "k", "metrics", "retrieval_recall", "ece")
        out = [{k: v for k, v in r.as_dict().items() if k in keep} for r in results]
        for o, r in zip(out, results, strict=True):
            o["claims_per_s"] = r.claims_per_s
        Path(args.json_out).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
