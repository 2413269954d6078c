"""Reader for unarXive 2022 JSONL (one paper a line; text with `{{cite:…}}`, `{{formula:…}}`,
`{{table:…}}` and `{{figure:…}}` placeholders resolved through `bib_entries`/`ref_entries`).

Citation placeholders are removed from the text (a hash or a "[12]" inside a sentence would
end up in quotes and embeddings) and kept as `Paragraph.citations`; formulas become their
LaTeX between dollars; table and figure placeholders mark where a float was and become caption-
only tables and figures (this subset of unarXive keeps no table cells)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from memory.fulltext.builder import DocBuilder
from memory.fulltext.errors import FullTextError
from memory.fulltext.model import FullText, ParagraphKind

_PLACEHOLDER = re.compile(r"\{\{(cite|formula|table|figure):([^{}]*)\}\}")
_LEVELS = {"section": 1, "subsection": 2, "subsubsection": 3, "paragraph": 4}
_KINDS: dict[str, ParagraphKind] = {"paragraph": "text", "list": "list", "proof": "proof"}
_VERSION = re.compile(r"v(\d+)$")


def _tidy(text: str) -> str:
    """Spaces and punctuation left behind where citations were removed."""
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\(\s*(?:[,;]\s*)*\)|\[\s*(?:[,;]\s*)*\]", "", text)  # "( )", "[, ]"
    text = re.sub(r"(?:\s*[,;])+(?=\s*[,;.)])", "", text)  # ", ," before punctuation
    text = re.sub(r"\s+([,.;:)\]])", r"\1", text)
    return text.strip()


def _formula(entry: Mapping[str, Any] | None) -> str:
    latex = (entry or {}).get("latex") or ""
    latex = " ".join(str(latex).split())
    return f"${latex}$" if latex else "[formula]"


def _render(
    text: str,
    refs: Mapping[str, Any],
    bib_ids: Mapping[str, str],
    doc: DocBuilder,
    seen_floats: set[str],
) -> tuple[str, list[str]]:
    """Text with placeholders resolved, and the reference ids it cites."""
    cites: list[str] = []
    out: list[str] = []
    last = 0
    for m in _PLACEHOLDER.finditer(text):
        out.append(text[last : m.start()])
        last = m.end()
        kind, key = m.group(1), m.group(2)
        if kind == "cite":
            if key in bib_ids and bib_ids[key] not in cites:
                cites.append(bib_ids[key])
        elif kind == "formula":
            out.append(_formula(refs.get(key)))
        elif key not in seen_floats:
            seen_floats.add(key)
            _float(kind, refs.get(key) or {}, doc)
    out.append(text[last:])
    return _tidy("".join(out)), cites


def _float(kind: str, entry: Mapping[str, Any], doc: DocBuilder) -> None:
    caption = str(entry.get("caption") or "")
    caption = "" if caption == "NO_CAPTION" else caption
    if kind == "table":
        doc.table(caption)
    else:
        doc.figure(caption)


def _bibliography(record: Mapping[str, Any], doc: DocBuilder) -> dict[str, str]:
    """Add the bib entries as references; map each entry's hash to its reference id."""
    ids: dict[str, str] = {}
    entries = record.get("bib_entries") or {}
    if not isinstance(entries, Mapping):
        doc.warn("bib_entries is not an object; references skipped")
        return ids
    for key, entry in entries.items():
        if not isinstance(entry, Mapping):
            continue
        known = entry.get("ids") or {}
        contained = next(iter(entry.get("contained_arXiv_ids") or []), None)
        if isinstance(contained, Mapping):  # {'id': '2002.11768', 'text': ..., 'start': ...}
            contained = contained.get("id")
        arxiv = known.get("arxiv_id") or contained
        ref = doc.reference(
            str(entry.get("bib_entry_raw") or ""),
            arxiv_id=str(arxiv) if arxiv else None,
            doi=str(known["doi"]) if known.get("doi") else None,
        )
        if ref is not None:
            ids[key] = ref.id
    return ids


def _version(meta: Mapping[str, Any]) -> int | None:
    versions = meta.get("versions") or []
    if versions and isinstance(versions[-1], Mapping):
        m = _VERSION.search(str(versions[-1].get("version", "")))
        if m:
            return int(m.group(1))
    return None


def _require(record: Any) -> None:
    if not isinstance(record, Mapping):
        raise FullTextError("unarXive record is not a JSON object")
    for field in ("paper_id", "body_text"):
        if field not in record:
            raise FullTextError(f"unarXive record lacks '{field}'")
    if not isinstance(record["body_text"], list):
        raise FullTextError("unarXive record's 'body_text' is not a list")


def parse_record(record: Mapping[str, Any]) -> FullText:
    """One unarXive record (a parsed JSONL line) as a FullText; FullTextError when required
    fields are missing."""
    _require(record)
    doc = DocBuilder("unarxive")
    meta = record.get("metadata") or {}
    refs = record.get("ref_entries") or {}
    bib_ids = _bibliography(record, doc)
    abstract = str((record.get("abstract") or {}).get("text") or meta.get("abstract") or "")
    body = record["body_text"]
    has_abstract = any((b or {}).get("section") == "Abstract" for b in body[:3])
    if abstract.strip() and not has_abstract:
        doc.section("", "Abstract")
        doc.paragraph(abstract)
    seen_floats: set[str] = set()
    current: tuple[str, str] | None = None
    for i, block in enumerate(body):
        if not isinstance(block, Mapping) or not isinstance(block.get("text"), str):
            doc.warn(f"body_text[{i}] has no text; skipped")
            continue
        key = (str(block.get("sec_number") or ""), str(block.get("section") or ""))
        if key != current:
            current = key
            level = _LEVELS.get(str(block.get("sec_type") or ""), key[0].count(".") + 1)
            doc.section(key[0], key[1], level)
        text, cites = _render(block["text"], refs, bib_ids, doc, seen_floats)
        kind = _KINDS.get(str(block.get("content_type") or "paragraph"), "text")
        doc.paragraph(text, kind=kind, citations=cites)
    doc.current = None  # floats never placed in the text still have captions, but no section
    for key, entry in refs.items():
        placed = key in seen_floats
        if isinstance(entry, Mapping) and entry.get("type") in ("table", "figure") and not placed:
            seen_floats.add(key)
            _float(str(entry["type"]), entry, doc)
    if doc.tables:
        doc.warn("unarXive keeps table captions only; no cells")
    return doc.build(
        paper_id=str(record["paper_id"]),
        version=_version(meta),
        title=str(meta.get("title") or ""),
        abstract=abstract,
    )


def read_unarxive_lines(
    lines: Iterable[str | bytes],
) -> tuple[list[FullText], list[tuple[int, str]]]:
    """Parse JSONL lines; returns the papers and (1-based line number, reason) for each line
    skipped. Blank lines are ignored, not counted."""
    papers: list[FullText] = []
    skipped: list[tuple[int, str]] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            skipped.append((n, f"not JSON: {e.msg} at column {e.colno}"))
            continue
        try:
            papers.append(parse_record(record))
        except FullTextError as e:
            skipped.append((n, str(e)))
    return papers, skipped


def read_unarxive(path: str | Path) -> tuple[list[FullText], list[tuple[int, str]]]:
    """Read an unarXive JSONL file (see `read_unarxive_lines`)."""
    try:
        with Path(path).open("rb") as fh:
            return read_unarxive_lines(fh)
    except OSError as e:
        raise FullTextError(f"cannot read {path}: {e.strerror or e}") from None
