"""Stream arXiv metadata files (bulk snapshot or listing JSONL, plain or .gz) into the mirror.
Lines are read one at a time and written in batches, so memory stays flat for the 4.5 GB bulk
file; bad lines are counted with their line numbers and never stop the run."""

from __future__ import annotations

import gc
import gzip
import json
import os
import pickle
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from tqdm import tqdm

from memory.errors import UserError
from memory.mirror import db, interrupted
from memory.mirror.records import BadRecord, MirrorRecord, parse_line

BATCH = 2000  # records per message and upsert call: small batches keep both processes lean
COMMIT_EVERY = 25_000  # records per transaction: FTS5 flushes a segment at every commit
PROCESS_BYTES = 32 * 1024 * 1024
GZIP_RATIO = 5
_SOURCE_ROOT = Path(__file__).resolve().parents[2]  # holds the `memory` package
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
    parse_process_cpu: float = 0.0  # CPU seconds and peak RSS of the parse process, if any
    parse_process_rss_mb: float = 0.0
    recovered: str | None = None  # what a killed earlier ingest had left, and what was done

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


def parse_batches(
    paths: Sequence[Path], filters: Filters, report: IngestReport, batch_size: int = BATCH
) -> Generator[list[db.Prepared], None, None]:
    """Good, kept lines as prepared SQLite rows, in batches; bad lines are counted in `report`."""
    batch: list[db.Prepared] = []
    for path in paths:
        with _open(path) as handle:
            for lineno, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                report.lines += 1
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
                batch.append(db.prepare(rec))
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
    if batch:
        yield batch


def _input_bytes(paths: Sequence[Path]) -> int:
    """Rough uncompressed size of the input (arXiv metadata gzips about 5:1)."""
    total = 0
    for path in paths:
        with path.open("rb") as probe:
            gz = probe.read(2) == b"\x1f\x8b"
        total += path.stat().st_size * (GZIP_RATIO if gz else 1)
    return total


def _child_batches(
    paths: Sequence[Path], filters: Filters, report: IngestReport, batch_size: int
) -> Generator[list[db.Prepared], None, None]:
    """parse_batches run by `memory.mirror.parse_worker` in a child process; the messages are
    pickles on its stdout. The pipe holds the child at most one batch ahead of the writer."""
    options = {"categories": list(filters.categories), "since": filters.since, "batch": batch_size}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_SOURCE_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "memory.mirror.parse_worker", json.dumps(options), *map(str, paths)],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    try:
        while True:
            try:
                message = pickle.load(proc.stdout)
            except EOFError:
                code = proc.wait()
                raise UserError(f"the mirror parse process stopped (exit code {code})") from None
            if message[0] == "rows":
                report.lines = message[2]
                yield message[1]
            elif message[0] == "end":
                _, report.lines, report.good, report.filtered, bad, locations, usage = message
                report.parse_process_cpu, report.parse_process_rss_mb = usage
                report.bad.update(bad)
                report.bad_locations[:] = locations
                break
            else:
                raise UserError(f"reading the input failed: {message[1]}")
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _remove_db(path: Path) -> None:
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        stale.unlink(missing_ok=True)


def _end_bulk_load(conn: sqlite3.Connection) -> None:
    """After a failed update: drop the unfinished batch, restore FTS5's merge settings."""
    try:
        conn.rollback()
        db.end_bulk_load(conn)
    except sqlite3.Error:
        pass  # the next run that opens the mirror restores them (memory.mirror.interrupted)


def ingest(
    db_path: Path,
    paths: Sequence[Path],
    filters: Filters | None = None,
    progress: bool = True,
    batch_size: int = BATCH,
    parse_process: bool | None = None,
) -> IngestReport:
    """Upsert every good line of `paths` into the mirror at `db_path` (created if needed).
    Inputs of PROCESS_BYTES or more are parsed in a child process beside the writer
    (`parse_process` forces either way)."""
    paths = expand_paths(paths)
    for path in paths:
        _open(path).close()  # fail on a missing file before touching the DB
    report = IngestReport()
    filters = filters or Filters()
    # A new mirror is built unjournaled under a temporary name and renamed when finished, so
    # a failed or interrupted first ingest leaves no half-built mirror behind.
    fresh = not db_path.exists() or db_path.stat().st_size == 0
    target = db_path.with_name(db_path.name + ".partial") if fresh else db_path
    if fresh:
        report.recovered = interrupted.clear_partial(target)
        _remove_db(target)  # a stray -wal or -journal beside it
    conn = db.connect(target, create=True, unjournaled=fresh)
    if not fresh:
        try:
            report.recovered = interrupted.recover(conn, db_path)
        except BaseException:
            conn.close()
            raise
    if report.recovered:
        print(f"mirror ingest: {report.recovered}", file=sys.stderr, flush=True)
    conn.execute("PRAGMA synchronous=OFF")
    finished = False
    started = time.perf_counter()
    bar = tqdm(
        desc="ingest",
        unit=" rec",
        unit_scale=True,
        disable=not progress,
        file=sys.stderr,
        mininterval=0.5,
    )
    if parse_process is None:
        parse_process = _input_bytes(paths) >= PROCESS_BYTES
    source = (
        _child_batches(paths, filters, report, batch_size)
        if parse_process
        else parse_batches(paths, filters, report, batch_size)
    )
    # Millions of short-lived acyclic tuples: cyclic GC passes over them cost ~5% of the load.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        db.begin_bulk_load(conn, interrupted.owner_token())
        pending = shown = 0
        for batch in source:
            counts = db.upsert(conn, batch)
            report.inserted += counts.inserted
            report.updated += counts.updated
            report.unchanged += counts.unchanged
            bar.update(report.lines - shown)
            shown = report.lines
            pending += len(batch)
            if pending >= COMMIT_EVERY:
                conn.commit()
                pending = 0
        conn.commit()
        bar.update(report.lines - shown)
        db.finish_ingest(conn)
        finished = True
    finally:
        if gc_was_enabled:
            gc.enable()
        source.close()
        bar.close()
        if not fresh and not finished:
            _end_bulk_load(conn)
        conn.close()
        if fresh and not finished:
            _remove_db(target)
    if fresh:
        _remove_db(db_path)  # a stale -wal beside a new main file would be replayed into it
        os.replace(target, db_path)
    report.seconds = time.perf_counter() - started
    return report
