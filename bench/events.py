"""Benchmark: what the event log costs the mirror's ingest. The same synthetic listing file
(bench/mirror.py's generator over the real 5k sample) is ingested into a fresh mirror with
the events the upserts append, and with `memory.events.append` replaced by a no-op, in
alternating rounds in one process; CPU seconds of the writer are compared (wall time on a
shared machine is noise). Prints the ratio from this one run. Usage:

    nice -n 10 python bench/events.py [--records 200000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.mirror import synthesize  # noqa: E402
from memory import events  # noqa: E402
from memory.events import SqliteEventLog  # noqa: E402
from memory.mirror.ingest import ingest  # noqa: E402

_append = events.append


def _fresh(db_path: Path) -> None:
    for stale in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        stale.unlink(missing_ok=True)


def one(source: Path, db_path: Path, with_events: bool) -> tuple[float, int, int]:
    """Writer CPU seconds, events appended, DB bytes for one fresh ingest."""
    _fresh(db_path)
    events.append = _append if with_events else (lambda conn, rows, at=None: 0)  # type: ignore[assignment]
    try:
        cpu0 = time.process_time()
        ingest(db_path, [source], progress=False, parse_process=False)
        cpu = time.process_time() - cpu0
    finally:
        events.append = _append
    return cpu, SqliteEventLog(db_path, "mirror").head(), db_path.stat().st_size


def append_only(n: int, tmp: Path) -> float:
    """CPU seconds of the appends alone for n paper events (batches of 2000, as the ingest
    writes them): the part of the ingest the log adds, without the ingest's noise."""
    conn = sqlite3.connect(tmp / "events-only.db")
    conn.execute("PRAGMA journal_mode=OFF")
    events.ensure(conn)
    rows = [(events.PAPER_NEW, f"2607.{i:05d}", {"version": 1}) for i in range(2000)]
    cpu0 = time.process_time()
    for _ in range(0, n, 2000):
        _append(conn, rows)
    conn.commit()
    cpu = time.process_time() - cpu0
    conn.close()
    return cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sovereign-bench-events-") as tmp:
        source = Path(tmp) / "listing.jsonl"
        synthesize(source, args.records)
        results: dict[bool, list[tuple[float, int, int]]] = {True: [], False: []}
        for _ in range(args.rounds):
            for flag in (False, True):
                results[flag].append(one(source, Path(tmp) / "mirror.db", flag))
        appends = append_only(args.records, Path(tmp))
    cpu = {flag: statistics.median(r[0] for r in rows) for flag, rows in results.items()}
    with_ev, without = results[True][-1], results[False][-1]
    print(
        f"fresh ingest of {args.records:,} records, median writer CPU over {args.rounds} "
        f"round(s): {cpu[False]:.1f} s without events, {cpu[True]:.1f} s with "
        f"{with_ev[1]:,} events; ratio with/without {cpu[True] / cpu[False]:.3f}; "
        f"DB {without[2] / 1e6:,.0f} MB -> {with_ev[2] / 1e6:,.0f} MB"
    )
    print(
        f"the appends alone: {appends:.2f} s CPU for {args.records:,} events = "
        f"{appends / cpu[False]:.1%} of the ingest's writer CPU without events"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
