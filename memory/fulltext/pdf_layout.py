"""Page layout for the PDF reader: characters to words to lines, columns and reading order,
and removal of what repeats on every page (running heads, page numbers).

Built on pdfplumber's characters rather than its words because science PDFs set words closer
than its default tolerance (acmart's inter-word gap is ~0.25 em, intra-word kerning < 0.1 em;
measured on the test PDFs), and because superscripts (footnote marks) must be told apart from
the text. Rotated characters are dropped: that is how the arXiv margin stamp is printed."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

WORD_GAP_EM = 0.12  # a gap wider than this (in font sizes) separates two words
SEGMENT_GAP_EM = 1.1  # a gap wider than this splits a row into separate lines (gutter, cells)
_BOLD_FONT = re.compile(r"bold|medi|black|heavy|semibold|demi|cmbx|bx\d|[a-z]tb$|-b$", re.I)
_ITALIC_FONT = re.compile(r"ital|oblique|cmti|[a-z]ti$|tbi$|-it$|-i$", re.I)


@dataclass
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool = False
    italic: bool = False


@dataclass
class Line:
    """One line of text in one column, with the page-level facts later steps need."""

    words: list[Word]
    page: int
    chars: list[dict[str, Any]] = field(default_factory=list, repr=False)
    col: int = 0  # 0 single/left column, 1 right column, -1 spans the gutter
    text: str = ""
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    size: float = 0.0
    base: float = 0.0  # baseline of the line's main font
    bold: bool = False
    flags: set[str] = field(default_factory=set)

    def finish(self) -> Line:
        ws = self.words
        self.text = " ".join(w.text for w in ws)
        self.x0 = min(w.x0 for w in ws)
        self.x1 = max(w.x1 for w in ws)
        self.top = min(w.top for w in ws)
        self.bottom = max(w.bottom for w in ws)
        weights: Counter[float] = Counter()
        for w in ws:
            weights[round(w.size, 1)] += len(w.text)
        self.size = weights.most_common(1)[0][0] if weights else 0.0
        bases = [c["base"] for c in self.chars if round(c["size"], 1) == self.size]
        self.base = statistics.median(bases) if bases else self.bottom
        letters = [w for w in ws if re.search(r"[A-Za-z]", w.text)]
        self.bold = bool(letters) and all(w.bold for w in letters)
        return self


@lru_cache(maxsize=256)
def _font_flags(fontname: str) -> tuple[bool, bool]:
    base = fontname.split("+", 1)[-1]
    return bool(_BOLD_FONT.search(base)), bool(_ITALIC_FONT.search(base))


def _rows(chars: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Cluster characters into rows by baseline; the reference of a row is its largest
    character so superscripts and subscripts join the line they belong to."""
    rows: list[tuple[float, float, list[dict[str, Any]]]] = []  # (baseline, size, chars)
    for c in sorted(chars, key=lambda c: c["base"]):
        centre = c["base"]
        size = c["size"]
        for i in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            rc, rs, members = rows[i]
            if abs(centre - rc) <= 0.45 * max(rs, size):
                members.append(c)
                if size > rs:
                    rows[i] = (centre, size, members)
                break
        else:
            rows.append((centre, size, [c]))
    return [members for _, _, members in rows]


def _segments(row: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split one row at horizontal gaps wider than SEGMENT_GAP_EM (gutter, table columns)."""
    row = sorted(row, key=lambda c: c["x0"])
    out: list[list[dict[str, Any]]] = [[row[0]]]
    right = row[0]["x1"]
    for c in row[1:]:
        if c["x0"] - right > SEGMENT_GAP_EM * max(c["size"], 1.0):
            out.append([c])
        else:
            out[-1].append(c)
        right = max(right, c["x1"])
    return out


def _words(chars: list[dict[str, Any]], base_size: float, baseline: float) -> list[Word]:
    """Words of one segment. Superscripts (smaller, raised) after a letter or punctuation are
    footnote or citation marks and are dropped; after a digit they are exponents ('10^5')."""
    words: list[Word] = []
    prev: dict[str, Any] | None = None
    prev_sup = keep_sup = False
    for c in chars:
        sup = c["size"] < 0.85 * base_size and c["base"] < baseline - 0.2 * base_size
        text = c["text"]
        if sup and not prev_sup:
            keep_sup = bool(words) and words[-1].text[-1:].isdigit()
            text = "^" + text
        if sup and not keep_sup:
            prev, prev_sup = c, True
            continue
        bold, italic = _font_flags(str(c.get("fontname", "")))
        gap = c["x0"] - prev["x1"] if prev is not None else 1e9
        if words and gap <= WORD_GAP_EM * max(prev["size"] if prev else 1.0, 1.0):
            w = words[-1]
            w.text += text
            w.x1 = max(w.x1, c["x1"])
            w.top, w.bottom = min(w.top, c["top"]), max(w.bottom, c["bottom"])
            w.bold = w.bold and bold
            w.italic = w.italic and italic
        else:
            words.append(
                Word(text, c["x0"], c["x1"], c["top"], c["bottom"], c["size"], bold, italic)
            )
        prev, prev_sup = c, sup
    return words


def _overprinted(chars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop glyphs printed over others: a repeated character (bold faked by printing twice)
    and unmapped glyphs (U+FFFD) overlapping text, such as pieces of a tall bracket from the
    equation above whose baseline falls on this line."""
    kept: list[dict[str, Any]] = []
    for c in chars:
        prev = kept[-1] if kept else None
        width = max(c["x1"] - c["x0"], 0.1)
        overlap = (min(prev["x1"], c["x1"]) - c["x0"]) / width if prev is not None else 0.0
        if prev is not None and c["text"] == prev["text"] and overlap > 0.7:
            continue
        if c["text"] == "\ufffd" and overlap > 0.3:
            continue
        if prev is not None and prev["text"] == "\ufffd" and overlap > 0.3:
            kept[-1] = c
            continue
        kept.append(c)
    return kept


def _line(chars: list[dict[str, Any]], page_no: int) -> Line | None:
    chars = _overprinted(sorted(chars, key=lambda c: c["x0"]))
    sizes = Counter(round(c["size"], 1) for c in chars)
    body = sizes.most_common(1)[0][0]
    bases = [c["base"] for c in chars if round(c["size"], 1) == body]
    words = [w for w in _words(chars, body, statistics.median(bases)) if w.text.strip("\ufffd")]
    return Line(words=words, page=page_no, chars=chars).finish() if words else None


def _absorb_orphans(lines: list[Line]) -> list[Line]:
    """Put back one- or two-character lines that lie inside another line's box: symbols from
    math fonts (a '§' in CMSY) whose glyph box sits lower than the text around them."""
    out = [ln for ln in lines if len(ln.chars) > 2]
    for ln in lines:
        if len(ln.chars) > 2:
            continue
        host = next(
            (
                h
                for h in out
                if h.x0 <= ln.x0
                and ln.x1 <= h.x1 + 1
                and h.top <= ln.top <= h.bottom
                and ln.size >= 0.85 * h.size
            ),
            None,
        )
        if host is None:
            out.append(ln)
            continue
        merged = _line(host.chars + ln.chars, host.page)
        if merged is not None:
            out[out.index(host)] = merged
    return out


def _lines_of(chars: list[dict[str, Any]], page_no: int) -> list[Line]:
    lines = [_line(seg, page_no) for row in _rows(chars) for seg in _segments(row)]
    return _absorb_orphans([ln for ln in lines if ln is not None])


def _merge_across(left: list[Line], right: list[Line], gutter: float) -> list[Line]:
    """Rejoin a line that was cut at the gutter (a title or caption spanning both columns)."""
    used: set[int] = set()
    out: list[Line] = []
    for ln in left:
        mate = next(
            (
                r
                for r in right
                if id(r) not in used
                and abs(r.base - ln.base) <= 0.45 * max(r.size, ln.size)
                and r.x0 - ln.x1 <= SEGMENT_GAP_EM * max(r.size, ln.size)
                and ln.x1 > gutter - SEGMENT_GAP_EM * ln.size
            ),
            None,
        )
        merged = _line(ln.chars + mate.chars, ln.page) if mate is not None else None
        if mate is None or merged is None:
            out.append(ln)
            continue
        used.add(id(mate))
        merged.col = -1
        out.append(merged)
    return out + [r for r in right if id(r) not in used]


_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
_CID = re.compile(r"^\(cid:\d+\)$")


def _clean_char(c: dict[str, Any]) -> dict[str, Any]:
    """A copy with its baseline (top-based y) added, ligatures spelled out, and a glyph with no
    Unicode mapping ('(cid:12)') as U+FFFD. The baseline, not the glyph box, says which line a
    character is on: math fonts' boxes sit several points off the text's."""
    text = c["text"]
    if text in _LIGATURES:
        text = _LIGATURES[text]
    elif _CID.match(text):
        text = "\ufffd"
    matrix = c.get("matrix")
    base = c["bottom"] + c["y0"] - matrix[5] if matrix else c["bottom"]
    return {**c, "text": text, "base": base}


def page_lines(
    chars: Iterable[dict[str, Any]], page_no: int, width: float, height: float
) -> tuple[list[Line], float | None]:
    """The text lines of one page and the x of its column gutter (None: one column). Rotated
    characters are removed. On a two-column page each column is clustered on its own, so a
    footnote mark in one column never joins a line of the other."""
    kept = [
        _clean_char(c)
        for c in chars
        if c.get("upright", True)
        and c["text"].strip()
        and 0 <= c["x0"] < width
        and 0 <= c["top"] < height
    ]
    lines = _lines_of(kept, page_no)
    gutter = find_gutter(lines, width)
    if gutter is None:
        return lines, None
    left = [c for c in kept if (c["x0"] + c["x1"]) / 2 < gutter]
    right = [c for c in kept if (c["x0"] + c["x1"]) / 2 >= gutter]
    return _merge_across(_lines_of(left, page_no), _lines_of(right, page_no), gutter), gutter


def find_gutter(lines: Sequence[Line], width: float) -> float | None:
    """x of the gap between two text columns, or None for a one-column page: the middle of
    the widest band, near the page centre, that the fewest lines cross."""
    body = [ln for ln in lines if len(ln.text) > 25]
    if len(body) < 8:
        return None
    xs = list(range(int(width * 0.35), int(width * 0.65) + 1, 2))
    counts = [sum(1 for ln in body if ln.x0 < x - 1 and ln.x1 > x + 1) for x in xs]
    least = min(counts)
    band: list[int] = []
    best: list[int] = []
    for x, n in zip(xs, counts, strict=True):
        band = band + [x] if n == least else []
        if len(band) > len(best):
            best = band
    mid = (best[0] + best[-1]) / 2
    left = sum(1 for ln in body if ln.x1 <= mid)
    right = sum(1 for ln in body if ln.x0 >= mid)
    if left >= 4 and right >= 4 and least <= 0.25 * len(body):
        return mid
    return None


def reading_order(lines: list[Line], gutter: float | None) -> list[Line]:
    """Lines in reading order: on a two-column page, between lines that span the gutter, the
    left column is read before the right one."""
    lines = sorted(lines, key=lambda ln: (ln.top, ln.x0))
    if gutter is None:
        for ln in lines:
            ln.col = 0
        return lines
    out: list[Line] = []
    band: list[Line] = []
    for ln in lines:
        if ln.col == -1 or (ln.x0 < gutter - 3 and ln.x1 > gutter + 3):
            ln.col = -1
            out.extend(sorted(band, key=lambda b: (b.col, b.top, b.x0)))
            band = []
            out.append(ln)
        else:
            ln.col = 0 if ln.x1 <= gutter + 3 else 1
            band.append(ln)
    out.extend(sorted(band, key=lambda b: (b.col, b.top, b.x0)))
    return out


def _shape(text: str) -> str:
    """A line's text with digits folded, so 'Page 3' and 'Page 4' compare equal."""
    return re.sub(r"\d+", "#", text.lower()).strip()


def strip_running(pages: list[list[Line]], heights: Sequence[float]) -> int:
    """Remove running heads/feet and page numbers in place: lines near the top or bottom edge
    whose shape repeats on several pages, and lone numbers there. Returns how many went."""

    def edge(lines: list[Line], h: float) -> list[Line]:
        """The first and last three lines of a page, when they sit in its top or bottom 15%."""
        by_top = sorted(lines, key=lambda ln: ln.top)
        ends = by_top[:3] + by_top[-3:]
        return [ln for ln in ends if ln.top < 0.15 * h or ln.bottom > 0.85 * h]

    counts: Counter[str] = Counter()
    for lines, h in zip(pages, heights, strict=True):
        counts.update({_shape(ln.text) for ln in edge(lines, h)})
    need = max(2, int(0.3 * len(pages)))
    removed = 0
    for i, (lines, h) in enumerate(zip(pages, heights, strict=True)):
        drop = {id(ln) for ln in edge(lines, h) if counts[_shape(ln.text)] >= need}
        by_top = sorted(lines, key=lambda ln: ln.top)
        drop |= {  # a lone number first or last on the page is its number, wherever it sits
            id(ln)
            for ln in by_top[:2] + by_top[-2:]
            if re.fullmatch(r"[-–—\s]*(\d{1,4}|[ivxlc]{1,6})[-–—\s]*", ln.text.lower())
        }
        removed += len(drop)
        pages[i] = [ln for ln in lines if id(ln) not in drop]
    return removed


def body_size(pages: Iterable[Sequence[Line]]) -> float:
    """The most common font size weighted by characters: the size of running text."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for ln in lines:
            sizes[ln.size] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0
