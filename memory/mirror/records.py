"""Turn one line of either arXiv metadata format into a validated mirror record, or say
precisely why the line is bad. Text is kept exactly as arXiv gave it (the API serves it that
way too); only categories are filtered to real arXiv codes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from memory.models import split_arxiv_id

_fast_loads: Callable[[bytes], Any]
try:  # a dependency of chromadb and langgraph, so normally present
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover
    _fast_loads = json.loads

CATEGORY_CODE = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
_ID_MONTH = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_LISTING_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadRecord(ValueError):
    """A line that cannot become a record; `reason` is a short fixed category for counting."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(slots=True)
class MirrorRecord:
    arxiv_id: str
    version: int
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published: str  # ISO 8601 UTC, e.g. 2007-04-02T19:18:42Z
    updated: str
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _opt_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord("wrong type", f"{key} is {type(value).__name__}")
    return value if value.strip() else None


def _req_str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None:
        raise BadRecord(f"missing {key}")
    if not isinstance(value, str):
        raise BadRecord("wrong type", f"{key} is {type(value).__name__}")
    if not value.strip():
        raise BadRecord(f"missing {key}")
    return value


def _categories(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        items = raw.split()
    elif isinstance(raw, list) and all(isinstance(c, str) for c in raw):
        items = [c.strip() for c in raw]
    else:
        raise BadRecord("wrong type", "categories")
    out: list[str] = []
    for code in items:
        if CATEGORY_CODE.match(code) and code not in out:
            out.append(code)
    return out


def _bulk_authors(obj: dict[str, Any]) -> list[str]:
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed and all(isinstance(p, list) for p in parsed):
        names = []
        for parts in parsed:
            if not all(isinstance(x, str) for x in parts) or not parts:
                break
            last, first, suffix = (list(parts) + ["", ""])[:3]
            names.append(" ".join(x for x in (first, last, suffix) if x.strip()))
        else:
            return names
    raw = obj.get("authors")
    if raw is None:
        return []
    if not isinstance(raw, str):
        raise BadRecord("wrong type", "authors")
    raw = " ".join(raw.split())
    return [a.strip() for a in re.split(r",\s*|\s+and\s+", raw) if a.strip()]


def _listing_authors(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [a.strip() for a in re.split(r",\s*|\s+and\s+", raw) if a.strip()]
    if isinstance(raw, list) and all(isinstance(a, str) for a in raw):
        return [" ".join(a.split()) for a in raw if a.strip()]
    raise BadRecord("wrong type", "authors")


def _bulk_dates(obj: dict[str, Any]) -> tuple[int, str, str]:
    versions = obj.get("versions")
    stamps: list[tuple[int, datetime]] = []
    if isinstance(versions, list):
        for i, v in enumerate(versions, start=1):
            if not isinstance(v, dict) or not isinstance(v.get("created"), str):
                continue
            try:
                when = parsedate_to_datetime(v["created"])
            except (TypeError, ValueError):
                continue
            label = v.get("version")
            num = int(label[1:]) if isinstance(label, str) and label[1:].isdigit() else i
            stamps.append((num, when))
    if stamps:
        stamps.sort(key=lambda s: s[0])
        return stamps[-1][0], iso(stamps[0][1]), iso(stamps[-1][1])
    update = obj.get("update_date")
    if isinstance(update, str) and _LISTING_DATE.match(update):
        stamp = f"{update}T00:00:00Z"
        return 1, stamp, stamp
    raise BadRecord("missing date", "no versions or update_date")


def _listing_dates(arxiv_id: str, obj: dict[str, Any]) -> tuple[str, str]:
    """The listing format has no dates: the listing day stands for the last update, and for the
    first submission too unless the id's YYMM is older (then the first of that month)."""
    day = obj.get("listing_date")
    if not isinstance(day, str) or not _LISTING_DATE.match(day):
        m = _ID_MONTH.match(arxiv_id)
        if not m:
            raise BadRecord("missing date", "no listing_date")
        day = f"20{m.group(1)}-{m.group(2)}-01"
    updated = f"{day}T00:00:00Z"
    m = _ID_MONTH.match(arxiv_id)
    if m and f"20{m.group(1)}-{m.group(2)}" < day[:7]:
        return f"20{m.group(1)}-{m.group(2)}-01T00:00:00Z", updated
    return updated, updated


def parse_record(obj: Any) -> MirrorRecord:
    """Accept a decoded JSON object in bulk-snapshot or listing format."""
    if not isinstance(obj, dict):
        raise BadRecord("not an object")
    raw_id = _req_str(obj, "id")
    arxiv_id, id_version = split_arxiv_id(raw_id)
    title = _req_str(obj, "title")
    if "summary" in obj and "abstract" not in obj:  # listing format
        abstract = _opt_str(obj, "summary") or ""
        published, updated = _listing_dates(arxiv_id, obj)
        return MirrorRecord(
            arxiv_id=arxiv_id,
            version=id_version or 1,
            title=title,
            abstract=abstract,
            authors=_listing_authors(obj.get("authors")),
            categories=_categories(obj.get("categories")),
            published=published,
            updated=updated,
            comment=_opt_str(obj, "comment"),
            journal_ref=_opt_str(obj, "journal_ref"),
            doi=_opt_str(obj, "doi"),
        )
    abstract = _opt_str(obj, "abstract") or ""
    version, published, updated = _bulk_dates(obj)
    return MirrorRecord(
        arxiv_id=arxiv_id,
        version=max(version, id_version or 1),
        title=title,
        abstract=abstract,
        authors=_bulk_authors(obj),
        categories=_categories(obj.get("categories")),
        published=published,
        updated=updated,
        comment=_opt_str(obj, "comments"),
        journal_ref=_opt_str(obj, "journal-ref"),
        doi=_opt_str(obj, "doi"),
    )


def _strict_loads(raw: bytes) -> Any:
    """The stdlib decoder, which tells invalid UTF-8 from invalid JSON."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRecord("invalid UTF-8") from exc
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRecord("invalid JSON") from exc
    try:  # escaped lone surrogates decode, but SQLite cannot store them
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRecord("invalid UTF-8") from exc
    return obj


def parse_line(raw: bytes) -> MirrorRecord:
    """One raw line (bytes) to a record; raises BadRecord with the reason. orjson decodes the
    common case about four times faster; anything it refuses goes through the stdlib path, so
    a line is good or bad exactly as the stdlib decoder judges it."""
    try:
        obj = _fast_loads(raw)
    except ValueError:
        obj = _strict_loads(raw)
    return parse_record(obj)
