"""Requests per second through the research queue, and the speed-up with more workers.

    python bench/queue_workers.py [--requests N] [--latency S] [--workers 1,2,4]
        [--database-url URL]

Each worker is its own process (`python bench/queue_workers.py worker ...`: the real `Worker` loop,
claims, completion and recovery, around a stand-in graph that sleeps a fixed latency instead
of researching), on a fresh queue: SQLite in a temp directory by default, or a fresh table in
the PostgreSQL database given. Throughput is counted over the queue's own timestamps (first
claim to last completion), so process start-up is left out; the wall time is shown too. The
speed-up is against one worker in the same run. The tests also use the `worker` sub-command
(with --log) to SIGKILL a worker mid-request."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[0] = str(REPO)  # not bench/: this file would shadow the standard library's `queue`

import argparse  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from graph.worker import Worker  # noqa: E402
from memory.net import RetryPolicy  # noqa: E402
from memory.queue import QueuedRequest, open_queue  # noqa: E402


def standin_graph(latency_s: float, log: Path | None) -> Any:
    """A handler that takes `latency_s` like a research run would, writing `start|end ID PID
    TIME` lines to `log` (appended, one write each) so a test can see what ran where."""

    def note(word: str, request: QueuedRequest) -> None:
        if log is not None:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, f"{word} {request.id} {os.getpid()} {time.time():.6f}\n".encode())
            finally:
                os.close(fd)

    def handle(request: QueuedRequest) -> str:
        note("start", request)
        time.sleep(latency_s)
        note("end", request)
        return "finished"

    return handle


def _ready_set_go(go: Path) -> None:
    """Say this worker is started (imports done, queue open), then wait for the bench's
    signal, so every worker begins together and start-up is not counted as work."""
    (go.parent / f"ready.{os.getpid()}").touch()
    while not go.exists():
        time.sleep(0.01)


def run_worker(args: argparse.Namespace) -> int:
    from graph.transcript import configure

    configure(args.events, to_stderr=False)  # the queue's structlog events, when asked
    with open_queue(args.database_url, Path(args.sqlite)) as queue:
        if args.go:
            _ready_set_go(Path(args.go))
        worker = Worker(
            queue,
            standin_graph(args.latency, Path(args.log) if args.log else None),
            concurrency=args.concurrency,
            poll_s=args.poll,
            backoff=RetryPolicy(backoff_s=0.0),
            until_empty=True,
        )
        worker.run()
    return 0


def measure(n_workers: int, args: argparse.Namespace, where: Path) -> dict[str, float]:
    """One fresh queue of `args.requests` requests drained by `n_workers` processes."""
    sqlite = where / f"queue-{n_workers}.sqlite"
    url = _fresh_database(args.database_url, n_workers) if args.database_url else None
    with open_queue(url, sqlite) as queue:
        for i in range(args.requests):
            queue.submit(f"bench question {i}", run_id=f"bench-{n_workers}-{i}")
    signals = where / f"signals-{n_workers}"
    signals.mkdir()
    go = signals / "go"
    cmd = [sys.executable, __file__, "worker", "--sqlite", str(sqlite), "--latency",
           str(args.latency), "--poll", "0.02", "--go", str(go)]  # fmt: skip
    procs = [
        subprocess.Popen(cmd + (["--database-url", url] if url else [])) for _ in range(n_workers)
    ]
    while len(list(signals.glob("ready.*"))) < n_workers:
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a worker exited before starting")
        time.sleep(0.02)
    start = time.perf_counter()
    go.touch()
    codes = [p.wait() for p in procs]
    wall = time.perf_counter() - start
    if any(codes):
        raise SystemExit(f"a worker failed: exit codes {codes}")
    with open_queue(url, sqlite) as queue:
        done = queue.requests()
    if {r.state for r in done} != {"done"} or any(r.attempts != 1 for r in done):
        raise SystemExit("not every request ran exactly once")
    span = max(r.finished_at or 0 for r in done) - min(r.started_at or 0 for r in done)
    return {"rps": len(done) / span, "span_s": span, "wall_s": wall}


def _fresh_database(base_url: str, n: int) -> str:
    """A new database beside the one given, so each measurement starts from an empty queue."""
    import psycopg

    name = f"sovereign_bench_{os.getpid()}_{n}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + "/" + name


def bench(args: argparse.Namespace) -> int:
    counts = [int(x) for x in args.workers.split(",")]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"queue bench: {args.requests} requests, stand-in graph {args.latency:.2f} s each, "
          f"{backend} queue, one process per worker")  # fmt: skip
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="sovereign-queue-bench-") as tmp:
        for n in counts:
            results[n] = measure(n, args, Path(tmp))
            r = results[n]
            speedup = r["rps"] / results[counts[0]]["rps"]
            print(f"  {n} worker(s): {r['rps']:.2f} requests/s over {r['span_s']:.2f} s "
                  f"(wall {r['wall_s']:.2f} s with start-up); speed-up x{speedup:.2f} "
                  f"vs {counts[0]}")  # fmt: skip
    if args.latency > 0:
        print(f"  ideal per worker: {1.0 / args.latency:.2f} requests/s")
    else:
        print("  latency 0: what the queue itself costs (claim, complete, recover per request)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.5, help="stand-in graph seconds")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    worker = sub.add_parser("worker", help="one worker process on a stand-in graph")
    worker.add_argument("--sqlite", required=True)
    worker.add_argument("--database-url")
    worker.add_argument("--latency", type=float, default=0.5)
    worker.add_argument("--concurrency", type=int, default=1)
    worker.add_argument("--poll", type=float, default=0.05)
    worker.add_argument("--log", help="append start/end lines here")
    worker.add_argument("--events", help="append the worker's structlog JSON events here")
    worker.add_argument("--go", help="start once this file exists (after touching ready.PID)")
    args = parser.parse_args(argv)
    return run_worker(args) if args.command == "worker" else bench(args)


if __name__ == "__main__":
    raise SystemExit(main())
