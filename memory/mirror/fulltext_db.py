"""Full texts in the mirror DB (tables created by `memory.mirror.db`, schema 2).

One `fulltext` row per (arXiv id, version, format): the parsed `FullText` as zlib-compressed
JSON, plus the original PDF or HTML bytes when that is what was ingested (HTML zlib-compressed,
PDF as is: it is compressed already). Version 0 means "not known" (a file named without one).
`sha256` is the hash of the input, so re-ingesting the same file or line changes nothing and a
changed one replaces the row in place (same `fid`).

Paragraph text is indexed in `fulltext_fts`, a contentless FTS5 table apart from the metadata
index: FTS rowid = fid * 2**20 + paragraph index. Being contentless keeps the text stored once
(compressed); deleting a paragraph from it needs its old text, which the stored document
holds."""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from memory import events
from memory.fulltext import FullText

ROWID_SHIFT = 1 << 20
StoredFormat = Literal["unarxive", "latexml", "pdf"]
Outcome = Literal["inserted", "updated", "unchanged"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pack_original(original: bytes | None, fmt: str) -> tuple[bytes | None, str | None]:
    if original is None:
        return None, None
    if fmt == "pdf":
        return original, "identity"
    return zlib.compress(original, 6), "zlib"


@dataclass(frozen=True)
class StoredFullText:
    """One stored full text; the blobs are decompressed only when asked for."""

    arxiv_id: str
    version: int
    format: str
    sha256: str
    source: str
    doc_blob: bytes
    original_blob: bytes | None
    original_codec: str | None

    def fulltext(self) -> FullText:
        return FullText.model_validate_json(zlib.decompress(self.doc_blob))

    def original(self) -> bytes | None:
        if self.original_blob is None:
            return None
        if self.original_codec == "zlib":
            return zlib.decompress(self.original_blob)
        return bytes(self.original_blob)


_COLS = "arxiv_id, version, format, sha256, source, doc, original, original_codec"


def stored_sha(conn: sqlite3.Connection, arxiv_id: str, version: int, fmt: str) -> str | None:
    """The input hash of the stored row for this key, or None: lets ingest skip parsing an
    unchanged input."""
    row = conn.execute(
        "SELECT sha256 FROM fulltext WHERE arxiv_id = ? AND version = ? AND format = ?",
        (arxiv_id, version, fmt),
    ).fetchone()
    return str(row[0]) if row else None


def _index(conn: sqlite3.Connection, fid: int, doc: FullText) -> None:
    if len(doc.paragraphs) >= ROWID_SHIFT:
        raise ValueError(f"{doc.paper_id}: {len(doc.paragraphs)} paragraphs exceed the index")
    conn.executemany(
        "INSERT INTO fulltext_fts(rowid, text) VALUES(?, ?)",
        [(fid * ROWID_SHIFT + p.index, p.text) for p in doc.paragraphs],
    )


def _unindex(conn: sqlite3.Connection, fid: int, old_blob: bytes) -> None:
    """Remove a stored document's paragraphs from the contentless index (it needs the text)."""
    old = FullText.model_validate_json(zlib.decompress(old_blob))
    conn.executemany(
        "INSERT INTO fulltext_fts(fulltext_fts, rowid, text) VALUES('delete', ?, ?)",
        [(fid * ROWID_SHIFT + p.index, p.text) for p in old.paragraphs],
    )


def put(
    conn: sqlite3.Connection,
    doc: FullText,
    key: tuple[str, int, StoredFormat],
    digest: str,
    source: str,
    original: bytes | None = None,
) -> Outcome:
    """Insert or replace the full text under `key` (arXiv id, version, format) inside the
    caller's transaction; an identical input hash leaves the row alone."""
    arxiv_id, version, fmt = key
    old = conn.execute(
        "SELECT fid, sha256, doc FROM fulltext WHERE arxiv_id = ? AND version = ? AND format = ?",
        key,
    ).fetchone()
    if old is not None and old[1] == digest:
        return "unchanged"
    blob = zlib.compress(doc.model_dump_json().encode("utf-8"), 6)
    packed, codec = _pack_original(original, fmt)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    values = (digest, source, len(doc.paragraphs), len(doc.tables), now, codec, blob, packed)
    if old is None:
        cur = conn.execute(
            "INSERT INTO fulltext(arxiv_id, version, format, sha256, source, paragraphs, "
            "tables, ingested, original_codec, doc, original) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (arxiv_id, version, fmt, *values),
        )
        fid = int(cur.lastrowid or 0)
    else:
        fid = int(old[0])
        _unindex(conn, fid, old[2])
        conn.execute(
            "UPDATE fulltext SET sha256 = ?, source = ?, paragraphs = ?, tables = ?, "
            "ingested = ?, original_codec = ?, doc = ?, original = ? WHERE fid = ?",
            (*values, fid),
        )
    _index(conn, fid, doc)
    payload = {"version": version, "format": fmt}
    events.append(conn, [(events.FULLTEXT_NEW, arxiv_id, payload)])  # same transaction
    return "inserted" if old is None else "updated"


def find(
    conn: sqlite3.Connection,
    arxiv_id: str,
    version: int | None,
    formats: Sequence[str],
    need_original: bool = False,
) -> StoredFullText | None:
    """The stored full text to serve for a request: the first of `formats` that is stored,
    its highest version. A requested version matches that version or an unknown one (0).
    A schema-1 mirror (no full-text table) has none."""
    marks = ",".join("?" * len(formats))
    sql = f"SELECT {_COLS} FROM fulltext WHERE arxiv_id = ? AND format IN ({marks})"
    params: list[object] = [arxiv_id, *formats]
    if version is not None:
        sql += " AND version IN (?, 0)"
        params.append(version)
    if need_original:
        sql += " AND original IS NOT NULL"
    try:
        rows = conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    if not rows:
        return None
    best = min(rows, key=lambda r: (list(formats).index(r[2]), -int(r[1])))
    return StoredFullText(*best)


def has_any(conn: sqlite3.Connection) -> bool:
    """Whether any full text is stored (a mirror of PDFs alone is still worth serving)."""
    try:
        return conn.execute("SELECT 1 FROM fulltext LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return False
        raise


def counts_by_format(conn: sqlite3.Connection) -> tuple[int, Counter[str]]:
    """(papers with any full text, papers per format)."""
    try:
        total = int(conn.execute("SELECT count(DISTINCT arxiv_id) FROM fulltext").fetchone()[0])
        rows = conn.execute(
            "SELECT format, count(DISTINCT arxiv_id) FROM fulltext GROUP BY format"
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0, Counter()
        raise
    return total, Counter({str(f): int(n) for f, n in rows})


@dataclass(frozen=True)
class BodyHit:
    arxiv_id: str
    version: int
    format: str
    paragraph_id: str


def search_body(conn: sqlite3.Connection, words: str, limit: int = 20) -> list[BodyHit]:
    """Paragraphs holding every word of `words` (each quoted, so no FTS5 syntax leaks in), best
    BM25 first. The /api/query index is not involved."""
    terms = [w.replace('"', '""') for w in words.split() if w.strip('"')]
    if not terms:
        return []
    expr = " AND ".join(f'"{t}"' for t in terms)
    rows = conn.execute(
        "SELECT rowid FROM fulltext_fts WHERE fulltext_fts MATCH ? ORDER BY rank LIMIT ?",
        (expr, limit),
    ).fetchall()
    hits: list[BodyHit] = []
    for (rowid,) in rows:
        fid, index = divmod(int(rowid), ROWID_SHIFT)
        row = conn.execute(
            "SELECT arxiv_id, version, format FROM fulltext WHERE fid = ?", (fid,)
        ).fetchone()
        if row is not None:
            hits.append(BodyHit(str(row[0]), int(row[1]), str(row[2]), f"p{index}"))
    return hits
