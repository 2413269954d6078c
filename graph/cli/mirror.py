"""`sovereign mirror ingest|serve|stats`: build and serve the offline arXiv mirror."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from graph.cli.args import port
from graph.settings import Settings
from memory.errors import UserError


def _db(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(args.db).expanduser() if args.db else settings.mirror_path


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Metadata files go through the metadata ingest unchanged; unarXive JSONL and PDF/HTML
    files through the full-text ingest. Exit 1 when no input held anything valid."""
    from memory.mirror.ingest import Filters, ingest, parse_since
    from memory.mirror.inputs import classify

    filters = Filters(categories=tuple(args.category or ()), since=parse_since(args.since))
    db_path = _db(args, settings)
    inputs = classify([Path(p) for p in args.paths])
    valid = 0
    if inputs.metadata:
        report = ingest(db_path, inputs.metadata, filters, progress=not args.quiet)
        print(f"{report.summary()} -> {db_path}")
        valid += report.good + report.filtered
    if inputs.fulltext:
        from memory.mirror.fulltext_ingest import ingest_fulltext

        ft = ingest_fulltext(
            db_path, inputs.unarxive, inputs.documents, filters, progress=not args.quiet
        )
        print(f"{ft.summary()} -> {db_path}")
        valid += ft.valid
    if valid == 0:
        print("mirror ingest: nothing valid was ingested", file=sys.stderr)
        return 1
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from memory.mirror.server import serve

    try:
        serve(_db(args, settings), host=args.host, port=args.port, verbose=not args.quiet)
    except KeyboardInterrupt:
        print("mirror stopped", file=sys.stderr)
    return 0


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from memory.mirror import db, fulltext_db

    db_path = _db(args, settings)
    conn = db.connect(db_path)
    try:
        n, first, last = conn.execute(
            "SELECT count(*), min(published), max(updated) FROM papers"
        ).fetchone()
        with_text, by_format = fulltext_db.counts_by_format(conn)
        if not n and not with_text:
            raise UserError(f"the mirror at {db_path} is empty; run `sovereign mirror ingest`")
        top = conn.execute(
            "SELECT substr(categories, 1, instr(categories || ' ', ' ') - 1) AS c, count(*) "
            "FROM papers GROUP BY c ORDER BY count(*) DESC LIMIT 8"
        ).fetchall()
    finally:
        conn.close()
    size = db_path.stat().st_size / 1e6
    span = f", published {first[:10]} .. updated {last[:10]}" if n else ""
    print(f"{db_path}: {n:,} papers, {size:,.0f} MB{span}")
    print("primary categories: " + ", ".join(f"{c or '-'} {k:,}" for c, k in top))
    formats = ", ".join(f"{f} {k:,}" for f, k in sorted(by_format.items())) or "none"
    print(f"full text: {with_text:,} papers ({formats})")
    return 0


def register(subparsers: Any) -> None:
    mirror = subparsers.add_parser("mirror", help="offline arXiv mirror (ingest, serve, stats)")
    sub = mirror.add_subparsers(dest="mirror_command", metavar="ACTION", required=True)

    ing = sub.add_parser(
        "ingest", help="stream arXiv metadata JSONL (plain or .gz) and full texts into the DB"
    )
    ing.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="bulk snapshot or listing JSONL (plain or .gz), unarXive JSONL, PDF or LaTeXML "
        "HTML files named by arXiv id (2203.00130v1.pdf, 2203.00130.html), or directories",
    )
    ing.add_argument(
        "--category",
        action="append",
        metavar="X",
        help="keep records (and unarXive papers) with this category (repeatable; 'cs' keeps "
        "every cs.*)",
    )
    ing.add_argument("--since", metavar="YYYY-MM", help="keep records first published since")
    ing.add_argument("--db", help="mirror DB file (default $SOVEREIGN_HOME/mirror.db)")
    ing.add_argument("--quiet", action="store_true", help="no progress bar")
    ing.set_defaults(func=_ingest)

    srv = sub.add_parser("serve", help="serve arXiv's /api/query, /html/<id>, /pdf/<id>")
    srv.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (loopback)")
    srv.add_argument("--port", type=port, default=8000, help="0 picks a free port")
    srv.add_argument("--db", help="mirror DB file (default $SOVEREIGN_HOME/mirror.db)")
    srv.add_argument("--quiet", action="store_true", help="no per-request log lines")
    srv.set_defaults(func=_serve)

    st = sub.add_parser("stats", help="size and coverage of the mirror")
    st.add_argument("--db", help="mirror DB file (default $SOVEREIGN_HOME/mirror.db)")
    st.set_defaults(func=_stats)
