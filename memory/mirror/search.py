"""Query execution for the mirror: arXiv's search_query/id_list semantics on SQLite FTS5.

Relevance is BM25F with field weights (title 3, abstract 1; see memory.mirror.rank). Scoring
every match of common terms is what makes naive FTS5 slow, so FTS5 only selects, and ranking
works on a bounded pool:

  - the pool is every match when there are at most POOL_CAP; otherwise the newest POOL_CAP
    matches that have some query term (all:/ti:) in their title;
  - the pool is ordered by title coordination (how many query terms the title holds), and the
    first RANK_CAP of that order are re-ranked by BM25F over title and abstract;
  - matches outside the pool follow newest first (title matches before the others).

So a specific query (at most POOL_CAP matches) gets plain coordination + BM25F order over all
of its matches; a query of common words ranks the newest title matches. Like arXiv, which serves
at most 30,000 results per query, the window is capped at WINDOW_CAP and totalResults reports
the served window, so clients that page to the end stop cleanly."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from memory.mirror import db, fulltext_db, interrupted, rank
from memory.mirror.query_parser import (
    Term,
    compile_term,
    encode_code,
    is_conjunction,
    parse,
    positive_terms,
    to_fts,
)
from memory.mirror.rows import (
    PAPER_COLS,
    BadQuery,
    PaperRow,
    ResultPage,
    paper_row,
    parse_id_list,
)

WINDOW_CAP = 30_000
MAX_RESULTS = 2000
RANK_CAP = 200
POOL_CAP = 1000
DATE_WALK_MAX = 40_000  # rows of the date index a date-sorted page may walk
COUNT_FETCH = 5000  # match sets up to this size are fetched whole in one pass
DF_SAMPLE = 50_000
SORTS = {"relevance": None, "lastUpdatedDate": "updated", "submittedDate": "published"}
ORDERS = ("descending", "ascending")


class MirrorIndex:
    """Read side of the mirror, safe to share between server threads (pooled connections)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        conn = db.connect(self.path)  # one clear UserError when missing
        self.recovered = interrupted.recover_quietly(self.path)  # a killed ingest's settings
        try:
            if db.count_papers(conn) == 0 and not fulltext_db.has_any(conn):
                from memory.errors import UserError

                raise UserError(
                    f"the mirror at {self.path} is empty; run `sovereign mirror ingest FILE`"
                )
        finally:
            conn.close()
        self._corpus_cache: tuple[str, tuple[int, int, dict[str, float]]] | None = None
        self._count_cache: dict[tuple[str, int], int] = {}
        self._df_cache: dict[str, float] = {}
        self._local = threading.local()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            raise RuntimeError("MirrorIndex used outside _lease()")
        return conn

    @contextlib.contextmanager
    def _lease(self) -> Iterator[sqlite3.Connection]:
        """A pooled read connection for the current call: server threads come and go with
        client connections, so connections are pooled rather than kept per thread."""
        if getattr(self._local, "conn", None) is not None:  # re-entrant
            yield self._local.conn
            return
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = db.connect(self.path)
            conn.execute("PRAGMA query_only=1")
        self._local.conn = conn
        try:
            yield conn
        finally:
            self._local.conn = None
            with self._lock:
                if self._closed:
                    conn.close()
                else:
                    self._idle.append(conn)

    def connection(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A pooled read connection, for readers beside the API (the full-text documents)."""
        return self._lease()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for conn in self._idle:
                conn.close()
            self._idle.clear()

    # --- helpers ---------------------------------------------------------------------------

    def _count(self, expr: str, cap: int) -> int:
        """Matches of expr, counted up to cap; remembered per mirror generation because a
        client paging through one query asks for the same count on every page."""
        self._corpus()  # drops cached counts when an ingest has finished since
        key = (expr, cap)
        hit = self._count_cache.get(key)
        if hit is not None:
            return hit
        sql = "SELECT count(*) FROM (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? LIMIT ?)"
        n = int(self._conn().execute(sql, (expr, cap)).fetchone()[0])
        if len(self._count_cache) > 512:
            self._count_cache.clear()
        self._count_cache[key] = n
        return n

    def _rows(self, rids: list[int]) -> list[PaperRow]:
        if not rids:
            return []
        marks = ",".join("?" * len(rids))
        found = {
            r[0]: r
            for r in self._conn().execute(
                f"SELECT {PAPER_COLS} FROM papers WHERE rid IN ({marks})", rids
            )
        }
        return [paper_row(found[rid]) for rid in rids if rid in found]

    def _rowids_desc(self, expr: str, limit: int, offset: int = 0) -> list[int]:
        sql = (
            "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? "
            "ORDER BY rowid DESC LIMIT ? OFFSET ?"
        )
        return [r[0] for r in self._conn().execute(sql, (expr, limit, offset))]

    def _corpus(self) -> tuple[int, int, dict[str, float]]:
        """(documents, newest rid, average field lengths), cached per mirror generation."""
        conn = self._conn()
        gen = db.generation(conn)
        if self._corpus_cache is None or self._corpus_cache[0] != gen:
            max_rid, t_len, a_len = conn.execute(
                "SELECT max(rid), avg(length(title)), avg(length(abstract)) FROM "
                "(SELECT rid, title, abstract FROM papers ORDER BY rid DESC LIMIT 5000)"
            ).fetchone()
            avg = {"title": float(t_len or 1.0), "abstract": float(a_len or 1.0)}
            n_docs = db.count_papers(conn)
            self._corpus_cache = (gen, (n_docs, int(max_rid or 0), avg))
            self._df_cache.clear()
            self._count_cache.clear()
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

    def _pool_order(self, ast: object, pool: list[int]) -> list[int]:
        """Order a pool: title coordination, then BM25F on the first RANK_CAP."""
        terms = [t for t in positive_terms(ast) if t.field in ("all", "ti")]  # type: ignore[arg-type]
        if terms and len(pool) > RANK_CAP:
            count = rank.coordination(terms)
            coord: dict[int, int] = {}
            for start in range(0, len(pool), 900):
                chunk = pool[start : start + 900]
                marks = ",".join("?" * len(chunk))
                for rid, title in self._conn().execute(
                    f"SELECT rid, title FROM papers WHERE rid IN ({marks})", chunk
                ):
                    coord[rid] = count(title)
            pool = sorted(pool, key=lambda r: (-coord.get(r, 0), -r))
        head = self._scored(ast, pool[:RANK_CAP])
        return head + pool[RANK_CAP:]

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
        """One arXiv API call; QuerySyntaxError (HTTP 400) for malformed input."""
        with self._lease():
            return self._query(search_query, id_list, start, max_results, sort_by, sort_order)

    def _query(
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
            # one pass serves both the count and the pool when the match set is small
            head = self._rowids_desc(expr, COUNT_FETCH + 1)
            total = len(head) if len(head) <= COUNT_FETCH else self._count(expr, WINDOW_CAP)
            limit = max(0, min(max_results, total - start))
            if limit == 0:
                return ResultPage(total, start, max_results, [])
            column = SORTS[sort_by]
            if column is not None:
                dense = len(head) > COUNT_FETCH
                rids = self._by_date(
                    expr, column, sort_order, start, limit, total, None if dense else head
                )
            else:
                small = head if len(head) <= COUNT_FETCH else None
                rids = self._by_relevance(ast, expr, total, start, limit, sort_order, small)
        except sqlite3.OperationalError as exc:
            raise BadQuery(f"malformed query: {exc}") from exc
        return ResultPage(total, start, max_results, self._rows(rids))

    def _by_relevance(
        self,
        ast: object,
        expr: str,
        total: int,
        start: int,
        limit: int,
        order: str,
        small: list[int] | None = None,
    ) -> list[int]:
        # ascending relevance (least relevant first) is the descending window reversed
        lo, hi = start, start + limit
        if order == "ascending":
            lo, hi = total - start - limit, total - start
        title_terms = [t for t in positive_terms(ast) if t.field in ("all", "ti")]  # type: ignore[arg-type]
        in_title = " OR ".join(f"({compile_term(t, ('title',))})" for t in title_terms)
        implied = is_conjunction(ast) and all(t.field == "ti" for t in title_terms)  # type: ignore[arg-type]
        if (small is not None and len(small) <= POOL_CAP) or not in_title or implied:
            pool_expr = expr
        else:
            pool_expr = f"({expr}) AND ({in_title})"
        if small is not None and pool_expr == expr:
            pool = small[:POOL_CAP]
        else:
            pool = self._rowids_desc(pool_expr, POOL_CAP)
        n_pool = len(pool)
        out: list[int] = []
        if lo < n_pool:
            out += self._pool_order(ast, pool)[lo : min(hi, n_pool)]
        if hi <= n_pool:
            return out if order == "descending" else out[::-1]
        # after the pool: the rest of pool_expr newest first, then (if the pool was restricted
        # to title matches) the matches without a title match, newest first
        a = max(lo, n_pool)
        if pool_expr == expr:
            out += self._rowids_desc(expr, hi - a, a)
        else:
            size_b = self._count(pool_expr, hi)  # capped: only needed up to the window's end
            if a < size_b:
                out += self._rowids_desc(pool_expr, min(hi, size_b) - a, a)
            if hi > size_b:
                c0 = max(a, size_b) - size_b
                rest = f"({expr}) NOT ({in_title})"
                out += self._rowids_desc(rest, hi - max(a, size_b), c0)
        return out if order == "descending" else out[::-1]

    def _by_date(
        self,
        expr: str,
        column: str,
        order: str,
        start: int,
        limit: int,
        total: int,
        matches: list[int] | None,
    ) -> list[int]:
        """`matches` is the whole match set when it was small enough to fetch."""
        direction = "DESC" if order == "descending" else "ASC"
        need = start + limit
        if matches is not None:
            keyed: list[tuple[str, int]] = []
            for at in range(0, len(matches), 900):
                chunk = matches[at : at + 900]
                marks = ",".join("?" * len(chunk))
                keyed += (
                    self._conn()
                    .execute(f"SELECT {column}, rid FROM papers WHERE rid IN ({marks})", chunk)
                    .fetchall()
                )
            keyed.sort(reverse=direction == "DESC")
            return [rid for _, rid in keyed[start:need]]
        n_docs = self._corpus()[0]
        if n_docs and need * n_docs / max(total, 1) <= DATE_WALK_MAX:
            return self._date_walk(expr, column, direction, need, total / n_docs)[start:need]
        sql = (
            f"SELECT p.rid FROM papers p WHERE p.rid IN "
            f"(SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?) "
            f"ORDER BY p.{column} {direction}, p.rid {direction} LIMIT ? OFFSET ?"
        )
        return [r[0] for r in self._conn().execute(sql, (expr, limit, start))]

    def _date_walk(
        self, expr: str, column: str, direction: str, need: int, density: float
    ) -> list[int]:
        """For a common match set, walk the date index and keep the rows that match: about
        need/density rows are read instead of sorting every match."""
        conn = self._conn()
        cmp = "<" if direction == "DESC" else ">"
        chunk = max(64, min(4000, int(need / max(density, 1e-6) * 1.3) + 16))
        found: list[int] = []
        cursor: tuple[str, int] | None = None
        while len(found) < need:
            where = f"WHERE ({column}, rid) {cmp} (?, ?)" if cursor else ""
            rows = conn.execute(
                f"SELECT rid, {column} FROM papers {where} "
                f"ORDER BY {column} {direction}, rid {direction} LIMIT ?",
                (*cursor, chunk) if cursor else (chunk,),
            ).fetchall()
            if not rows:
                break
            ids = [r[0] for r in rows]
            marks = ",".join("?" * len(ids))
            hits = {
                r[0]
                for r in conn.execute(
                    f"SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? AND rowid IN ({marks})",
                    (expr, *ids),
                )
            }
            found += [rid for rid in ids if rid in hits]
            cursor = (rows[-1][1], rows[-1][0])
            chunk = min(chunk * 2, 4000)
        return found

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
        with self._lease() as conn:
            n, first, last = conn.execute(
                "SELECT count(*), min(published), max(updated) FROM papers"
            ).fetchone()
        return {"papers": n, "first_published": first, "last_updated": last}
