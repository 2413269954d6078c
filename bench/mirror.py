"""Benchmark of the offline arXiv mirror: ingest rate, peak RSS, query latency, and the HTTP
server's latency at 1, 20 and 200 concurrent clients (`--clients`).

Runs at the real 5k listing sample and at N synthetic records (default 1,000,000) built from
the sample's vocabulary and term frequencies: each synthetic title/abstract is a chain of
word windows cut from random real titles/abstracts, so unigram frequencies and common phrases
("mixture of experts") follow the real data. Usage:

    python bench/mirror.py [--synthetic 1000000] [--workdir DIR] [--keep] [--clients 1,20,200]

The concurrent-client figures come from `sovereign mirror serve` in a child process (its own
interpreter, as users run it) and client threads here: every client opens a new connection
per request, all clients start together, and each level sends about REQUESTS requests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memory.mirror.ingest import ingest  # noqa: E402
from memory.mirror.search import MirrorIndex  # noqa: E402

SAMPLE = (
    Path(os.environ.get("SOVEREIGN_SHARED_DATA", REPO.parent / "shared" / "data"))
    / "arxiv"
    / "arxiv_cs_daily_sample_5000.jsonl"
)

QUERIES = [
    'all:"mixture of experts" AND all:routing',
    "all:mixture of experts load balancing",
    'all:"vision-language" AND all:hallucination',
    "all:large language models reasoning",
    'ti:"diffusion models" AND abs:video',
    "all:retrieval augmented generation evaluation",
    'abs:"reinforcement learning" AND abs:"human feedback"',
    "ti:transformer AND cat:cs.CV",
    "all:graph neural networks",
    'all:"knowledge distillation" OR all:"model compression"',
    "all:instruction tuning multilingual",
    "abs:benchmark AND abs:agents AND cat:cs.AI",
    "all:sparse attention long context",
    'all:"chain of thought" ANDNOT all:vision',
    "ti:segmentation AND abs:medical",
    "all:federated learning privacy",
    "all:speech recognition low resource",
    "au:wang AND all:detection",
    "all:contrastive learning representation",
    "(all:robot OR all:robotic) AND all:manipulation",
]


REQUESTS = 400  # per concurrency level


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthesize(out: Path, n: int, seed: int = 7) -> None:
    """Write n listing-format lines whose text is stitched from windows of the real sample."""
    rng = np.random.default_rng(seed)
    real = [json.loads(line) for line in SAMPLE.open(encoding="utf-8")]
    vocab: dict[str, int] = {}

    def ids(text: str) -> list[int]:
        return [vocab.setdefault(w, len(vocab)) for w in text.split()]

    abs_stream = np.array([i for d in real for i in ids(d["summary"])], dtype=np.int32)
    title_stream = np.array([i for d in real for i in ids(d["title"])], dtype=np.int32)
    words = np.array(list(vocab), dtype=object)
    abs_lens = [len(d["summary"].split()) for d in real]
    title_lens = [len(d["title"].split()) for d in real]
    authors = [d["authors"] for d in real]
    cats = [d["categories"] for d in real]
    comments = [d["comment"] for d in real]
    pyrng = random.Random(seed)
    window = 8
    months = [f"{y:02d}{m:02d}" for y in range(10, 27) for m in range(1, 13)]
    per_month = -(-n // len(months))
    with out.open("w", encoding="utf-8") as fh:
        for start in range(0, n, 10000):
            count = min(10000, n - start)
            lines = []
            for k in range(count):
                i = start + k
                alen = abs_lens[pyrng.randrange(len(abs_lens))]
                tlen = title_lens[pyrng.randrange(len(title_lens))]
                a_starts = rng.integers(0, len(abs_stream) - window, size=-(-alen // window))
                a_idx = (a_starts[:, None] + np.arange(window)).ravel()[:alen]
                t_starts = rng.integers(0, len(title_stream) - 4, size=-(-tlen // 4))
                t_idx = (t_starts[:, None] + np.arange(4)).ravel()[:tlen]
                month = months[i // per_month]
                rec = {
                    "id": f"{month}.{i % per_month + 1:05d}",
                    "authors": authors[pyrng.randrange(len(authors))],
                    "title": " ".join(words[title_stream[t_idx]]),
                    "categories": cats[pyrng.randrange(len(cats))],
                    "comment": comments[pyrng.randrange(len(comments))],
                    "summary": " ".join(words[abs_stream[a_idx]]),
                    "listing_date": f"20{month[:2]}-{month[2:]}-15",
                }
                lines.append(json.dumps(rec, ensure_ascii=False))
            fh.write("\n".join(lines) + "\n")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered))) - 1))]


def time_queries(index: MirrorIndex, rounds: int = 3) -> tuple[list[float], list[float], list[int]]:
    """Wall and CPU milliseconds of each query (first round cold), and each query's total."""
    wall: list[float] = []
    cpu: list[float] = []
    totals: list[int] = []
    for r in range(rounds):
        for q in QUERIES:
            c0, t0 = time.process_time(), time.perf_counter()
            page = index.query(search_query=q, start=0, max_results=10)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            if r == 0:
                totals.append(page.total)
    return wall, cpu, totals


def _serve(db_path: Path) -> tuple[subprocess.Popen[str], str]:
    """`sovereign mirror serve` on a free port; returns once it listens (its banner)."""
    cmd = [sys.executable, "-m", "graph.cli", "mirror", "serve", "--db", str(db_path)]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.Popen(
        [*cmd, "--port", "0", "--quiet"], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    banner = proc.stdout.readline()
    url = next((w for w in banner.split() if w.startswith("http://")), None)
    if url is None:
        proc.kill()
        raise SystemExit(f"mirror serve did not start: {banner!r}")
    return proc, url


def _request(url: str, query: str) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
    try:
        conn.request("GET", f"{parts.path}?{urlencode({'search_query': query})}")
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def concurrent_latency(url: str, clients: int) -> tuple[list[float], list[str], float]:
    """(latency of every answered request in ms, failures, wall seconds) for `clients`
    threads starting together, each sending REQUESTS / clients requests in turn."""
    per_client = max(1, REQUESTS // clients)
    start = threading.Barrier(clients)
    latencies: list[float] = []
    failures: list[str] = []

    def client(i: int) -> None:
        start.wait()
        for k in range(per_client):
            t0 = time.perf_counter()
            try:
                status = _request(url, QUERIES[(i + k) % len(QUERIES)])
            except OSError as exc:
                failures.append(type(exc).__name__)
                continue
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                failures.append(f"HTTP {status}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures, time.perf_counter() - t0


def serve_concurrency(label: str, db_path: Path, levels: list[int]) -> None:
    proc, url = _serve(db_path)
    try:
        for clients in levels:
            lat, failures, wall = concurrent_latency(url, clients)
            failed = (
                f"{len(failures)} failed ({', '.join(sorted(set(failures)))})"
                if failures
                else "0 failed"
            )
            print(
                f"[{label}] HTTP, {clients} concurrent clients: {len(lat)} answers, {failed}; "
                f"p50 {_pct(lat, 0.5):.0f} ms, p95 {_pct(lat, 0.95):.0f} ms, "
                f"max {max(lat):.0f} ms; {len(lat) / wall:.0f} answers/s on {os.cpu_count()} cores"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(
    label: str, source: Path, db_path: Path, reuse: bool = False, clients: list[int] | None = None
) -> None:
    if reuse and db_path.exists():
        print(f"[{label}] reusing {db_path} (ingest not measured)")
    else:
        measure_ingest(label, source, db_path)
    index = MirrorIndex(db_path)
    load = os.getloadavg()[0]
    wall, cpu, totals = time_queries(index)
    index.close()
    print(
        f"[{label}] query latency over {len(QUERIES)} queries x 3 rounds (top 10): "
        f"p50 {_pct(wall, 0.5):.1f} ms, p95 {_pct(wall, 0.95):.1f} ms wall; "
        f"p50 {_pct(cpu, 0.5):.1f} ms, p95 {_pct(cpu, 0.95):.1f} ms CPU; "
        f"load average {load:.1f}; peak RSS {peak_rss_mb():.0f} MB"
    )
    n = len(QUERIES)
    print(
        f"[{label}] first round only (cold caches): p50 {_pct(wall[:n], 0.5):.1f} ms, "
        f"p95 {_pct(wall[:n], 0.95):.1f} ms wall; p95 {_pct(cpu[:n], 0.95):.1f} ms CPU"
    )
    print(f"[{label}] result totals: {totals}")
    if clients:
        serve_concurrency(label, db_path, clients)


def measure_ingest(label: str, source: Path, db_path: Path) -> None:
    for stale in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        stale.unlink(missing_ok=True)
    rss0 = peak_rss_mb()
    cpu0 = time.process_time()
    load0 = os.getloadavg()[0]
    report = ingest(db_path, [source], progress=sys.stderr.isatty())
    cpu = time.process_time() - cpu0
    rss1 = peak_rss_mb()
    child = ""
    if report.parse_process_cpu:
        child = (
            f"; parse process {report.parse_process_cpu:.1f} s CPU, "
            f"peak RSS {report.parse_process_rss_mb:.0f} MB"
        )
    total_cpu = cpu + report.parse_process_cpu
    print(
        f"[{label}] ingest: {report.good:,} records in {report.seconds:.1f} s wall = "
        f"{report.good / report.seconds:,.0f} records/s ({total_cpu:.1f} s CPU = "
        f"{report.good / max(total_cpu, 1e-9):,.0f} records per CPU-second, writer "
        f"{cpu:.1f} s; load average {load0:.1f} -> {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores); peak RSS {rss1:.0f} MB (before ingest {rss0:.0f} MB"
        f"{child}); DB {db_path.stat().st_size / 1e6:,.0f} MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synthetic", type=int, default=1_000_000, help="synthetic records")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--reuse", action="store_true", help="time queries on an existing synthetic DB in --workdir"
    )
    parser.add_argument(
        "--clients", default="1,20,200", help="concurrency levels of the HTTP figures ('' skips)"
    )
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    if not SAMPLE.exists():
        print(f"real sample {SAMPLE} is absent", file=sys.stderr)
        return 2
    if args.generate:
        synthesize(args.generate, args.synthetic)
        return 0
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mirror-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if not args.skip_real:
            run("real 5k", SAMPLE, work / "real.db", clients=clients)
        if args.synthetic > 0:
            synth = work / f"synthetic_{args.synthetic}.jsonl"
            if not synth.exists() and not (
                args.reuse and (work / f"synthetic_{args.synthetic}.db").exists()
            ):
                t0 = time.perf_counter()
                # generated in a child process so its memory does not count as ingest RSS
                cmd = [sys.executable, __file__, "--generate", str(synth)]
                subprocess.run([*cmd, "--synthetic", str(args.synthetic)], check=True)
                print(
                    f"generated {args.synthetic:,} synthetic records in "
                    f"{time.perf_counter() - t0:.0f} s ({synth.stat().st_size / 1e6:,.0f} MB)"
                )
            db_path = work / f"synthetic_{args.synthetic}.db"
            run(f"synthetic {args.synthetic:,}", synth, db_path, args.reuse, clients)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
