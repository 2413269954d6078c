"""Query execution for the mirror: arXiv's search_query/id_list semantics on SQLite FTS5.

Relevance is FTS5 BM25 with field weights (title 3x abstract). Scoring every match of common
terms is what makes naive FTS5 slow (every doc in the doclist gets scored), so results come in
coordination tiers, each scored only on a bounded head:

  1. every title-eligible term (all:/ti:) occurs in the title,
  2. every positive term occurs somewhere (only for queries with OR),
  3. some title-eligible term occurs in the title,
  4. the remaining matches.

A tier with at most RANK_CAP documents is ranked by BM25 in full; a larger tier has its newest
RANK_CAP documents ranked by BM25 and the rest follow newest first. When the whole match set is
at most RANK_CAP (any specific query), the order is plain BM25. Like arXiv, which serves at most
30,000 results per query, the result window is capped at WINDOW_CAP and totalResults reports the
served window, so clients that page to the end stop cleanly."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from memory.mirror import db, rank
from memory.mirror.query_parser import (
    QuerySyntaxError,
    Term,
    compile_term,
    encode_code,
    is_conjunction,
    parse,
    positive_terms,
    to_fts,
)
from memory.models import split_arxiv_id

WINDOW_CAP = 30_000
MAX_RESULTS = 2000
RANK_CAP = 300
DF_SAMPLE = 50_000
SORTS = {"relevance": None, "lastUpdatedDate": "updated", "submittedDate": "published"}
ORDERS = ("descending", "ascending")

_PAPER_COLS = (
    "rid, arxiv_id, version, title, abstract, authors, categories, published, updated, "
    "comment, journal_ref, doi"
)


class BadQuery(QuerySyntaxError):
    """Bad request parameters (id format, start, max_results, sort)."""


@dataclass(frozen=True)
class PaperRow:
    arxiv_id: str
    version: int
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published: str
    updated: str
    comment: str | None
    journal_ref: str | None
    doi: str | None

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"


@dataclass(frozen=True)
class ResultPage:
    total: int
    start: int
    max_results: int
    entries: list[PaperRow]


def _row(r: tuple) -> PaperRow:
    return PaperRow(
        arxiv_id=r[1],
        version=r[2],
        title=r[3],
        abstract=r[4],
        authors=json.loads(r[5]),
        categories=r[6].split(),
        published=r[7],
        updated=r[8],
        comment=r[9],
        journal_ref=r[10],
        doi=r[11],
    )


def parse_id_list(raw: str | Sequence[str]) -> list[tuple[str, int | None]]:
    """Split and validate an id_list; a malformed id is a 400, as on arXiv."""
    from memory.arxiv_client import is_arxiv_id

    items = raw.split(",") if isinstance(raw, str) else list(raw)
    out: list[tuple[str, int | None]] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        if not is_arxiv_id(item):
            raise BadQuery(f"incorrect id format for {item}")
        out.append(split_arxiv_id(item))
    return out


class MirrorIndex:
    """Read side of the mirror, safe to share between server threads (one connection each)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        conn = db.connect(self.path)
        try:
            if db.count_papers(conn) == 0:
                from memory.errors import UserError

                raise UserError(
                    f"the mirror at {self.path} is empty; run `sovereign mirror ingest FILE`"
                )
        finally:
            conn.close()
        self._corpus_cache: tuple[tuple[int, int], tuple[int, int, dict[str, float]]] | None = None
        self._df_cache: dict[str, float] = {}
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = db.connect(self.path)
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    # --- helpers ---------------------------------------------------------------------------

    def _count(self, expr: str, cap: int) -> int:
        sql = "SELECT count(*) FROM (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? LIMIT ?)"
        return int(self._conn().execute(sql, (expr, cap)).fetchone()[0])

    def _rows(self, rids: list[int]) -> list[PaperRow]:
        if not rids:
            return []
        marks = ",".join("?" * len(rids))
        found = {
            r[0]: r
            for r in self._conn().execute(
                f"SELECT {_PAPER_COLS} FROM papers WHERE rid IN ({marks})", rids
            )
        }
        return [_row(found[rid]) for rid in rids if rid in found]

    def _rowids_desc(self, expr: str, limit: int, offset: int = 0) -> list[int]:
        sql = (
            "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? "
            "ORDER BY rowid DESC LIMIT ? OFFSET ?"
        )
        return [r[0] for r in self._conn().execute(sql, (expr, limit, offset))]

    def _corpus(self) -> tuple[int, int, dict[str, float]]:
        """(documents, newest rid, average field lengths), cached per mirror generation."""
        conn = self._conn()
        gen = (
            conn.execute("PRAGMA data_version").fetchone()[0],
            conn.execute("SELECT max(rid) FROM papers").fetchone()[0] or 0,
        )
        if self._corpus_cache is None or self._corpus_cache[0] != gen:
            max_rid, t_len, a_len = conn.execute(
                "SELECT max(rid), avg(length(title)), avg(length(abstract)) FROM "
                "(SELECT rid, title, abstract FROM papers ORDER BY rid DESC LIMIT 5000)"
            ).fetchone()
            avg = {"title": float(t_len or 1.0), "abstract": float(a_len or 1.0)}
            n_docs = db.count_papers(conn)
            self._corpus_cache = (gen, (n_docs, int(max_rid or 0), avg))
            self._df_cache.clear()
        return self._corpus_cache[1]

    def _idf(self, terms: list[Term]) -> list[float]:
        n_docs, max_rid, _ = self._corpus()
        low = max(0, max_rid - DF_SAMPLE)
        sample = max(1, min(n_docs, max_rid - low))
        out = []
        for term in terms:
            key = compile_term(term)
            df = self._df_cache.get(key)
            if df is None:
                sql = "SELECT count(*) FROM papers_fts WHERE papers_fts MATCH ? AND rowid > ?"
                hits = int(self._conn().execute(sql, (key, low)).fetchone()[0])
                df = hits * n_docs / sample
                if len(self._df_cache) > 10_000:
                    self._df_cache.clear()
                self._df_cache[key] = df
            out.append(rank.idf(n_docs, df))
        return out

    def _scored(self, ast: object, rids: list[int]) -> list[int]:
        """rids ordered by BM25F (ties: newest first)."""
        terms = [t for t in positive_terms(ast) if t.field in rank.SCORED_FIELDS]  # type: ignore[arg-type]
        if not terms or len(rids) < 2:
            return rids
        scorer = rank.Scorer(terms, self._idf(terms), self._corpus()[2])
        scores: dict[int, float] = {}
        for start in range(0, len(rids), 900):
            chunk = rids[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for rid, title, abstract in self._conn().execute(
                f"SELECT rid, title, abstract FROM papers WHERE rid IN ({marks})", chunk
            ):
                scores[rid] = scorer.score(rank.Doc(rid, title, abstract))
        return sorted(rids, key=lambda r: (-scores.get(r, 0.0), -r))

    @staticmethod
    def _tiers(ast: object, expr: str) -> list[str]:
        pos = positive_terms(ast)  # type: ignore[arg-type]
        title_terms = [t for t in pos if t.field in ("all", "ti")]
        narrowing: list[str] = []

        def title(t: Term) -> str:
            return compile_term(t, ("title",))

        if title_terms:
            narrowing.append(" AND ".join(f"({title(t)})" for t in title_terms))
        if not is_conjunction(ast) and len(pos) > 1:  # type: ignore[arg-type]
            narrowing.append(" AND ".join(f"({compile_term(t)})" for t in pos))
        if len(title_terms) > 1:
            narrowing.append(" OR ".join(f"({title(t)})" for t in title_terms))
        tiers = []
        for i, x in enumerate(narrowing):
            t = f"({expr}) AND ({x})"
            if i:
                t = f"({t}) NOT ({' OR '.join(f'({p})' for p in narrowing[:i])})"
            tiers.append(t)
        rest = f"({expr}) NOT ({' OR '.join(f'({p})' for p in narrowing)})" if narrowing else expr
        tiers.append(rest)
        return tiers

    # --- the API ---------------------------------------------------------------------------

    def query(
        self,
        search_query: str = "",
        id_list: str | Sequence[str] = "",
        start: int = 0,
        max_results: int = 10,
        sort_by: str = "relevance",
        sort_order: str = "descending",
    ) -> ResultPage:
        if sort_by not in SORTS:
            raise BadQuery(f"sortBy must be one of {', '.join(SORTS)}")
        if sort_order not in ORDERS:
            raise BadQuery("sortOrder must be ascending or descending")
        if start < 0:
            raise BadQuery("start must be non-negative")
        if max_results < 0:
            raise BadQuery("max_results must be non-negative")
        max_results = min(max_results, MAX_RESULTS)
        ids = parse_id_list(id_list)
        search_query = search_query.strip()
        if not search_query and not ids:
            return ResultPage(0, start, max_results, [])
        if not search_query:
            return self._by_ids(ids, start, max_results, sort_by, sort_order)
        ast = parse(search_query)
        expr = to_fts(ast)
        if ids:
            found = self._resolve_ids(ids)
            if not found:
                return ResultPage(0, start, max_results, [])
            idexpr = " OR ".join(f'"{encode_code(a)}"' for a in dict.fromkeys(found.values()))
            expr = f"({expr}) AND (ident: ({idexpr}))"
        try:
            total = self._count(expr, WINDOW_CAP)
            limit = max(0, min(max_results, total - start))
            if limit == 0:
                return ResultPage(total, start, max_results, [])
            column = SORTS[sort_by]
            if column is not None:
                rids = self._by_date(expr, column, sort_order, start, limit)
            else:
                rids = self._by_relevance(ast, expr, total, start, limit, sort_order)
        except sqlite3.OperationalError as exc:
            raise BadQuery(f"malformed query: {exc}") from exc
        return ResultPage(total, start, max_results, self._rows(rids))

    def _by_relevance(
        self, ast: object, expr: str, total: int, start: int, limit: int, order: str
    ) -> list[int]:
        tiers = [expr] if total <= RANK_CAP else self._tiers(ast, expr)
        # ascending relevance (least relevant first) is the descending window reversed
        lo, hi = start, start + limit
        if order == "ascending":
            lo, hi = total - start - limit, total - start
        out: list[int] = []
        base = 0
        for i, tier in enumerate(tiers):
            if base >= hi:
                break
            last = i == len(tiers) - 1
            head = self._rowids_desc(tier, RANK_CAP + 1)
            if len(head) <= RANK_CAP:
                size = len(head)
            else:
                head = head[:RANK_CAP]
                if last:
                    size = total - base
                elif hi <= base + RANK_CAP:
                    size = RANK_CAP + 1  # only the head is served from this tier
                else:
                    size = self._count(tier, min(total - base, hi - base))
            a, b = max(lo, base), min(hi, base + size)
            if a < b:
                if a - base < len(head):
                    ranked = self._scored(ast, head)
                    out += ranked[a - base : min(b - base, len(head))]
                if b - base > len(head):
                    skip = max(0, a - base - len(head))
                    out += self._rowids_desc(tier, b - base - len(head) - skip, len(head) + skip)
            base += size
        return out if order == "descending" else out[::-1]

    def _by_date(self, expr: str, column: str, order: str, start: int, limit: int) -> list[int]:
        direction = "DESC" if order == "descending" else "ASC"
        sql = (
            f"SELECT p.rid FROM papers p WHERE p.rid IN "
            f"(SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?) "
            f"ORDER BY p.{column} {direction}, p.rid {direction} LIMIT ? OFFSET ?"
        )
        return [r[0] for r in self._conn().execute(sql, (expr, limit, start))]

    def _resolve_ids(self, ids: list[tuple[str, int | None]]) -> dict[int, str]:
        """rid -> arxiv_id for the requested ids the mirror holds (a requested version newer
        than the stored one is unknown; an older one is answered with the stored version)."""
        wanted = [a for a, _ in ids]
        marks = ",".join("?" * len(wanted))
        rows = (
            self._conn()
            .execute(
                f"SELECT rid, arxiv_id, version FROM papers WHERE arxiv_id IN ({marks})", wanted
            )
            .fetchall()
        )
        stored = {r[1]: (r[0], r[2]) for r in rows}
        out: dict[int, str] = {}
        for arxiv_id, version in ids:
            hit = stored.get(arxiv_id)
            if hit is not None and (version is None or version <= hit[1]):
                out[hit[0]] = arxiv_id
        return out

    def _by_ids(
        self,
        ids: list[tuple[str, int | None]],
        start: int,
        max_results: int,
        sort_by: str,
        sort_order: str,
    ) -> ResultPage:
        found = list(self._resolve_ids(ids))
        rows = self._rows(found)
        column = SORTS[sort_by]
        if column is not None:
            rows.sort(
                key=lambda r: (getattr(r, column), r.arxiv_id),
                reverse=sort_order == "descending",
            )
        return ResultPage(len(rows), start, max_results, rows[start : start + max_results])

    def stats(self) -> dict[str, object]:
        conn = self._conn()
        n, first, last = conn.execute(
            "SELECT count(*), min(published), max(updated) FROM papers"
        ).fetchone()
        return {"papers": n, "first_published": first, "last_updated": last}
