"""Stream arXiv metadata files (bulk snapshot or listing JSONL, plain or .gz) into the mirror.
Lines are read one at a time and written in batches, so memory stays flat for the 4.5 GB bulk
file; bad lines are counted with their line numbers and never stop the run."""

from __future__ import annotations

import gzip
import queue
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from tqdm import tqdm

from memory.errors import UserError
from memory.mirror import db
from memory.mirror.records import BadRecord, MirrorRecord, parse_line

BATCH = 5000
MAX_BAD_LOCATIONS = 5


@dataclass
class IngestReport:
    lines: int = 0
    good: int = 0
    filtered: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: Counter[str] = field(default_factory=Counter)
    bad_locations: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def bad_total(self) -> int:
        return sum(self.bad.values())

    @property
    def rate(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        line = (
            f"ingested {self.good:,} records from {self.lines:,} lines in {self.seconds:.1f} s "
            f"({self.rate:,.0f} lines/s): {self.inserted:,} new, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {self.filtered:,} filtered out"
        )
        if self.bad_total:
            reasons = ", ".join(f"{n} {reason}" for reason, n in self.bad.most_common())
            more = "" if self.bad_total <= len(self.bad_locations) else ", ..."
            line += (
                f"; skipped {self.bad_total:,} bad lines ({reasons}) at "
                f"{', '.join(self.bad_locations)}{more}"
            )
        return line


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Files as given; a directory stands for its *.json, *.jsonl and *.gz files."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and p.name.endswith((".json", ".jsonl", ".gz"))
            )
            if not found:
                raise UserError(f"{path} holds no .json, .jsonl or .gz files")
            out += found
        else:
            out.append(path)
    return out


def _open(path: Path) -> IO[bytes]:
    if not path.exists():
        raise UserError(f"no such file: {path}")
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


@dataclass(frozen=True)
class Filters:
    categories: tuple[str, ...] = ()
    since: str | None = None  # 'YYYY-MM'; compared with the first-version date

    def keep(self, rec: MirrorRecord) -> bool:
        if self.since and rec.published[:7] < self.since:
            return False
        if self.categories:
            return any(
                code == want or code.startswith(want + ".")
                for code in rec.categories
                for want in self.categories
            )
        return True


def parse_since(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", raw):
        raise UserError(f"--since wants YYYY-MM, got {raw!r}")
    return raw


def _records(
    paths: Sequence[Path], report: IngestReport, filters: Filters, bar: tqdm
) -> Iterator[MirrorRecord]:
    for path in paths:
        with _open(path) as handle:
            for lineno, raw in enumerate(handle, start=1):
                report.lines += 1
                bar.update(1)
                if not raw.strip():
                    report.lines -= 1
                    continue
                try:
                    rec = parse_line(raw)
                except BadRecord as exc:
                    report.bad[exc.reason] += 1
                    if len(report.bad_locations) < MAX_BAD_LOCATIONS:
                        report.bad_locations.append(f"{path.name}:{lineno}")
                    continue
                if not filters.keep(rec):
                    report.filtered += 1
                    continue
                report.good += 1
                rec.prepared = db.prepare(rec)
                yield rec


def _batches(records: Iterable[MirrorRecord], size: int) -> Iterator[list[MirrorRecord]]:
    batch: list[MirrorRecord] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest(
    db_path: Path,
    paths: Sequence[Path],
    filters: Filters | None = None,
    progress: bool = True,
    batch_size: int = BATCH,
) -> IngestReport:
    """Upsert every good line of `paths` into the mirror at `db_path` (created if needed)."""
    paths = expand_paths(paths)
    for path in paths:
        _open(path).close()  # fail on a missing file before touching the DB
    report = IngestReport()
    filters = filters or Filters()
    conn = db.connect(db_path, create=True)
    conn.execute("PRAGMA synchronous=OFF")
    started = time.perf_counter()
    bar = tqdm(
        desc="ingest",
        unit=" rec",
        unit_scale=True,
        disable=not progress,
        file=sys.stderr,
        mininterval=0.5,
    )
    batches: queue.Queue[list[MirrorRecord] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        # Parsing runs beside SQLite (which releases the GIL while it indexes).
        try:
            for batch in _batches(_records(paths, report, filters, bar), batch_size):
                while not stop.is_set():
                    try:
                        batches.put(batch, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            batches.put(None)
        except BaseException as exc:  # handed to the consumer, re-raised there
            batches.put(exc)

    producer = threading.Thread(target=produce, name="mirror-parse", daemon=True)
    db.begin_bulk_load(conn)
    producer.start()
    try:
        while True:
            item = batches.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            with conn:
                counts = db.upsert(conn, item)
            report.inserted += counts.inserted
            report.updated += counts.updated
            report.unchanged += counts.unchanged
        db.finish_ingest(conn)
    finally:
        stop.set()
        producer.join()
        bar.close()
        conn.close()
    report.seconds = time.perf_counter() - started
    return report
