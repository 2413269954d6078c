"""`/html/<id>` and `/pdf/<id>` of the mirror, answered as arxiv.org answers them, so the
full-text fetcher reads the mirror and arXiv through one code path.

`/pdf/<id>` serves the stored PDF bytes. `/html/<id>` serves the stored LaTeXML HTML when that
was ingested, else renders a unarXive full text as LaTeXML-style HTML (which the project's
LaTeXML reader parses back to the same sections, paragraphs and tables). The id may carry a
version (`2203.00130v1`, and `.pdf` after a PDF id as arXiv allows); without one the highest
stored version is served. Anything absent is a 404 with a one-line body."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from memory.arxiv_client import is_arxiv_id
from memory.fulltext.render import render_latexml
from memory.mirror import fulltext_db
from memory.models import split_arxiv_id

HTML_TYPE = "text/html; charset=utf-8"
PDF_TYPE = "application/pdf"
TEXT_TYPE = "text/plain; charset=utf-8"
ROUTES = ("/html/", "/pdf/")


@dataclass(frozen=True)
class Document:
    status: int
    body: bytes
    content_type: str


def _missing(what: str) -> Document:
    return Document(404, f"{what}\n".encode(), TEXT_TYPE)


def _ident(raw: str, kind: str) -> tuple[str, int | None] | None:
    ident = raw.strip("/")
    if kind == "pdf":
        ident = ident.removesuffix(".pdf")
    return split_arxiv_id(ident) if is_arxiv_id(ident) else None


def _html(conn: sqlite3.Connection, arxiv_id: str, version: int | None) -> Document | None:
    found = fulltext_db.find(conn, arxiv_id, version, ("latexml", "unarxive"))
    if found is None:
        return None
    original = found.original()
    if original is not None:
        return Document(200, original, HTML_TYPE)
    page = render_latexml(found.fulltext())
    return Document(200, page.encode("utf-8"), HTML_TYPE)


def _pdf(conn: sqlite3.Connection, arxiv_id: str, version: int | None) -> Document | None:
    found = fulltext_db.find(conn, arxiv_id, version, ("pdf",), need_original=True)
    original = found.original() if found is not None else None
    return Document(200, original, PDF_TYPE) if original is not None else None


def is_document_path(path: str) -> bool:
    return path.startswith(ROUTES)


def answer_document(conn: sqlite3.Connection, path: str) -> Document:
    """The response for a `/html/...` or `/pdf/...` path (see `is_document_path`); a failure
    is an answer (500), not a dropped connection the client would retry."""
    try:
        return _answer(conn, path)
    except Exception as exc:
        return Document(500, f"internal error: {type(exc).__name__}\n".encode(), TEXT_TYPE)


def _answer(conn: sqlite3.Connection, path: str) -> Document:
    kind = "html" if path.startswith("/html/") else "pdf"
    rest = path[len(kind) + 2 :]
    parsed = _ident(rest, kind)
    if parsed is None:
        return _missing(f"not an arXiv id: {rest[:100]}")
    arxiv_id, version = parsed
    shown = f"{arxiv_id}v{version}" if version else arxiv_id
    found = _html(conn, arxiv_id, version) if kind == "html" else _pdf(conn, arxiv_id, version)
    if found is None:
        return _missing(f"no {kind.upper()} for {shown} in this mirror")
    return found
