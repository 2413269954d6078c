"""Full texts into the mirror: unarXive JSONL (one paper a line, with its metadata) and PDF or
LaTeXML HTML files named by arXiv id (`2203.00130v1.pdf`, `2203.00130.html`).

Every input is one paper; a bad one (a line missing fields, a corrupt or encrypted PDF, HTML
without sections, a name that is no arXiv id) is skipped and counted under a short reason with
its location, and never stops the run. An input whose hash matches the stored row is not even
parsed, so re-ingest is cheap and changes nothing; a changed input replaces its row. A unarXive
line also gives the paper's metadata row when the mirror lacks one (an existing row is left as
it is: the metadata ingest owns it); `--category`/`--since` filter unarXive lines by it."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from memory.arxiv_client import is_arxiv_id
from memory.fulltext import FullText, FullTextError, detect_format, read_fulltext
from memory.fulltext.unarxive import parse_record as parse_unarxive
from memory.mirror import db, fulltext_db
from memory.mirror.fulltext_db import StoredFormat
from memory.mirror.ingest import Filters
from memory.mirror.ingest import _open as open_input
from memory.mirror.records import BadRecord, MirrorRecord
from memory.mirror.records import parse_record as parse_metadata
from memory.models import split_arxiv_id

COMMIT_EVERY = 50  # papers per transaction: bounded memory, and readers see progress
MAX_LOCATIONS = 8
_FILE_ID = re.compile(r"^(\d{4}\.\d{4,5})(?:v(\d+))?\.(?:pdf|html?)$", re.I)


class Skip(Exception):
    """One input left out: `reason` is the short category counted, `detail` says more."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass
class FullTextReport:
    inputs: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    filtered: int = 0
    by_format: Counter[str] = field(default_factory=Counter)
    metadata_added: int = 0
    no_metadata: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_at: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def valid(self) -> int:
        """Inputs that were good full texts (stored, replaced, already there, or filtered)."""
        return self.inserted + self.updated + self.unchanged + self.filtered

    def skip(self, where: str, exc: Skip) -> None:
        self.skipped[exc.reason] += 1
        if len(self.skipped_at) < MAX_LOCATIONS:
            self.skipped_at.append(f"{where} ({exc.detail or exc.reason})")

    def summary(self) -> str:
        """One line, like the metadata ingest's."""
        stored = self.inserted + self.updated + self.unchanged
        rate = stored / self.seconds if self.seconds > 0 else 0.0
        formats = ", ".join(f"{f} {n}" for f, n in sorted(self.by_format.items())) or "none"
        line = (
            f"full text: {stored:,} papers ({formats}) from {self.inputs:,} inputs in "
            f"{self.seconds:.1f} s ({rate:,.1f} papers/s): {self.inserted:,} new, "
            f"{self.updated:,} replaced, {self.unchanged:,} unchanged, {self.filtered:,} "
            f"filtered out; {self.metadata_added:,} metadata rows added"
        )
        if self.no_metadata:
            why = ", ".join(f"{n} {r}" for r, n in self.no_metadata.most_common())
            line += f" ({sum(self.no_metadata.values())} papers without metadata row: {why})"
        total = sum(self.skipped.values())
        if total:
            reasons = ", ".join(f"{n} {r}" for r, n in self.skipped.most_common())
            more = ", ..." if total > len(self.skipped_at) else ""
            line += f"; skipped {total:,} ({reasons}) at {', '.join(self.skipped_at)}{more}"
        return line


class _Writer:
    """Stores full texts and missing metadata rows, committing every COMMIT_EVERY papers."""

    def __init__(self, conn: sqlite3.Connection, report: FullTextReport) -> None:
        self.conn = conn
        self.report = report
        self.pending: dict[str, db.Prepared] = {}
        self.since_commit = 0

    def stored_sha(self, key: tuple[str, int, StoredFormat]) -> str | None:
        return fulltext_db.stored_sha(self.conn, *key)

    def unchanged(self, fmt: str) -> None:
        self.report.unchanged += 1
        self.report.by_format[fmt] += 1

    def store(
        self,
        doc: FullText,
        key: tuple[str, int, StoredFormat],
        digest: str,
        source: str,
        original: bytes | None = None,
    ) -> None:
        outcome = fulltext_db.put(self.conn, doc, key, digest, source, original)
        setattr(self.report, outcome, getattr(self.report, outcome) + 1)
        self.report.by_format[key[2]] += 1
        self.since_commit += 1
        if self.since_commit >= COMMIT_EVERY:
            self.flush()

    def has_paper(self, arxiv_id: str) -> bool:
        if arxiv_id in self.pending:
            return True
        row = self.conn.execute("SELECT 1 FROM papers WHERE arxiv_id = ?", (arxiv_id,))
        return row.fetchone() is not None

    def metadata(self, rec: MirrorRecord | None, arxiv_id: str, problem: str) -> None:
        """Queue the paper's metadata row unless the mirror has one already."""
        if self.has_paper(arxiv_id):
            return
        if rec is None:
            self.report.no_metadata[problem] += 1
            return
        self.pending[arxiv_id] = db.prepare(rec)

    def flush(self) -> None:
        if self.pending:
            counts = db.upsert(self.conn, list(self.pending.values()))
            self.report.metadata_added += counts.inserted
            self.pending.clear()
        self.conn.commit()
        self.since_commit = 0


# --- unarXive -----------------------------------------------------------------------------


def _record(raw: bytes) -> dict[str, Any]:
    """The decoded line with the fields the reader needs, or Skip."""
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Skip("invalid JSON") from None
    if not isinstance(obj, dict):
        raise Skip("not a JSON object")
    for name in ("paper_id", "body_text"):
        if name not in obj:
            raise Skip(f"missing {name}")
    if not isinstance(obj["body_text"], list):
        raise Skip("body_text is not a list")
    if not isinstance(obj["paper_id"], str) or not is_arxiv_id(obj["paper_id"].strip()):
        raise Skip("paper_id is not an arXiv id", f"paper_id {obj['paper_id']!r}")
    return obj


def _metadata(obj: dict[str, Any], arxiv_id: str) -> tuple[MirrorRecord | None, str]:
    """The paper's metadata record from the line, or None and why not."""
    meta = obj.get("metadata")
    if meta is None:
        return None, "missing metadata"
    try:
        rec = parse_metadata(meta)
    except BadRecord as exc:
        return None, f"metadata: {exc.reason}"
    if rec.arxiv_id != arxiv_id:
        return None, "metadata id differs from paper_id"
    return rec, ""


def _parse(obj: dict[str, Any], arxiv_id: str, version: int) -> FullText:
    try:
        doc = parse_unarxive(obj)
    except FullTextError as exc:
        raise Skip("unreadable unarXive record", str(exc)) from None
    except Exception as exc:  # a reader bug on odd input costs this line, not the run
        raise Skip("unarXive reader error", f"{type(exc).__name__}: {exc}") from None
    if not doc.paragraphs:
        raise Skip("no body text")
    doc.paper_id, doc.version = arxiv_id, version or None
    return doc


def _unarxive_line(raw: bytes, where: str, w: _Writer, filters: Filters) -> None:
    obj = _record(raw)
    arxiv_id, id_version = split_arxiv_id(obj["paper_id"])
    rec, problem = _metadata(obj, arxiv_id)
    if rec is not None and not filters.keep(rec):
        w.report.filtered += 1
        return
    version = rec.version if rec is not None else (id_version or 0)
    key: tuple[str, int, StoredFormat] = (arxiv_id, version, "unarxive")
    digest = fulltext_db.sha256(raw.rstrip(b"\r\n"))
    if w.stored_sha(key) == digest:
        w.unchanged("unarxive")
    else:
        w.store(_parse(obj, arxiv_id, version), key, digest, where)
    w.metadata(rec, arxiv_id, problem)


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with open_input(path) as handle:
        for lineno, raw in enumerate(handle, start=1):
            if raw.strip():
                yield lineno, raw


# --- PDF and HTML files -------------------------------------------------------------------


def _document_key(path: Path, data: bytes) -> tuple[str, int, StoredFormat]:
    m = _FILE_ID.match(path.name)
    if m is None:
        raise Skip("file name is not an arXiv id", "want e.g. 2203.00130v1.pdf")
    found = detect_format(data)
    if found == "latex":
        raise Skip("LaTeX e-print source is not ingested")
    if found not in ("pdf", "latexml"):
        raise Skip("not a PDF or HTML file")
    fmt: StoredFormat = "pdf" if found == "pdf" else "latexml"
    return m.group(1), int(m.group(2) or 0), fmt


def _parse_document(data: bytes, key: tuple[str, int, StoredFormat]) -> FullText:
    arxiv_id, version, fmt = key
    try:
        doc = read_fulltext(data, fmt=fmt, paper_id=arxiv_id)
    except FullTextError as exc:
        reason = "corrupt or encrypted PDF" if fmt == "pdf" else "unreadable HTML"
        raise Skip(reason, str(exc)) from None
    except Exception as exc:  # a reader bug on odd input costs this file, not the run
        raise Skip(f"{fmt} reader error", f"{type(exc).__name__}: {exc}") from None
    if fmt == "latexml" and not doc.sections:
        raise Skip("HTML has no sections", "no ltx_section headings")
    if not doc.paragraphs:
        raise Skip("no body text")
    doc.version = version or doc.version
    return doc


def _document(path: Path, w: _Writer) -> None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Skip("cannot read file", exc.strerror or str(exc)) from None
    key = _document_key(path, data)
    digest = fulltext_db.sha256(data)
    if w.stored_sha(key) == digest:
        w.unchanged(key[2])
        return
    w.store(_parse_document(data, key), key, digest, path.name, original=data)


# --- the run ------------------------------------------------------------------------------


def _run(
    w: _Writer,
    unarxive: Sequence[Path],
    documents: Sequence[Path],
    filters: Filters,
    bar: tqdm,
) -> None:
    for path in unarxive:
        for lineno, raw in _lines(path):
            w.report.inputs += 1
            try:
                _unarxive_line(raw, f"{path.name}:{lineno}", w, filters)
            except Skip as exc:
                w.report.skip(f"{path.name}:{lineno}", exc)
            bar.update(1)
    for path in documents:
        w.report.inputs += 1
        try:
            _document(path, w)
        except Skip as exc:
            w.report.skip(path.name, exc)
        bar.update(1)


def ingest_fulltext(
    db_path: Path,
    unarxive: Sequence[Path] = (),
    documents: Sequence[Path] = (),
    filters: Filters | None = None,
    progress: bool = True,
) -> FullTextReport:
    """Store the full texts of `unarxive` JSONL files and `documents` (PDF/HTML named by arXiv
    id) in the mirror at `db_path` (created, or migrated to schema 2, if needed)."""
    report = FullTextReport()
    started = time.perf_counter()
    conn = db.connect(db_path, create=True)
    writer = _Writer(conn, report)
    bar = tqdm(desc="full text", unit=" paper", disable=not progress, file=sys.stderr)
    try:
        _run(writer, unarxive, documents, filters or Filters(), bar)
        writer.flush()
        if report.metadata_added:
            db.mark_changed(conn)
    finally:
        bar.close()
        conn.close()
    report.seconds = time.perf_counter() - started
    return report
