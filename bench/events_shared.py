"""The shared event log's throughput on PostgreSQL (`memory/events_postgres.py`).

    python bench/events_shared.py --database-url URL [--papers N] [--appends N] [--appenders 1,4]

Three figures from one run, each on a fresh database beside the one given: the relay (a local
mirror of N ingested papers into the shared log, each event carrying its paper record, as
`sovereign watch` relays), a consumer reading the shared log back in the watch's batches and
committing its offset after each, and single-event append transactions from 1 and more
threads, whose ratio shows what the per-log lock (cursors in commit order) costs when
appenders contend."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[0] = str(REPO)

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from graph.settings import Settings  # noqa: E402
from graph.watch.consumer import BATCH  # noqa: E402
from graph.watch.shared import event_sources  # noqa: E402
from memory.events_postgres import PostgresEventLog, PostgresOffsets  # noqa: E402
from memory.mirror import db  # noqa: E402
from memory.mirror.records import MirrorRecord  # noqa: E402


def _fresh_database(base_url: str, tag: str) -> str:
    """bench/queue_workers.py's helper (bench/ is not a package: loaded by path)."""
    path = REPO / "bench" / "queue_workers.py"
    spec = importlib.util.spec_from_file_location("bench_queue_workers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module._fresh_database(base_url, tag))


def _mirror(path: Path, n: int) -> None:
    records = [
        MirrorRecord(
            arxiv_id=f"2607.{i:05d}", version=1, title=f"Paper {i}", abstract="Text. " * 40,
            authors=["A. B"], categories=["cs.CL"], published="2026-07-01T00:00:00Z",
            updated="2026-07-01T00:00:00Z",
        )
        for i in range(n)
    ]  # fmt: skip
    conn = db.connect(path, create=True)
    db.upsert(conn, [db.prepare(r) for r in records])
    conn.commit()
    conn.close()


def relay_and_consume(url: str, papers: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp), database_url=url)
        _mirror(settings.mirror_path, papers)
        sources = event_sources(settings)
        assert sources.relay is not None
        start = time.perf_counter()
        copied = sources.relay.run()
        relay_s = time.perf_counter() - start
        assert copied == papers
        log, offsets = sources.logs["shared"], sources.offsets
        start, seen = time.perf_counter(), 0
        while batch := log.read_after(offsets.get("bench", "shared"), BATCH):
            seen += len(batch)
            offsets.commit("bench", "shared", batch[-1].cursor)
        consume_s = time.perf_counter() - start
        assert seen == papers
        sources.close()
    return papers / relay_s, papers / consume_s


def appends(url: str, threads: int, each: int) -> float:
    logs = [PostgresEventLog(url, "bench") for _ in range(threads)]

    def run(log: PostgresEventLog) -> None:
        for i in range(each):
            log.append([("k", f"s{i}", {})])

    workers = [threading.Thread(target=run, args=(log,)) for log in logs]
    start = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - start
    assert logs[0].head() == threads * each  # no cursor lost or doubled
    for log in logs:
        log.close()
    return threads * each / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--papers", type=int, default=5000)
    parser.add_argument("--appends", type=int, default=400, help="per appender thread")
    parser.add_argument("--appenders", default="1,4")
    args = parser.parse_args()
    relay, consume = relay_and_consume(_fresh_database(args.database_url, "relay"), args.papers)
    print(f"relay: {relay:.0f} events/s ({args.papers} paper events, with their records)")
    print(f"consume: {consume:.0f} events/s (batches of {BATCH}, offset committed per batch)")
    rates = {}
    for n in [int(x) for x in args.appenders.split(",")]:
        PostgresOffsets(url := _fresh_database(args.database_url, f"append{n}")).close()
        rates[n] = appends(url, n, args.appends)
        print(f"appends, {n} thread(s): {rates[n]:.0f} transactions/s")
    first = min(rates)
    for n, rate in rates.items():
        if n != first:
            print(f"  {n} vs {first} thread(s): x{rate / rates[first]:.2f}")


if __name__ == "__main__":
    main()
