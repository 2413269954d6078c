"""Sort `mirror ingest` inputs by what they hold, so each goes to its own path: arXiv metadata
JSONL to the metadata ingest (unchanged), unarXive JSONL and PDF/HTML files to the full-text
ingest. Decided by content, not only by name: a unarXive line is a JSON object with both
`paper_id` and `body_text`; a PDF starts with `%PDF-`; anything named .pdf/.html/.htm, or
starting with `<`, is a document; a gzipped tar is arXiv e-print source (a document the
full-text ingest reports as not ingested)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from memory.errors import UserError

METADATA_SUFFIXES = (".json", ".jsonl", ".gz")
DOCUMENT_SUFFIXES = (".pdf", ".html", ".htm")
_FIRST_LINE_MAX = 256 * 1024 * 1024  # one unarXive line can be tens of MB; never unbounded
_TAR_MAGIC_AT = 257


@dataclass
class Inputs:
    metadata: list[Path] = field(default_factory=list)
    unarxive: list[Path] = field(default_factory=list)
    documents: list[Path] = field(default_factory=list)

    @property
    def fulltext(self) -> bool:
        return bool(self.unarxive or self.documents)


def _listed(folder: Path) -> list[Path]:
    """A directory stands for its metadata, unarXive and document files (not recursive)."""
    wanted = METADATA_SUFFIXES + DOCUMENT_SUFFIXES
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(wanted))
    if not found:
        raise UserError(f"{folder} holds no .json, .jsonl, .gz, .pdf or .html files")
    return found


def _first_line(path: Path, gz: bool) -> bytes:
    opener = gzip.open if gz else open
    try:
        with opener(path, "rb") as handle:
            while True:
                line = handle.readline(_FIRST_LINE_MAX)
                if not line or line.strip():
                    return bytes(line)
    except (OSError, EOFError):
        return b""  # unreadable: the metadata ingest reports it as it always has


def looks_unarxive(line: bytes) -> bool:
    """One unarXive 2022 record: a JSON object with `paper_id` and `body_text`."""
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return b'"body_text"' in line and b'"paper_id"' in line
    return isinstance(obj, dict) and "paper_id" in obj and "body_text" in obj


def _is_tar_gz(path: Path) -> bool:
    try:
        with gzip.open(path, "rb") as handle:
            block = handle.read(512)
    except (OSError, EOFError):
        return False
    return block[_TAR_MAGIC_AT : _TAR_MAGIC_AT + 5] == b"ustar"


def _kind(path: Path) -> str:
    if not path.exists():
        raise UserError(f"no such file: {path}")
    if path.name.lower().endswith(DOCUMENT_SUFFIXES):
        return "document"
    with path.open("rb") as probe:
        head = probe.read(1024)
    if b"%PDF-" in head:
        return "document"
    gz = head.startswith(b"\x1f\x8b")
    if gz and _is_tar_gz(path):
        return "document"
    line = _first_line(path, gz)
    if looks_unarxive(line):
        return "unarxive"
    if line.lstrip().startswith(b"<"):
        return "document"
    return "metadata"


def classify(paths: Sequence[Path]) -> Inputs:
    """Expand directories and sort every file into metadata, unarXive or document inputs; a
    missing path or an empty directory is a one-line UserError."""
    out = Inputs()
    for path in paths:
        for item in _listed(path) if path.is_dir() else [path]:
            kind = _kind(item)
            if kind == "metadata":
                out.metadata.append(item)
            elif kind == "unarxive":
                out.unarxive.append(item)
            else:
                out.documents.append(item)
    return out
