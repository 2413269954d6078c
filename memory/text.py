"""Text helpers every layer must agree on: one hygiene pass for text entering the kernel, one
sentence splitter (sentence indices are identities), one normalisation for quote matching,
HTML neutralised in downloads, and display-only elision."""

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
# What never belongs in a scholarly text: terminal escape sequences (whole: "\x1b[31m", not just
# the ESC), C0/C1 control characters other than tab and line breaks, and the bidi embedding,
# override and isolate marks (U+202E would show a reader the words reversed).
_UNWANTED = re.compile(
    r"(?:\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?"
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069])+"
)
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def normalize_text(text: str) -> str:
    """The one hygiene pass for text entering the kernel (arXiv records, full texts): Unicode
    NFC, and unwanted characters removed, leaving a space where they stood between two words
    (so "accuracy\x00on" does not glue into one word). Layout whitespace is kept."""
    text = unicodedata.normalize("NFC", text)
    if not _UNWANTED.search(text):
        return text

    def gap(m: re.Match[str]) -> str:
        before, after = text[m.start() - 1 : m.start()], text[m.end() : m.end() + 1]
        return " " if before and after and not before.isspace() and not after.isspace() else ""

    return _UNWANTED.sub(gap, text)


def clean_whitespace(text: str) -> str:
    """Hygiene (`normalize_text`), then hard line breaks and runs of spaces folded (arXiv
    abstracts carry both)."""
    return _WS.sub(" ", normalize_text(text)).strip()


def neutralise_html(text: str) -> str:
    """`text` with every would-be HTML tag opener escaped (`<img` becomes `&lt;img`), for
    Markdown downloads: a viewer that renders HTML in Markdown shows the tag as text instead of
    running it. A `<` that starts no tag ("error < 5%") is left as written."""
    return _TAG_START.sub("&lt;", text)


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
