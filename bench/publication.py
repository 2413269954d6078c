"""Benchmark of publication: record_run per run, site build per report, and page sizes.

Uses realistic synthetic run states (tests/pub_samples.py: the shared graph records, three
claims each) so it needs no services. Usage:

    python bench/publication.py [--runs 200] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from graph.site.builder import build_site  # noqa: E402
from memory.publication import record_run, store_for  # noqa: E402
from tests.pub_samples import sample_record  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-pub-"))
    db = work / "pub.sqlite"
    record_s = []
    for i in range(args.runs):
        record = sample_record(
            work, f"bench-{i}", scores=(2.0 + i % 8, 3.0 + i % 7, 4.0 + i % 6), verified=i % 4
        )
        t0 = time.perf_counter()
        record_run(record, db)
        record_s.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    again = [record_run(sample_record(work, f"bench-{i}"), db) for i in range(10)]
    idempotent_s = (time.perf_counter() - t0) / len(again)
    t0 = time.perf_counter()
    summary = build_site(store_for(db), work / "site")
    build_s = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in (work / "site").rglob("*") if p.is_file())
    print(f"runs recorded:            {args.runs}")
    print(f"record_run median:        {statistics.median(record_s) * 1000:.1f} ms")
    print(f"record_run p95:           {sorted(record_s)[int(0.95 * len(record_s))] * 1000:.1f} ms")
    print(f"re-record (same run):     {idempotent_s * 1000:.1f} ms")
    print(f"site build:               {build_s:.2f} s for {summary.reports} reports "
          f"({build_s / max(1, summary.reports) * 1000:.1f} ms/report)")  # fmt: skip
    print(f"site size:                {size / 1e6:.2f} MB in {summary.pages} pages")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
