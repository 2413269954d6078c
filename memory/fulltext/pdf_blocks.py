"""From ordered PDF lines to sections, paragraphs, figure captions, footnotes and references.

Lines set in the body font flow into paragraphs that may cross columns and pages: a paragraph
ends at a heading, a vertical gap, an indented first line or a short last line ending a
sentence, never merely at a column break. Lines in another size (captions, figure labels,
abstracts set smaller, footnotes) flow separately so a figure placed mid-paragraph does not cut
the paragraph around it. Hyphens at line ends are removed unless the document itself writes
the hyphenated form more often than the joined one ("co-" + "citation" stays "co-citation")."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from memory.fulltext.builder import DocBuilder
from memory.fulltext.model import ParagraphKind
from memory.fulltext.pdf_layout import Line, Word
from memory.fulltext.pdf_tables import FIGURE_CAPTION, FoundTable, caption_block
from memory.text import split_sentences

_NUMBERED = re.compile(
    r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z\[(“\"‘'].{0,110})$"
)
_SUBNUMBER = re.compile(r"^\d{1,2}(?:\.\d{1,2}){1,3}\.?$")
_LETTERED = re.compile(
    r"^(?:Appendix\s+)?(?P<num>[A-H](?:\.\d{1,2}){0,2})\.?:?\s+(?P<title>[A-Z].{0,110})$"
)
_KNOWN = re.compile(
    r"^(abstract|introduction|related works?|background|conclusions?|discussion|references"
    r"|bibliography|acknowledge?ments?|appendix|appendices|limitations|ethics statement"
    r"|ethical considerations|broader impacts?|future work|conclusions? and future work"
    r"|methods?|results|experiments|evaluation|summary|supplementary materials?)$"
)
_REFS = {"references", "bibliography", "literature cited"}
_END = re.compile(r"[.!?:][\"'”’)\]]*$")
_BULLET = re.compile(r"^(?:[•◦▪‣∙·–-]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s")
_REF_START = re.compile(r"^\s*(?:\[\d{1,4}\]|\d{1,4}\.)\s")


def _known(text: str) -> str | None:
    t = re.sub(r"[^a-z ]", "", text.lower()).strip()
    t = re.sub(r"\s+", " ", t)
    return t if _KNOWN.match(t) else None


def classify_heading(ln: Line, body: float, after_refs: bool) -> tuple[str, str, int] | None:
    """(number, title, level) when the line is a section heading."""
    text = ln.text.strip()
    styled = ln.bold or ln.size >= body + 0.8 or (text.isupper() and len(text) > 4)
    styled = styled or (bool(_NUMBERED.match(text)) and _all_styled(ln.words))
    if not styled or len(text) > 120 or len(text.split()) > 14 or text.endswith((",", ";")):
        return None
    m = _NUMBERED.match(text)
    if m and int(m.group("num").split(".")[0]) <= 30:
        title = m.group("title").strip()
        if not title.endswith(".") or _all_styled(ln.words):  # "6.1.2 Italic Title."
            return m.group("num"), title.rstrip("."), m.group("num").count(".") + 1
    name = _known(text)
    if name is not None:
        return "", text.rstrip(".:"), 1
    m = _LETTERED.match(text)
    if m and (after_refs or text.startswith("Appendix")) and not text.endswith("."):
        return m.group("num"), m.group("title").strip(), m.group("num").count(".") + 1
    return None


def _all_styled(words: Sequence[Word]) -> bool:
    letters = [w for w in words if re.search(r"[A-Za-z]", w.text)]
    return bool(letters) and all(w.bold or w.italic for w in letters)


def split_runin(ln: Line) -> tuple[tuple[str, str, int], Line] | None:
    """A numbered run-in heading ('6.1.6 Volunteered Usage. Finally, we ...', the title in
    bold or italic) split from the text that follows it on the line."""
    ws = ln.words
    if len(ws) < 3 or not _SUBNUMBER.match(ws[0].text):
        return None
    for k in range(1, min(len(ws) - 1, 15)):
        if not (ws[k].bold or ws[k].italic):
            return None
        if ws[k].text.endswith("."):
            rest = ws[k + 1 :]
            if _all_styled(rest[:1]):
                return None
            number = ws[0].text.rstrip(".")
            title = " ".join(w.text for w in ws[1 : k + 1]).rstrip(".")
            tail = Line(words=list(rest), page=ln.page, col=ln.col).finish()
            return (number, title, number.count(".") + 1), tail
    return None


def _prose(text: str) -> bool:
    """Running text (an unheaded abstract), not a block of names and affiliations."""
    letters = [c for c in text if c.isalpha()]
    lower = sum(1 for c in letters if c.islower())
    return len(text) >= 200 and len(split_sentences(text)) >= 2 and lower >= 0.6 * len(letters)


def _words_of(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", text)


def vocabulary(lines: Sequence[Line]) -> Counter[str]:
    """Word counts of the whole document, used to decide line-end hyphens."""
    vocab: Counter[str] = Counter()
    for ln in lines:
        vocab.update(w.lower() for w in _words_of(ln.text))
    return vocab


def join_lines(lines: Sequence[Line], vocab: Counter[str]) -> str:
    """Join a paragraph's lines, removing line-end hyphenation where the document agrees."""
    out = ""
    for ln in lines:
        text = ln.text.strip()
        if not out:
            out = text
            continue
        m = re.search(r"([A-Za-z]+)-$", out)
        nxt = re.match(r"([a-z][A-Za-z]*)", text)
        if m and re.match(r"[A-Z]", text):  # "Hsu-" + "Han", "Semi-" + "Supervised"
            out += text
        elif m and nxt:
            joined = (m.group(1) + nxt.group(1)).lower()
            hyphened = f"{m.group(1)}-{nxt.group(1)}".lower()
            if vocab[hyphened] > vocab[joined]:
                out += text
            else:
                out = out[:-1] + text
        else:
            out += " " + text
    return out


@dataclass
class Geometry:
    """Left and right text edges per (page, column), from the body-size lines."""

    edges: dict[tuple[int, int], tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def measure(cls, lines: Sequence[Line], body: float) -> Geometry:
        groups: dict[tuple[int, int], list[Line]] = {}
        for ln in lines:
            if abs(ln.size - body) < 0.6 and len(ln.text) > 20:
                groups.setdefault((ln.page, ln.col), []).append(ln)
        geo = cls()
        for key, ls in groups.items():
            lefts = Counter(round(ln.x0) for ln in ls)
            rights = sorted(ln.x1 for ln in ls)
            geo.edges[key] = (
                float(lefts.most_common(1)[0][0]),
                rights[int(0.9 * (len(rights) - 1))],
            )
        return geo

    def get(self, ln: Line) -> tuple[float, float]:
        return self.edges.get((ln.page, ln.col), (ln.x0, ln.x1))


class Flow:
    """Lines of one kind accumulating into paragraphs."""

    def __init__(self, out: Assembler, kind: ParagraphKind) -> None:
        self.out = out
        self.kind: ParagraphKind = kind
        self.lines: list[Line] = []
        self.list_item = False

    def breaks_before(self, ln: Line) -> bool:
        prev = self.lines[-1]
        size = max(ln.size, 1.0)
        left, _ = self.out.geo.get(ln)
        _, prev_right = self.out.geo.get(prev)
        ended = bool(_END.search(prev.text))
        short = prev.x1 < prev_right - 2 * size
        indented = 0.6 * size <= ln.x0 - left <= 4 * size
        same_column = ln.page == prev.page and ln.col == prev.col
        if same_column and abs(ln.base - prev.base) < 0.3 * size:
            return False  # the rest of the same printed line, split off at a wide space
        if abs(ln.size - prev.size) > 0.6 or _BULLET.match(ln.text):
            return True
        if same_column and ln.top > prev.top:
            pitch = self.out.pitch
            if ln.top - prev.top > pitch + 0.45 * size:
                return True
        return ended and (short or indented)

    def add(self, ln: Line) -> None:
        if self.lines and self.breaks_before(ln):
            self.flush()
        if not self.lines:
            self.list_item = bool(_BULLET.match(ln.text))
        self.lines.append(ln)

    def flush(self) -> None:
        if not self.lines:
            return
        text = join_lines(self.lines, self.out.vocab)
        kind: ParagraphKind = "list" if self.list_item and self.kind == "text" else self.kind
        self.out.emit(text, kind, self.lines[0].page)
        self.lines = []


class Assembler:
    """Feeds ordered lines and found tables into a DocBuilder."""

    def __init__(self, doc: DocBuilder, lines: Sequence[Line], body: float, pitch: float) -> None:
        self.doc = doc
        self.body = body
        self.pitch = pitch
        self.vocab = vocabulary(lines)
        self.geo = Geometry.measure(lines, body)
        self.main = Flow(self, "text")
        self.side = Flow(self, "text")
        self.notes = Flow(self, "footnote")
        self.in_refs = False
        self.seen_refs = False
        self.started = False  # a first heading was seen
        self.front: list[tuple[str, ParagraphKind, int]] = []
        self.ref_lines: list[Line] = []
        self.fragments = 0
        self.text_bottom = self._text_bottoms(lines)

    def _text_bottoms(self, lines: Sequence[Line]) -> dict[tuple[int, int], float]:
        out: dict[tuple[int, int], float] = {}
        for ln in lines:
            if abs(ln.size - self.body) < 0.6 and len(ln.text) > 20:
                key = (ln.page, ln.col)
                out[key] = max(out.get(key, 0.0), ln.bottom)
        return out

    def emit(self, text: str, kind: ParagraphKind, page: int) -> None:
        """A finished paragraph: kept, held as front matter, or counted as a fragment."""
        if kind != "footnote" and len(text) < 40 and not _END.search(text):
            self.fragments += 1  # figure labels, author names, stray symbols
            return
        if not self.started:
            self.front.append((text, kind, page))
            return
        self.doc.paragraph(text, kind=kind, page=page)

    def flush_all(self) -> None:
        self.main.flush()
        self.side.flush()

    def heading(self, number: str, title: str, level: int) -> None:
        self.flush_all()
        self.flush_refs()
        if not self.started:
            self.started = True
            self.front_matter(title)
        name = title.lower().strip()
        self.in_refs = not number and name in _REFS
        self.seen_refs |= self.in_refs
        self.doc.section(number, title, level)

    def front_matter(self, first_heading: str) -> None:
        """Before the first heading: long paragraphs are an unheaded abstract; short ones
        (authors, affiliations) are left out."""
        kept = [f for f in self.front if _prose(f[0])]
        if kept and first_heading.lower() != "abstract":
            self.doc.section("", "Abstract")
            for text, kind, page in kept:
                self.doc.paragraph(text, kind=kind, page=page)
        elif kept:
            self.doc.warn("text before the Abstract heading left out")
        self.front = []

    def is_footnote(self, ln: Line) -> bool:
        bottom = self.text_bottom.get((ln.page, ln.col))
        return ln.size < self.body - 0.6 and bottom is not None and ln.top > bottom

    def run(self, stream: Sequence[Line | FoundTable]) -> None:
        lines = [x for x in stream if isinstance(x, Line)]
        self.position = {id(ln): i for i, ln in enumerate(lines)}
        skip: set[int] = set()
        last_page = 0
        for idx, item in enumerate(stream):
            if isinstance(item, FoundTable):
                self.table(item)
                continue
            ln = item
            if id(ln) in skip:
                continue
            if ln.page != last_page:
                self.notes.flush()
                last_page = ln.page
            self.line(ln, lines, skip, idx)
        self.flush_all()
        self.notes.flush()
        self.flush_refs()
        if not self.started:  # no heading at all: keep everything as it came
            self.started = True
            for text, kind, page in self.front:
                self.doc.paragraph(text, kind=kind, page=page)
            self.doc.warn("no section headings found")
        if self.fragments:
            self.doc.warn(f"{self.fragments} short text fragments (figure labels, names) left out")

    def line(self, ln: Line, lines: list[Line], skip: set[int], idx: int) -> None:
        head = classify_heading(ln, self.body, self.seen_refs)
        if head is not None:
            number, title, level = head
            nxt = self.heading_continuation(ln, lines)
            if nxt is not None:
                skip.add(id(nxt))
                title = f"{title} {nxt.text}"
            self.heading(number, title, level)
            return
        runin = split_runin(ln)
        if runin is not None:
            self.heading(*runin[0])
            ln = runin[1]
        if FIGURE_CAPTION.match(ln.text):
            block = caption_block(lines, self.position[id(ln)])
            skip.update(id(b) for b in block)
            self.doc.figure(" ".join(b.text for b in block), page=ln.page)
            return
        if self.in_refs:
            self.ref_lines.append(ln)
        elif self.is_footnote(ln):
            self.notes.add(ln)
        elif abs(ln.size - self.body) < 0.6:
            self.side.flush()
            self.main.add(ln)
        else:
            self.side.add(ln)

    def heading_continuation(self, ln: Line, lines: list[Line]) -> Line | None:
        """The second line of a heading set on two lines, if there is one."""
        pos = self.position.get(id(ln))
        if pos is None or pos + 1 >= len(lines):
            return None
        nxt = lines[pos + 1]
        same_place = nxt.page == ln.page and nxt.col == ln.col
        close = 0 <= nxt.top - ln.bottom < 0.6 * ln.size and abs(nxt.size - ln.size) < 0.3
        same_style = nxt.bold == ln.bold and (
            ln.bold
            or (nxt.text.isupper() and ln.text.isupper())
            or (_all_styled(nxt.words) and _all_styled(ln.words))
        )
        if not (same_place and close and same_style) or len(nxt.text) > 80:
            return None
        if _END.search(ln.text):
            return None
        if nxt.text.endswith(".") or classify_heading(nxt, self.body, self.seen_refs):
            return None
        return nxt

    def table(self, found: FoundTable) -> None:
        self.doc.table(found.caption, found.header_rows, found.rows, page=found.page)

    def flush_refs(self) -> None:
        """Split the reference lines into entries: by '[n]'/'n.' marks when the list uses
        them, else by hanging indentation or vertical gaps."""
        lines, self.ref_lines = self.ref_lines, []
        if not lines:
            return
        numbered = sum(1 for ln in lines if _REF_START.match(ln.text)) >= 0.2 * len(lines)
        entries: list[list[Line]] = []
        for ln in lines:
            prev = entries[-1][-1] if entries else None
            if prev is None:
                entries.append([ln])
                continue
            if numbered:
                new = bool(_REF_START.match(ln.text))
            else:
                left, _ = self.geo.get(ln)
                lefts = [x.x0 for x in lines if (x.page, x.col) == (ln.page, ln.col)]
                left = min(lefts) if lefts else left
                same_col = (ln.page, ln.col) == (prev.page, prev.col)
                gap = ln.top - prev.bottom if same_col else 0.0
                new = ln.x0 < left + 0.3 * ln.size or gap > 0.5 * ln.size
            if new:
                entries.append([ln])
            else:
                entries[-1].append(ln)
        for entry in entries:
            self.doc.reference(join_lines(entry, self.vocab))
