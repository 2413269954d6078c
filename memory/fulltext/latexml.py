"""Reader for arXiv's HTML rendering (LaTeXML: `ltx_section`, `ltx_para`, `ltx_p`,
`ltx_table`/`ltx_tabular`, `ltx_caption`, `ltx_bibitem`, math as `<math alttext>` or, in older
engrafo builds, MathJax spans with an `aria-label`).

One `ltx_para` is one paragraph (LaTeX's own paragraph), with display equations kept inline as
LaTeX so a sentence that runs through an equation stays one sentence; lists, tables and figures
nested in it become their own items. Footnotes become separate `footnote` paragraphs right after
the paragraph that carries their mark; numeric citation marks ("[1, 2]") are left out of the
text (their targets go to `citations`), author-year citations stay because the sentence needs
them to read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree, html

from memory.fulltext.builder import DocBuilder, doi_in
from memory.fulltext.errors import FullTextError
from memory.fulltext.model import Cell, FullText, ParagraphKind
from memory.text import clean_whitespace

_SECTION_LEVELS = {
    "ltx_chapter": 1,
    "ltx_section": 1,
    "ltx_appendix": 1,
    "ltx_subsection": 2,
    "ltx_subsubsection": 3,
    "ltx_paragraph": 4,
    "ltx_subparagraph": 5,
}
_SKIP = {"ltx_authors", "ltx_dates", "ltx_page_header", "ltx_page_footer", "ltx_role_footnote"}
_BLOCK_TAGS = {"div", "ul", "ol", "li", "figure", "section", "table", "dl", "blockquote"}
_BOLD = {"ltx_font_bold"}
_ITALIC = {"ltx_font_italic", "ltx_emph"}
_NUMERIC_CITE = re.compile(r"^[\[\(]?[\d\s,;–-]*[\]\)]?$")


def _classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def _is_element(el: object) -> bool:
    return isinstance(el, etree._Element) and isinstance(el.tag, str)


def _math_latex(el: etree._Element) -> str:
    """LaTeX of a formula: MathML alttext, a MathJax aria-label, or its visible text."""
    alt = el.get("alttext")
    if alt is None:
        found = el.xpath(".//*[@alttext]|.//*[@aria-label]")
        alt = (found[0].get("alttext") or found[0].get("aria-label")) if found else None
    latex = " ".join((alt if alt is not None else el.text_content()).split())
    latex = latex.replace("%", "").strip()  # LaTeXML's line-continuation comments
    return f"${latex}$" if latex else ""


def _is_math(el: etree._Element, cls: set[str]) -> bool:
    return (
        el.tag == "math"
        or bool(cls & {"ltx_Math", "ltx_DisplayMath"})
        or bool(cls & {"ltx_equation", "ltx_equationgroup"} and el.tag == "table")
    )


@dataclass
class _Inline:
    """Text collected from inline content, with the side products found on the way."""

    parts: list[str] = field(default_factory=list)
    cites: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        return clean_whitespace("".join(self.parts))


def _inline(el: etree._Element, out: _Inline) -> None:
    """Append the readable text of `el` (children included, its tail excluded) to `out`."""
    cls = _classes(el)
    if el.tag in ("script", "style") or "ltx_note_mark" in cls or "ltx_tag_note" in cls:
        return
    if _is_math(el, cls):
        out.parts.append(_math_latex(el))
        return
    if "ltx_note" in cls:
        content = el.xpath(".//*[contains(concat(' ', @class, ' '), ' ltx_note_content ')]")
        if content:
            note = _Inline()
            _inline(content[0], note)
            out.notes.append(note.text())
        return
    if "ltx_cite" in cls:
        for a in el.xpath(".//a[@href]"):
            target = a.get("href", "").split("#")[-1]
            if target and target not in out.cites:
                out.cites.append(target)
        shown = clean_whitespace(el.text_content())
        if not _NUMERIC_CITE.match(shown):
            out.parts.append(shown)
        return
    if el.tag == "br":
        out.parts.append(" ")
    if el.text:
        out.parts.append(el.text)
    for child in el:
        if _is_element(child):
            _inline(child, out)
        if child.tail:
            out.parts.append(child.tail)


def _cell(el: etree._Element) -> Cell:
    content = _Inline()
    _inline(el, content)
    text = content.text()
    letters = re.sub(r"\W", "", text)

    def covered(marks: set[str], tags: tuple[str, ...]) -> bool:
        styled = "".join(
            e.text_content()
            for e in el.iter()
            if _is_element(e) and (_classes(e) & marks or e.tag in tags)
        )
        return bool(letters) and len(re.sub(r"\W", "", styled)) >= len(letters)

    return Cell.parse(
        text,
        bold=covered(_BOLD, ("b", "strong")),
        italic=covered(_ITALIC, ("i", "em")),
        colspan=int(el.get("colspan") or 1),
        rowspan=int(el.get("rowspan") or 1),
    )


def _tabular(table: etree._Element) -> tuple[list[list[Cell]], list[list[Cell]]]:
    """(header rows, body rows) of one ltx_tabular; nested tabulars are read as cell text."""
    header: list[list[Cell]] = []
    body: list[list[Cell]] = []
    for tr in table.xpath(".//tr"):
        if tr.xpath("ancestor::table[1]")[0] is not table:
            continue
        cells = [c for c in tr if _is_element(c) and c.tag in ("td", "th")]
        if not cells:
            continue
        in_head = bool(tr.xpath("ancestor::thead[1]"))
        row = [_cell(c) for c in cells]
        (header if in_head and not body else body).append(row)
    return header, body


class _Walker:
    """Walks the document in order, feeding a DocBuilder."""

    def __init__(self, doc: DocBuilder) -> None:
        self.doc = doc
        self.prefix = ""  # a run-in theorem/proof title waiting for its paragraph
        self.kind: ParagraphKind = "text"

    def walk(self, el: etree._Element) -> None:
        for child in el:
            if _is_element(child):
                self.block(child)

    def block(self, el: etree._Element) -> None:
        cls = _classes(el)
        if cls & _SKIP or el.tag in ("script", "style", "nav", "footer", "header"):
            return
        level = next((lv for c, lv in _SECTION_LEVELS.items() if c in cls), None)
        if el.tag == "section" and level is not None:
            self.section(el, level)
        elif "ltx_bibliography" in cls:
            self.bibliography(el)
        elif "ltx_abstract" in cls:
            self.doc.section("", "Abstract")
            self.walk_paragraphs(el)
        elif "ltx_para" in cls:
            self.para(el)
        elif "ltx_table" in cls:
            self.float_table(el)
        elif "ltx_figure" in cls and el.tag == "figure":
            self.figure(el)
        elif "ltx_tabular" in cls:
            header, rows = _tabular(el)
            self.doc.table("", header, rows)
        elif "ltx_runin" in cls:
            self.prefix = clean_whitespace(el.text_content())
        elif el.tag.startswith("h") and "ltx_title" in cls:
            return  # document title and other headings read elsewhere
        else:
            saved = self.kind
            if "ltx_item" in cls:
                self.kind = "list"
            elif "ltx_proof" in cls:
                self.kind = "proof"
            self.walk(el)
            self.kind = saved

    def section(self, el: etree._Element, level: int) -> None:
        heads = [h for h in el if _is_element(h) and "ltx_title" in _classes(h)]
        number, title = "", ""
        if heads:
            tag = heads[0].xpath(".//*[contains(concat(' ', @class, ' '), ' ltx_tag ')]")
            number = clean_whitespace(tag[0].text_content()) if tag else ""
            title = clean_whitespace(heads[0].text_content())
            title = title[len(number) :].strip() if number and title.startswith(number) else title
            number = re.sub(r"^(Appendix|Chapter)\s+", "", number).rstrip(".")
        self.doc.section(number, title, level)
        self.walk(el)

    def walk_paragraphs(self, el: etree._Element) -> None:
        paras = el.xpath(".//*[contains(concat(' ', @class, ' '), ' ltx_p ')]")
        for p in paras:
            buf = _Inline()
            _inline(p, buf)
            self.flush(buf)

    def para(self, el: etree._Element) -> None:
        """One paragraph from the inline content; nested blocks become their own items."""
        buf = _Inline()
        for child in el:
            if not _is_element(child):
                continue
            cls = _classes(child)
            nested_block = child.tag in _BLOCK_TAGS and not _is_math(child, cls)
            if nested_block and "ltx_engrafo_equation_container" not in cls:
                self.flush(buf)
                buf = _Inline()
                self.block(child)
            else:
                _inline(child, buf)
                buf.parts.append(" ")
            if child.tail:
                buf.parts.append(child.tail)
        self.flush(buf)

    def flush(self, buf: _Inline) -> None:
        text = buf.text()
        if text and self.prefix:
            text = f"{self.prefix} {text}"
            self.prefix = ""
        self.doc.paragraph(text, kind=self.kind, citations=buf.cites)
        for note in buf.notes:
            self.doc.paragraph(note, kind="footnote")

    def float_table(self, el: etree._Element) -> None:
        caption = self.caption(el)
        tabulars = el.xpath(".//table[contains(concat(' ', @class, ' '), ' ltx_tabular ')]")
        top = [
            t for t in tabulars if not t.xpath("ancestor::table[contains(@class,'ltx_tabular')]")
        ]
        header, rows = _tabular(top[0]) if top else ([], [])
        table = self.doc.table(caption, header, rows)
        if len(top) > 1:
            self.doc.warn(f"{table.id}: {len(top)} tabulars in one table; only the first read")

    def figure(self, el: etree._Element) -> None:
        self.doc.figure(self.caption(el))

    def caption(self, el: etree._Element) -> str:
        caps = el.xpath("./figcaption|./*[contains(concat(' ', @class, ' '), ' ltx_caption ')]")
        if not caps:
            return ""
        buf = _Inline()
        _inline(caps[0], buf)
        return buf.text()

    def bibliography(self, el: etree._Element) -> None:
        for item in el.xpath(".//li[contains(concat(' ', @class, ' '), ' ltx_bibitem ')]"):
            blocks = item.xpath(".//*[contains(concat(' ', @class, ' '), ' ltx_bibblock ')]")
            text = " ".join(clean_whitespace(b.text_content()) for b in blocks) or (
                clean_whitespace(item.text_content())
            )
            hrefs = " ".join(a.get("href", "") for a in item.xpath(".//a[@href]"))
            self.doc.reference(text, doi=doi_in(hrefs) or None)


def parse_latexml(source: str | bytes, paper_id: str = "") -> FullText:
    """Read LaTeXML HTML. HTML with no `ltx_section` still gives its paragraphs, with a
    warning; markup with no text at all raises FullTextError."""
    try:
        root = html.fromstring(source)
    except (etree.ParserError, ValueError) as e:
        raise FullTextError(f"not readable as HTML: {e}") from None
    doc = DocBuilder("latexml")
    title_el = root.xpath("//*[contains(concat(' ', @class, ' '), ' ltx_title_document ')]")
    title = clean_whitespace(title_el[0].text_content()) if title_el else ""
    if not root.xpath("//section[contains(concat(' ', @class, ' '), ' ltx_section ')]"):
        doc.warn("no ltx_section in the HTML; paragraphs have no section")
    articles = root.xpath("//article") or root.xpath("//body") or [root]
    walker = _Walker(doc)
    walker.walk(articles[0])
    if not doc.paragraphs:  # not LaTeXML after all: fall back to plain <p> elements
        for p in root.xpath("//p"):
            doc.paragraph(p.text_content())
        if doc.paragraphs:
            doc.warn("no ltx_para found; read plain <p> elements")
    if not doc.paragraphs and not doc.tables:
        raise FullTextError("HTML has no paragraphs or tables")
    return doc.build(paper_id=paper_id, title=title)
