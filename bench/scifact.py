"""SciFact bench: the tfidf baseline vs the default verifier, by grouped 5-fold cross-validation
inside claims_train (claims sharing an abstract stay in one fold). For each fold the default is
trained on the other four folds exactly as `sovereign eval train-verifier` trains the shipped
model, then retrieves and verifies the held-out claims. Metrics are pooled over the folds.
Training-sentence embeddings and NLI outputs are cached under $SOVEREIGN_HOME; each fold's
held-out claims are verified with empty caches and a freshly loaded NLI model, so claims/s
includes the MiniLM and NLI costs.

    python bench/scifact.py [--claims FILE] [--corpus FILE] [--no-dense] [--no-nli] [--k K]
        [--dense-sents N] [--json OUT]

Dense retrieval uses the persistent 'scifact' vector-memory namespace (indexed on first use,
~6+ min on 2 cores); --no-dense uses BM25 only."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agents.verification.cache import cache_path
from agents.verification.classifier import DENSE_SENTS
from agents.verification.dense import SentenceEmbeddings
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
from agents.verification.nli import NliEncoder
from agents.verification.retrieval import HybridRetriever, TfidfRetriever
from agents.verification.scifact import load_claims, load_corpus
from agents.verification.tfidf import TfidfVerifier
from agents.verification.train import (
    TRAIN_K,
    candidate_pairs,
    fit,
    fit_idf,
    folds,
)
from graph.cli.verifier import _path
from graph.settings import load_settings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims")
    ap.add_argument("--corpus")
    ap.add_argument("--no-dense", action="store_true", help="BM25-only retrieval for default")
    ap.add_argument("--no-nli", action="store_true", help="default without its NLI stance head")
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument(
        "--dense-sents",
        type=int,
        default=DENSE_SENTS,
        help=f"sentences per source embedded for MiniLM features (0: none; default {DENSE_SENTS})",
    )
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()
    claims = load_claims(_path(args.claims, "claims_train.jsonl"))
    corpus = load_corpus(_path(args.corpus, "corpus.jsonl"))
    by_id = {c.id: c for c in claims}

    progress(f"tfidf baseline on {len(claims)} claims")
    base = run(claims, corpus, TfidfVerifier(), TfidfRetriever(corpus), k=args.k)

    bm25 = HybridRetriever(corpus)
    if args.no_dense:
        retriever = bm25
        retriever.name = "bm25"
    else:
        memory = vector_memory(load_settings())
        index_corpus(memory, corpus)
        retriever = HybridRetriever(corpus, dense=dense_search(memory))
    idf = fit_idf(corpus)
    home = load_settings().home
    train_embed = SentenceEmbeddings(cache_path("minilm", home))  # training sentences, on disk
    train_nli = None if args.no_nli else NliEncoder(cache_path("nli", home))
    pooled = EvalResult("default", retriever.name, len(claims), args.k)
    for f, test_ids in enumerate(folds(claims)):
        held = set(test_ids)
        train = [c for c in claims if c.id not in held]
        pairs = [
            p
            for c in train
            for p in candidate_pairs(c, corpus, bm25.search(c.claim, TRAIN_K), TRAIN_K, True)
        ]
        verifier = fit(pairs, idf, embed=train_embed, nli=train_nli, dense_sents=args.dense_sents)
        verifier.embeddings = SentenceEmbeddings()  # cold per fold: claims/s pays for MiniLM
        verifier.nli = NliEncoder() if train_nli else None  # ... and for the NLI model
        test = [by_id[i] for i in test_ids]
        r = run(test, corpus, verifier, retriever, k=args.k, say=lambda _m: None)
        pooled.predictions.update(r.predictions)
        pooled.retrieved.update(r.retrieved)
        pooled.seconds += r.seconds
        progress(f"fold {f + 1}/5: {len(test)} held-out claims, {r.claims_per_s:.1f} claims/s")
    pooled.claims_per_s = len(claims) / pooled.seconds if pooled.seconds else 0.0
    score(pooled, claims)

    print(format_table([base, pooled]))
    lo_b = base.metrics["abstract:label_only"]["f1"]
    lo_d = pooled.metrics["abstract:label_only"]["f1"]
    print(
        f"\nabstract label-only F1: default {lo_d:.3f} vs tfidf {lo_b:.3f} "
        f"(+{lo_d - lo_b:.3f}); targets: >= 0.55 and >= +0.20; >= 5 claims/s"
    )
    if args.json_out:
        keep = ("verifier", "retriever", "n_claims", "k", "metrics", "retrieval_recall", "ece")
        out = [{k: v for k, v in r.as_dict().items() if k in keep} for r in (base, pooled)]
        for o, r in zip(out, (base, pooled), strict=True):
            o["claims_per_s"] = r.claims_per_s
        Path(args.json_out).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
