"""Full texts of papers: one model (`FullText`) whatever the source, and readers for unarXive
JSONL, arXiv's LaTeXML HTML, PDF and arXiv e-print LaTeX source. `read_fulltext` picks the
reader from the content.

Paragraph and sentence ids are positional ("p12", "p12.s3") and stable across re-reads of the
same file; text is never truncated; a file that cannot be read raises `FullTextError` with a
one-line reason."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from memory.fulltext.errors import FullTextError
from memory.fulltext.model import (
    Cell,
    Figure,
    FullText,
    FullTextPassage,
    Paragraph,
    Reference,
    Section,
    Sentence,
    SourceFormat,
    Table,
)

__all__ = [
    "Cell",
    "Figure",
    "FullText",
    "FullTextError",
    "FullTextPassage",
    "Paragraph",
    "Reference",
    "Section",
    "Sentence",
    "SourceFormat",
    "Table",
    "detect_format",
    "read_fulltext",
]

Source = str | Path | bytes | Mapping[str, Any]
_ARXIV_STEM = re.compile(r"^(\d{4}\.\d{4,5})(?:v(\d+))?$")


def detect_format(data: bytes) -> SourceFormat | Literal["unknown"]:
    """The format of raw content: '%PDF-' magic, gzip (an e-print tarball), a JSON object with
    'body_text' (one unarXive line), or HTML with LaTeXML classes (or any HTML)."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"\x1f\x8b"):
        return "latex"
    stripped = head.lstrip()
    if stripped.startswith(b"{") and b'"body_text"' in data:
        return "unarxive"
    if b"ltx_" in data[:200_000] or re.search(rb"<(!doctype html|html|body|p)\b", head, re.I):
        return "latexml"
    return "unknown"


def _load(source: Source) -> tuple[bytes | Mapping[str, Any], str]:
    """The content and a paper id guessed from the file name (arXiv ids only)."""
    if isinstance(source, Mapping):
        return source, ""
    if isinstance(source, bytes):
        return source, ""
    text = str(source)
    looks_like_content = text.lstrip()[:1] in ("<", "{") or "\n" in text
    if isinstance(source, str) and looks_like_content:
        return text.encode("utf-8"), ""
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FullTextError(f"cannot read {path}: {e.strerror or e}") from None
    stem = path.name.split(".tei")[0]
    stem = re.sub(r"\.(pdf|html?|jsonl?|gz|tar)$", "", stem, flags=re.I)
    m = _ARXIV_STEM.match(stem)
    return data, m.group(1) if m else ""


def _unarxive(data: bytes | Mapping[str, Any]) -> FullText:
    from memory.fulltext.unarxive import parse_record

    if isinstance(data, Mapping):
        return parse_record(data)
    lines = [ln for ln in data.splitlines() if ln.strip()]
    if len(lines) != 1:
        raise FullTextError(
            f"{len(lines)} JSONL lines: read_fulltext reads one paper, use read_unarxive"
        )
    try:
        record = json.loads(lines[0])
    except json.JSONDecodeError as e:
        raise FullTextError(f"not JSON: {e.msg} at column {e.colno}") from None
    return parse_record(record)


def read_fulltext(
    source: Source, fmt: SourceFormat | None = None, paper_id: str | None = None
) -> FullText:
    """Read one paper's full text from a path, raw bytes, a content string, or a parsed
    unarXive record; `fmt` overrides detection. Raises FullTextError."""
    data, guessed = _load(source)
    if fmt is None:
        fmt = "unarxive" if isinstance(data, Mapping) else None
    if fmt is None:
        assert isinstance(data, bytes)
        found = detect_format(data)
        if found == "unknown":
            raise FullTextError(
                "unknown full-text format (not PDF, HTML, unarXive JSON or e-print)"
            )
        fmt = found
    pid = paper_id or guessed
    if fmt == "unarxive":
        doc = _unarxive(data)
    elif isinstance(data, Mapping):
        raise FullTextError(f"a JSON record cannot be read as {fmt}")
    elif fmt == "pdf":
        from memory.fulltext.pdf import parse_pdf

        doc = parse_pdf(data, paper_id=pid)
    elif fmt == "latexml":
        from memory.fulltext.latexml import parse_latexml

        doc = parse_latexml(data, paper_id=pid)
    else:
        from memory.fulltext.latex import parse_eprint

        doc = parse_eprint(data, paper_id=pid)
    if paper_id:
        doc.paper_id = paper_id
    return doc
