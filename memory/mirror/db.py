"""SQLite storage of the mirror: one `papers` row per arXiv id (newest version wins) and a
contentless FTS5 index over the searchable fields. Category and id columns are indexed as
single encoded tokens so `cat:cs.CV` is an exact match, not a phrase over `cs` and `cv`.

Schema 2 adds full texts (`fulltext`, one row per arXiv id, version and format, written by
`memory.mirror.fulltext_db`) and a separate contentless FTS5 index over their paragraphs, so
the metadata index and the /api/query semantics stay exactly as in schema 1. The migration is
additive: opening a schema-1 file for writing creates the two tables."""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from memory import events
from memory.errors import UserError
from memory.mirror.records import MirrorRecord

SCHEMA_VERSION = 2
FTS_COLUMNS = ("title", "abstract", "authors", "comment", "journal_ref", "cat", "ident")
TOKENIZER = "porter unicode61 remove_diacritics 2"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS papers(
    rid INTEGER PRIMARY KEY,
    arxiv_id TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    abstract TEXT NOT NULL,
    authors TEXT NOT NULL,
    categories TEXT NOT NULL,
    published TEXT NOT NULL,
    updated TEXT NOT NULL,
    comment TEXT,
    journal_ref TEXT,
    doi TEXT
);
CREATE VIRTUAL TABLE IF NOT EXISTS papers_fts USING fts5(
    {", ".join(FTS_COLUMNS)}, content='', columnsize=0, tokenize='{TOKENIZER}'
);
"""
# Small columns first, blobs last: SQLite reads a row's overflow pages only for the columns it
# needs, so listing and counting full texts never touches the compressed documents.
_FULLTEXT_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS fulltext(
    fid INTEGER PRIMARY KEY,
    arxiv_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    paragraphs INTEGER NOT NULL,
    tables INTEGER NOT NULL,
    ingested TEXT NOT NULL,
    original_codec TEXT,
    doc BLOB NOT NULL,
    original BLOB,
    UNIQUE(arxiv_id, version, format)
);
CREATE VIRTUAL TABLE IF NOT EXISTS fulltext_fts USING fts5(
    text, content='', tokenize='{TOKENIZER}'
);
"""
_INDEXES = """
CREATE INDEX IF NOT EXISTS papers_published ON papers(published);
CREATE INDEX IF NOT EXISTS papers_updated ON papers(updated);
"""

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def encode_token(code: str) -> str:
    """One FTS token for a category or id: 'cs.CV' -> 'qcs0cv', 'hep-th/9901001' -> 'qhep0th0...'.
    The tokenizer lower-cases, so codes match case-insensitively like arXiv."""
    low = code.lower()
    if low.isascii() and low.replace(".", "").replace("/", "").replace("-", "").isalnum():
        return "q" + low.replace(".", "0").replace("/", "0").replace("-", "0")
    return "q" + _NON_ALNUM.sub("0", low)


def category_tokens(categories: Sequence[str]) -> str:
    return _category_tokens(tuple(categories))


@functools.lru_cache(maxsize=4096)
def _category_tokens(categories: tuple[str, ...]) -> str:
    tokens: list[str] = []
    for code in categories:
        tokens.append(encode_token(code))
        if "." in code:
            archive = encode_token(code.split(".", 1)[0]) + "0"
            if archive not in tokens:
                tokens.append(archive)
    return " ".join(tokens)


@dataclass(slots=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    changed: list[events.NewEvent] = field(default_factory=list)  # appended to the event log


def connect(
    path: Path, *, create: bool = False, readonly: bool = False, unjournaled: bool = False
) -> sqlite3.Connection:
    """Open the mirror DB; a missing or empty DB without `create` is a one-line UserError.
    `unjournaled` is for a fresh DB that nobody sees until it is finished (no rollback journal:
    every page is written once, not into the WAL and again at the checkpoint)."""
    if not create and (not path.exists() or path.stat().st_size == 0):
        raise UserError(f"no mirror at {path}; run `sovereign mirror ingest FILE` first")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA cache_size=-65536")
    if create:
        conn.execute("PRAGMA journal_mode=OFF" if unjournaled else "PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA + _FULLTEXT_SCHEMA + events.EVENTS_SCHEMA)
        conn.execute(  # the migration from schema 1 is the additive script above
            "INSERT INTO meta(key, value) VALUES('schema_version', ?) ON CONFLICT(key) "
            "DO UPDATE SET value = excluded.value WHERE CAST(value AS INTEGER) < ?",
            (str(SCHEMA_VERSION), SCHEMA_VERSION),
        )
        conn.commit()
    else:
        row = conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='papers'"
        ).fetchone()
        if row is None:
            raise UserError(f"{path} is not a mirror DB; run `sovereign mirror ingest FILE` first")
    return conn


BULK_HASH_BYTES = 16 * 1024 * 1024
DEFAULT_HASH_BYTES = 1024 * 1024
BULK_CRISIS_MERGE = 1000  # segments per level before a forced merge (FTS5 allows < 2000)


BULK_MARK = "bulk_load"  # meta key: which ingest set bulk-load settings (mirror.interrupted)


def begin_bulk_load(conn: sqlite3.Connection, owner: str = "") -> None:
    """Let FTS5 pile up segments while loading and merge them once at the end: incremental
    merging during a bulk load rewrites the same postings many times, and so would forced
    ("crisis") merges of 64 segments. A 16 MB pending-terms hash (default 1 MB) flushes
    segments of ~15,000 records, and one final optimize merges them all. The settings are
    stored in the file, so `owner` is recorded beside them: a killed ingest is recognised
    and its settings undone by the next run (`end_bulk_load`)."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
        (BULK_MARK, owner, owner),
    )
    conn.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES('automerge', 0)")
    conn.execute(
        "INSERT INTO papers_fts(papers_fts, rank) VALUES('crisismerge', ?)", (BULK_CRISIS_MERGE,)
    )
    conn.execute(
        "INSERT INTO papers_fts(papers_fts, rank) VALUES('hashsize', ?)", (BULK_HASH_BYTES,)
    )
    conn.commit()


def finish_ingest(conn: sqlite3.Connection) -> None:
    """Merge the FTS segments into one (fast queries), restore incremental merging for later
    small ingests, and build the date indexes once."""
    conn.execute("INSERT INTO papers_fts(papers_fts) VALUES('optimize')")
    end_bulk_load(conn)
    conn.execute(
        "INSERT INTO meta(key, value) VALUES('generation', '1') ON CONFLICT(key) "
        "DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
    )
    conn.commit()
    conn.execute("PRAGMA journal_mode=WAL").fetchall()  # readers and later ingests use WAL
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def end_bulk_load(conn: sqlite3.Connection) -> None:
    """FTS5's incremental-merge settings back, the date indexes built and the owner mark
    dropped, committed: after a finished ingest, and after one that failed or was killed."""
    conn.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES('automerge', 4)")
    conn.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES('crisismerge', 16)")
    conn.execute(
        "INSERT INTO papers_fts(papers_fts, rank) VALUES('hashsize', ?)", (DEFAULT_HASH_BYTES,)
    )
    conn.execute("DELETE FROM meta WHERE key = ?", (BULK_MARK,))
    conn.executescript(_INDEXES)  # commits


def bulk_load_owner(conn: sqlite3.Connection) -> str | None:
    """The owner mark of an ingest that set bulk-load settings and has not ended them."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (BULK_MARK,)).fetchone()
    return None if row is None else str(row[0])


def generation(conn: sqlite3.Connection) -> str:
    """Changes whenever an ingest finishes: readers key their caches on it."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return str(row[0]) if row else "0"


def mark_changed(conn: sqlite3.Connection) -> None:
    """After a small write outside `ingest` (full-text ingest adding metadata rows): the date
    indexes exist and the generation moves on, so readers drop their cached counts."""
    conn.executescript(_INDEXES)
    conn.execute(
        "INSERT INTO meta(key, value) VALUES('generation', '1') ON CONFLICT(key) "
        "DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
    )
    conn.commit()


def count_papers(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM papers").fetchone()[0])


def _fts_values(
    title: str,
    abstract: str,
    authors: list[str],
    comment: str | None,
    journal_ref: str | None,
    categories: list[str],
    arxiv_id: str,
) -> tuple[str, str, str, str, str, str, str]:
    return (
        title,
        abstract,
        " ; ".join(authors),
        comment or "",
        journal_ref or "",
        category_tokens(categories),
        encode_token(arxiv_id),
    )


# arxiv_id, version, title, abstract, authors JSON, categories, published, updated, comment,
# journal_ref, doi
PaperValues = tuple[object, ...]
FtsValues = tuple[str, ...]
Prepared = tuple[PaperValues, FtsValues]


def _newer(row: PaperValues, version: int, updated: str) -> bool:
    """Newest version wins; at equal version a later or equal update date refreshes the row."""
    return (row[1], row[7]) >= (version, updated)


def prepare(rec: MirrorRecord) -> Prepared:
    """The papers row (without rid) and the FTS values of a record: plain tuples, so a parse
    process can hand them to the writer cheaply."""
    paper_row = (
        rec.arxiv_id,
        rec.version,
        rec.title,
        rec.abstract,
        json.dumps(rec.authors, ensure_ascii=False),
        " ".join(rec.categories),
        rec.published,
        rec.updated,
        rec.comment,
        rec.journal_ref,
        rec.doi,
    )
    fts = _fts_values(
        rec.title,
        rec.abstract,
        rec.authors,
        rec.comment,
        rec.journal_ref,
        rec.categories,
        rec.arxiv_id,
    )
    return paper_row, fts


def _same(row: PaperValues, old: tuple) -> bool:
    """Same version and content as the stored row: re-ingesting it changes nothing."""
    return (
        row[1] == old[2]
        and row[7] == old[3]
        and row[2] == old[4]
        and row[3] == old[5]
        and row[4] == old[6]
        and (row[8], row[9]) == (old[7], old[8])
        and row[5] == old[9]
    )


_PAPERS_INSERT = (
    "papers(rid, arxiv_id, version, title, abstract, authors, categories, published, updated, "
    "comment, journal_ref, doi) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def upsert(conn: sqlite3.Connection, rows: Iterable[Prepared]) -> UpsertCounts:
    """Insert or update prepared records by arXiv id inside the caller's transaction, with one
    event per new or updated paper in the same transaction (`memory.events`)."""
    counts = UpsertCounts()
    batch: dict[str, Prepared] = {}
    for item in rows:
        arxiv_id = str(item[0][0])
        prev = batch.get(arxiv_id)
        if prev is not None:
            counts.unchanged += 1
            if not _newer(item[0], prev[0][1], prev[0][7]):  # type: ignore[arg-type]
                continue
        batch[arxiv_id] = item
    if not batch:
        return counts
    ids = list(batch)
    existing: dict[str, tuple] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            "SELECT rid, arxiv_id, version, updated, title, abstract, authors, comment, "
            f"journal_ref, categories FROM papers WHERE arxiv_id IN ({marks})",
            chunk,
        ):
            existing[row[1]] = row
    next_rid = int(conn.execute("SELECT coalesce(max(rid), 0) FROM papers").fetchone()[0]) + 1
    new_rows = []
    replaced_rows = []
    fts_rows = []
    for arxiv_id, (paper_row, fts_values) in batch.items():
        old = existing.get(arxiv_id)
        if old is not None:
            if not _newer(paper_row, old[2], old[3]) or _same(paper_row, old):
                counts.unchanged += 1
                continue
            rid = old[0]
            conn.execute(
                f"INSERT INTO papers_fts(papers_fts, rowid, {', '.join(FTS_COLUMNS)}) "
                "VALUES('delete', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rid,
                    *_fts_values(
                        old[4], old[5], json.loads(old[6]), old[7], old[8], old[9].split(), arxiv_id
                    ),
                ),
            )
            counts.updated += 1
            replaced_rows.append((rid, *paper_row))
            counts.changed.append((events.PAPER_UPDATED, arxiv_id, {"version": paper_row[1]}))
        else:
            rid = next_rid
            next_rid += 1
            counts.inserted += 1
            new_rows.append((rid, *paper_row))
            counts.changed.append((events.PAPER_NEW, arxiv_id, {"version": paper_row[1]}))
        fts_rows.append((rid, *fts_values))
    if replaced_rows:
        conn.executemany(f"INSERT OR REPLACE INTO {_PAPERS_INSERT}", replaced_rows)
    # New rows cannot conflict (their ids were looked up, their rids are fresh). OR IGNORE
    # spares the statement journal that OR REPLACE needs, and opening one makes FTS5 flush
    # its pending terms: one small segment per batch instead of one per 16 MB of terms.
    before = conn.total_changes
    conn.executemany(f"INSERT OR IGNORE INTO {_PAPERS_INSERT}", new_rows)
    if conn.total_changes - before != len(new_rows):
        raise RuntimeError("mirror: a new paper row conflicted with a stored one")
    conn.executemany(
        f"INSERT INTO papers_fts(rowid, {', '.join(FTS_COLUMNS)}) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
        fts_rows,
    )
    events.append(conn, counts.changed)  # same transaction as the rows they announce
    return counts
