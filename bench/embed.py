"""Embedding and vector-memory figures on the shared data.

    python bench/embed.py                # 5,000 arXiv abstracts + SciFact (slow: ~1 h, 2 cores)
    python bench/embed.py --limit 500    # fewer arXiv papers
    python bench/embed.py --skip-arxiv   # SciFact retrieval only

Prints: local-model passages/s (title + abstract) and sentences/s; upsert latency for papers and
for their sentences (embedding and Chroma writing separated), re-upsert of unchanged papers;
query latency (single and batched, with an exclusion filter); SciFact recall@3/@10 of the
embedding model over the 5,183-abstract corpus with the train claims, beside TF-IDF's.
Every figure is measured in this run; CPU load from other processes skews the speeds."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from graph.cli.memory import read_papers  # noqa: E402
from memory.embeddings import Embedder, get_embedder  # noqa: E402
from memory.models import Paper  # noqa: E402
from memory.vector_store import Document, VectorMemory  # noqa: E402

DATA = Path(os.environ.get("SOVEREIGN_SHARED_DATA", REPO.parent / "shared" / "data"))


class TimedEmbedder:
    """Wraps an embedder and adds up the time spent embedding, so store overhead is separable."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.backend = getattr(inner, "backend", "custom")
        self.seconds = 0.0
        self.cpu_seconds = 0.0  # all threads of this process: a load-independent cost figure
        self.texts = 0

    def reset(self) -> None:
        self.seconds, self.cpu_seconds, self.texts = 0.0, 0.0, 0

    def _time(self, fn: Any, texts: Sequence[str]) -> list[list[float]]:
        start, cpu = time.perf_counter(), time.process_time()
        out: list[list[float]] = fn(texts)
        self.seconds += time.perf_counter() - start
        self.cpu_seconds += time.process_time() - cpu
        self.texts += len(texts)
        return out

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self._time(self.inner.embed_passages, texts)

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._time(self.inner.embed_queries, texts)


def progress(label: str) -> Any:
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 10 or done == total:
            last[0] = now
            print(f"  {label}: {done}/{total}", file=sys.stderr, flush=True)

    return report


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_arxiv(emb: TimedEmbedder, store: Path, limit: int) -> dict[str, Any]:
    src = DATA / "arxiv" / "arxiv_cs_daily_sample_5000.jsonl"
    papers: list[Paper] = list(itertools.islice(read_papers(src), limit))
    n_sent = sum(len(p.sentences()) for p in papers)
    print(f"arXiv: {len(papers)} papers, {n_sent} sentences", file=sys.stderr)
    mem = VectorMemory(emb, path=store, namespace="bench")
    res: dict[str, Any] = {"papers": len(papers), "sentences": n_sent}

    emb.reset()
    t = time.perf_counter()
    mem.upsert_papers(papers, sentences=False, progress=progress("papers"))
    total = time.perf_counter() - t
    res["passages_per_s"] = len(papers) / emb.seconds
    res["passages_per_cpu_s"] = len(papers) / emb.cpu_seconds
    res["upsert_papers_s"] = total
    res["upsert_papers_store_s"] = total - emb.seconds

    emb.reset()
    t = time.perf_counter()
    stats = mem.upsert_papers(papers, sentences=True, progress=progress("sentences"))
    total = time.perf_counter() - t
    assert stats.embedded == n_sent, stats  # paper records were unchanged: not embedded again
    res["sentences_per_s"] = n_sent / emb.seconds
    res["sentences_per_cpu_s"] = n_sent / emb.cpu_seconds
    res["upsert_sentences_s"] = total
    res["upsert_sentences_store_s"] = total - emb.seconds

    t = time.perf_counter()
    again = mem.upsert_papers(papers)
    res["reupsert_unchanged_s"] = time.perf_counter() - t
    assert again.embedded == 0, again

    queries = [p.sentences()[0] for p in papers[:200] if p.sentences()]
    single: list[float] = []
    for q, p in zip(queries, papers, strict=False):
        t = time.perf_counter()
        mem.query(q, k=10, exclude_sources=[p.arxiv_id])
        single.append(time.perf_counter() - t)
    res["query_p50_ms"] = 1000 * statistics.median(single)
    res["query_p95_ms"] = 1000 * pct(single, 0.95)
    t = time.perf_counter()
    mem.query_many(queries[:50], k=10, kind="paper")
    res["query_many_50_ms"] = 1000 * (time.perf_counter() - t)
    res["count"] = mem.count()
    return res


def bench_scifact(
    emb: TimedEmbedder, store: Path, claim_limit: int | None, corpus_limit: int | None
) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    corpus = [json.loads(line) for line in (DATA / "scifact" / "corpus.jsonl").open()]
    claims = [json.loads(line) for line in (DATA / "scifact" / "claims_train.jsonl").open()]
    claims = [c for c in claims if c.get("evidence")]  # claims with gold evidence documents
    if claim_limit:
        claims = claims[:claim_limit]
    if corpus_limit is not None:  # smoke runs: every gold document plus the first N others
        gold_ids = {int(d) for c in claims for d in c["evidence"]}
        others = [d for d in corpus if d["doc_id"] not in gold_ids][:corpus_limit]
        corpus = [d for d in corpus if d["doc_id"] in gold_ids] + others
    docs = [
        Document(id=str(d["doc_id"]), title=d["title"], sentences=[s for s in d["abstract"] if s])
        for d in corpus
    ]
    print(f"SciFact: {len(docs)} abstracts, {len(claims)} claims", file=sys.stderr)
    mem = VectorMemory(emb, path=store, namespace="scifact")
    emb.reset()
    mem.upsert_documents(docs, sentences=False, progress=progress("scifact corpus"))
    corpus_rate = len(docs) / emb.seconds if emb.seconds else float("nan")
    golds = [set(c["evidence"]) for c in claims]
    hits = mem.query_many([c["claim"] for c in claims], k=10, kind="paper")
    ranked_dense = [[h.source_id for h in hs] for hs in hits]

    texts = [f"{d.title} {' '.join(d.sentences)}" for d in docs]
    ids = [d.id for d in docs]
    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    matrix = vec.fit_transform(texts)
    sims = linear_kernel(vec.transform([c["claim"] for c in claims]), matrix)
    ranked_tfidf = [[ids[j] for j in row.argsort()[::-1][:10]] for row in sims]

    def recall(ranked: list[list[str]], k: int) -> float:
        return statistics.mean(
            len(g & set(r[:k])) / len(g) for g, r in zip(golds, ranked, strict=True)
        )

    return {
        "corpus": len(docs),
        "claims": len(claims),
        "corpus_passages_per_s": corpus_rate,
        "dense_recall@3": recall(ranked_dense, 3),
        "dense_recall@10": recall(ranked_dense, 10),
        "tfidf_recall@3": recall(ranked_tfidf, 3),
        "tfidf_recall@10": recall(ranked_tfidf, 10),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--limit", type=int, default=5000, help="arXiv papers to use (max 5000)")
    ap.add_argument("--claims", type=int, default=None, help="SciFact train claims to use")
    ap.add_argument(
        "--corpus", type=int, default=None, help="SciFact: gold abstracts + only N others"
    )
    ap.add_argument("--skip-arxiv", action="store_true")
    ap.add_argument("--skip-scifact", action="store_true")
    ap.add_argument("--backend", default="local", help="embedding backend (local or nim)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    emb = TimedEmbedder(get_embedder(args.backend))
    print(
        f"model {emb.model_id} ({emb.dim}-d), {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start",
        file=sys.stderr,
    )
    out: dict[str, Any] = {"model": emb.model_id, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        if not args.skip_arxiv:
            out["arxiv"] = bench_arxiv(emb, Path(tmp) / "arxiv", args.limit)
        if not args.skip_scifact:
            out["scifact"] = bench_scifact(emb, Path(tmp) / "scifact", args.claims, args.corpus)
    out["load_average_end"] = os.getloadavg()[0]

    load = out["load_average_end"]
    print(f"\nmodel: {out['model']}  (CPUs {out['cpus']}, load average at end {load:.1f})")
    if "arxiv" in out:
        a = out["arxiv"]
        print(f"arXiv sample: {a['papers']} papers, {a['sentences']} abstract sentences")
        print(
            f"  local model: {a['passages_per_s']:.1f} passages/s (title+abstract), "
            f"{a['sentences_per_s']:.1f} sentences/s (wall clock, under the load above)"
        )
        print(
            f"  per CPU-second: {a['passages_per_cpu_s']:.1f} passages, "
            f"{a['sentences_per_cpu_s']:.1f} sentences (x{os.cpu_count()} cores = idle-machine "
            "ceiling)"
        )
        print(
            f"  upsert papers:    {a['upsert_papers_s']:.1f} s total, "
            f"{a['upsert_papers_store_s']:.2f} s in Chroma"
        )
        print(
            f"  upsert sentences: {a['upsert_sentences_s']:.1f} s total, "
            f"{a['upsert_sentences_store_s']:.2f} s in Chroma"
        )
        print(f"  re-upsert unchanged (nothing embedded): {a['reupsert_unchanged_s']:.2f} s")
        print(
            f"  query k=10 with exclusion: p50 {a['query_p50_ms']:.1f} ms, "
            f"p95 {a['query_p95_ms']:.1f} ms; query_many(50) {a['query_many_50_ms']:.0f} ms"
        )
    if "scifact" in out:
        s = out["scifact"]
        print(
            f"SciFact: {s['corpus']} abstracts, {s['claims']} train claims with evidence "
            f"(corpus embedded at {s['corpus_passages_per_s']:.1f} passages/s)"
        )
        print(f"  {'':8} recall@3  recall@10")
        print(f"  {'MiniLM':8} {s['dense_recall@3']:.3f}     {s['dense_recall@10']:.3f}")
        print(f"  {'TF-IDF':8} {s['tfidf_recall@3']:.3f}     {s['tfidf_recall@10']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
