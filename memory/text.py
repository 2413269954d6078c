"""Text helpers every layer must agree on: one sentence splitter (sentence indices are
identities), one normalisation for quote matching, and display-only elision."""

from __future__ import annotations

import re
import unicodedata

# Split after . ! ? when followed by whitespace and an upper-case letter, digit or opening
# bracket; keep abbreviations like "e.g." and "et al." and decimals like "3.5" intact.
_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|Tab|resp|approx|Dr|Mr|Ms|No)\.)$",
    re.IGNORECASE,
)
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'`$\\])")
_WS = re.compile(r"\s+")


def clean_whitespace(text: str) -> str:
    """Fold hard line breaks and runs of spaces (arXiv abstracts carry both)."""
    return _WS.sub(" ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Deterministic sentence split of an abstract; empty input gives []."""
    text = clean_whitespace(text)
    if not text:
        return []
    parts: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        candidate = text[start : m.start()]
        if _ABBREV.search(candidate):
            continue
        if candidate.strip():
            parts.append(candidate.strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def normalize_for_match(text: str) -> str:
    """Case-, accent-, punctuation- and whitespace-insensitive form used to check that a quote
    occurs in its source."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower()
    text = re.sub(r"[^\w%.]+", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    return _WS.sub(" ", text).strip()


def quote_in_source(quote: str, source: str) -> bool:
    """True when the normalised quote is a substring of the normalised source."""
    q = normalize_for_match(quote)
    return bool(q) and q in normalize_for_match(source)


def elide(text: str, limit: int) -> str:
    """Shorten for display only, at a word boundary, with an ellipsis. Never use on stored data."""
    text = clean_whitespace(text)
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:") + "…"
