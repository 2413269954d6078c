"""`sovereign memory ...`: look into and fill the vector memory by hand (stats, index, search)."""

from __future__ import annotations

import argparse
import gzip
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from graph.cli.args import positive_int
from memory.embeddings import embedder_from_config
from memory.errors import UserError
from memory.models import Paper, split_arxiv_id
from memory.text import elide
from memory.vector_store import UpsertStats, VectorMemory


def register(subparsers: Any) -> None:
    mem = subparsers.add_parser("memory", help="vector memory (Chroma): stats, index, search")
    sub = mem.add_subparsers(dest="memory_command", metavar="ACTION", required=True)

    stats = sub.add_parser("stats", help="records stored, by kind, and where")
    stats.set_defaults(func=_stats)

    index = sub.add_parser("index", help="embed and store papers from a JSONL file or mirror DB")
    index.add_argument(
        "path",
        type=Path,
        help="arXiv JSONL (listing or bulk format, .gz ok) or the mirror's SQLite file",
    )
    index.add_argument("--limit", type=positive_int, default=None, help="index at most N papers")
    index.add_argument("--no-sentences", action="store_true", help="paper records only")
    index.add_argument(
        "--chunk", type=positive_int, default=200, help="papers per write (default 200)"
    )
    index.set_defaults(func=_index)

    search = sub.add_parser("search", help="nearest passages to a text")
    search.add_argument("text", help="the text to find passages near (quote it)")
    search.add_argument("-k", type=positive_int, default=5, help="passages to show (default 5)")
    search.add_argument(
        "--kind",
        choices=("sentence", "paper"),
        default="sentence",
        help="search sentences (default) or whole papers",
    )
    search.add_argument("--exclude", action="append", default=[], help="source id to leave out")
    search.set_defaults(func=_search)


def _open_memory(settings: Any) -> VectorMemory:
    return VectorMemory.from_settings(settings, embedder_from_config(settings.embedding_config()))


def _stats(args: argparse.Namespace, settings: Any) -> int:
    mem = _open_memory(settings)
    counts = mem.count()
    print(f"location:   {mem.location}")
    print(f"collection: {mem.collection_name}")
    print(f"model:      {mem.embedder.model_id} ({mem.embedder.dim}-d)")
    print(f"papers:     {counts['papers']}")
    print(f"sentences:  {counts['sentences']}")
    return 0


def _json_paper(obj: dict[str, Any]) -> Paper:
    """A Paper from one arXiv JSONL object: listing (`summary`) or bulk (`abstract`) format."""
    arxiv_id, version = split_arxiv_id(str(obj["id"]))
    versions = obj.get("versions") or []
    if version is None and versions:
        version = len(versions)
    cats = obj.get("categories") or []
    if isinstance(cats, str):
        cats = cats.split()
    published = None
    if obj.get("listing_date"):
        published = datetime.fromisoformat(str(obj["listing_date"]))
    return Paper(
        arxiv_id=arxiv_id,
        version=version or 1,
        title=" ".join(str(obj["title"]).split()),
        abstract=str(obj.get("summary") or obj.get("abstract") or ""),
        categories=list(cats),
        published=published,
    )


def _read_jsonl(path: Path) -> Iterator[Paper]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield _json_paper(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise UserError(f"{path}:{n}: not an arXiv record ({exc})") from exc


def _read_mirror(path: Path) -> Iterator[Paper]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        rows = conn.execute(
            "SELECT arxiv_id, version, title, abstract, categories, published FROM papers "
            "ORDER BY rid"
        )
    except sqlite3.Error as exc:
        raise UserError(f"{path} is not a mirror database: {exc}") from exc
    try:
        for arxiv_id, version, title, abstract, cats, published in rows:
            yield Paper(
                arxiv_id=arxiv_id,
                version=int(version),
                title=" ".join(title.split()),
                abstract=abstract,
                categories=str(cats).split(),
                published=datetime.fromisoformat(published.replace("Z", "+00:00"))
                if published
                else None,
            )
    finally:
        conn.close()


def read_papers(path: Path) -> Iterator[Paper]:
    if not path.exists():
        raise UserError(f"{path} does not exist")
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(b"SQLite format 3"):
        return _read_mirror(path)
    return _read_jsonl(path)


def _index(args: argparse.Namespace, settings: Any) -> int:
    if args.chunk < 1 or (args.limit is not None and args.limit < 0):
        raise UserError("--chunk must be >= 1 and --limit >= 0")
    mem = _open_memory(settings)
    total = UpsertStats(documents=0, sentences=0, embedded=0, unchanged=0)
    batch: list[Paper] = []
    started = time.monotonic()

    def flush() -> None:
        s = mem.upsert_papers(batch, sentences=not args.no_sentences)
        for field in ("documents", "sentences", "embedded", "unchanged", "removed", "superseded"):
            setattr(total, field, getattr(total, field) + getattr(s, field))
        rate = total.embedded / max(time.monotonic() - started, 1e-9)
        print(
            f"  {total.documents} papers, {total.embedded} texts embedded ({rate:.1f}/s), "
            f"{total.unchanged} unchanged",
            file=sys.stderr,
        )
        batch.clear()

    for n, paper in enumerate(read_papers(args.path)):
        if args.limit is not None and n >= args.limit:
            break
        batch.append(paper)
        if len(batch) >= args.chunk:
            flush()
    if batch:
        flush()
    print(total.model_dump_json())
    return 0


def _search(args: argparse.Namespace, settings: Any) -> int:
    mem = _open_memory(settings)
    for hit in mem.query(args.text, args.k, kind=args.kind, exclude_sources=args.exclude):
        where = f"{hit.source_id}v{hit.version}"
        if hit.sentence_index is not None:
            where += f" s{hit.sentence_index}"
        print(f"{hit.score:.3f}  {where:<22} {elide(hit.text, 100)}")
    return 0
