"""Render a `FullText` as LaTeXML-style HTML, the markup arXiv serves at `/html/<id>`.

The mirror serves papers whose full text came from unarXive through this renderer, so a client
reads them exactly as it reads arXiv's own HTML: the one LaTeXML reader
(`memory.fulltext.latexml`) parses the output back to the same sections, paragraphs (ids,
kinds, citations), tables (label, caption, cells with spans and bold/italic) and figures.

Sections are written flat, one `<section>` per heading in document order (their level is in the
class), because the reader attributes each paragraph to the heading opened last; nesting them
would add nothing it reads. Items placed in no section go before the first heading when nothing
of their kind came earlier, else at the end (they then parse as part of the last section)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from memory.fulltext.model import Cell, Figure, FullText, Paragraph, Table

_LEVEL_CLASS = {
    1: "ltx_section",
    2: "ltx_subsection",
    3: "ltx_subsubsection",
    4: "ltx_paragraph",
    5: "ltx_subparagraph",
}
_HEADING_TAG = {1: "h2", 2: "h3", 3: "h4", 4: "h5", 5: "h6"}


def _text(value: str) -> str:
    return escape(value, quote=False)


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _cites(ids: Iterable[str]) -> str:
    """Citation marks with no visible text: the reader keeps their targets, not their marks."""
    return "".join(
        f'<cite class="ltx_cite"><a class="ltx_ref" href="#{_attr(i)}"></a></cite>' for i in ids
    )


def _paragraph(para: Paragraph) -> str:
    """One `ltx_para`; a footnote is an `ltx_note` in an otherwise empty paragraph (the reader
    turns notes into footnote paragraphs right where they occur), a list item sits in an
    `ltx_item`, a proof paragraph in an `ltx_proof`."""
    if para.kind == "footnote":
        note = (
            '<span class="ltx_note ltx_role_footnote"><span class="ltx_note_outer">'
            f'<span class="ltx_note_content">{_text(para.text)}</span></span></span>'
        )
        return f'<div class="ltx_para" id="{para.id}"><p class="ltx_p">{note}</p></div>\n'
    body = (
        f'<div class="ltx_para" id="{para.id}"><p class="ltx_p">'
        f"{_text(para.text)}{_cites(para.citations)}</p></div>"
    )
    if para.kind == "list":
        return f'<ul class="ltx_itemize"><li class="ltx_item">{body}</li></ul>\n'
    if para.kind == "proof":
        return f'<div class="ltx_proof">{body}</div>\n'
    return body + "\n"


def _cell(cell: Cell, tag: str) -> str:
    content = _text(cell.text)
    if cell.bold:
        content = f'<span class="ltx_font_bold">{content}</span>'
    if cell.italic:
        content = f'<span class="ltx_font_italic">{content}</span>'
    spans = ""
    if cell.colspan > 1:
        spans += f' colspan="{cell.colspan}"'
    if cell.rowspan > 1:
        spans += f' rowspan="{cell.rowspan}"'
    return f'<{tag} class="ltx_td"{spans}>{content}</{tag}>'


def _rows(rows: Sequence[Sequence[Cell]], tag: str) -> str:
    return "".join(
        '<tr class="ltx_tr">' + "".join(_cell(c, tag) for c in row) + "</tr>" for row in rows
    )


def _caption(label: str, caption: str) -> str:
    """'Table 2: caption', the printed form the reader splits back into label and caption."""
    shown = f"{label}: {caption}" if label and caption else (label or caption)
    return f'<figcaption class="ltx_caption">{_text(shown)}</figcaption>' if shown else ""


def _table(table: Table) -> str:
    grid = ""
    if table.header_rows or table.rows:
        head = f"<thead>{_rows(table.header_rows, 'th')}</thead>" if table.header_rows else ""
        body = f"<tbody>{_rows(table.rows, 'td')}</tbody>" if table.rows else ""
        grid = f'<table class="ltx_tabular">{head}{body}</table>'
    caption = _caption(table.label, table.caption)
    return f'<figure class="ltx_table" id="{table.id}">{caption}{grid}</figure>\n'


def _figure(fig: Figure) -> str:
    caption = _caption(fig.label, fig.caption)
    return f'<figure class="ltx_figure" id="{fig.id}">{caption}</figure>\n'


def _item_html(item: Paragraph | Table | Figure) -> str:
    if isinstance(item, Paragraph):
        return _paragraph(item)
    if isinstance(item, Table):
        return _table(item)
    return _figure(item)


def _placed(doc: FullText) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """(leading items, items per section id, trailing items), each kind in document order."""
    known = {s.id for s in doc.sections}
    leading: list[str] = []
    by_section: dict[str, list[str]] = {s.id: [] for s in doc.sections}
    trailing: list[str] = []
    kinds: tuple[Sequence[Paragraph | Table | Figure], ...] = (
        doc.paragraphs,
        doc.tables,
        doc.figures,
    )
    for items in kinds:
        seen_section = False
        for item in items:
            if item.section_id in known:
                seen_section = True
                by_section[str(item.section_id)].append(_item_html(item))
            else:
                (trailing if seen_section else leading).append(_item_html(item))
    return leading, by_section, trailing


def _section_open(doc: FullText, index: int) -> str:
    sec = doc.sections[index]
    level = min(max(sec.level, 1), 5)
    tag = _HEADING_TAG[level]
    number = ""
    if sec.number:
        number = f'<span class="ltx_tag ltx_tag_section">{_text(sec.number)} </span>'
    heading = f'<{tag} class="ltx_title ltx_title_section">{number}{_text(sec.title)}</{tag}>'
    return f'<section class="{_LEVEL_CLASS[level]}" id="{sec.id}">{heading}\n'


def _bibliography(doc: FullText) -> str:
    if not doc.references:
        return ""
    items = []
    for ref in doc.references:
        links = ""
        if ref.doi:
            links += f' <a class="ltx_ref" href="https://doi.org/{_attr(ref.doi)}">DOI</a>'
        if ref.arxiv_id:
            links += f' <a class="ltx_ref" href="https://arxiv.org/abs/{_attr(ref.arxiv_id)}">'
            links += "arXiv</a>"
        items.append(
            f'<li class="ltx_bibitem" id="{ref.id}">'
            f'<span class="ltx_bibblock">{_text(ref.text)}</span>{links}</li>'
        )
    return (
        '<section class="ltx_bibliography"><h2 class="ltx_title ltx_title_bibliography">'
        f'References</h2><ul class="ltx_biblist">{"".join(items)}</ul></section>\n'
    )


def render_latexml(doc: FullText) -> str:
    """The whole HTML page for one paper (UTF-8 text)."""
    leading, by_section, trailing = _placed(doc)
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_text(doc.title or doc.paper_id)}</title></head>\n<body>",
        '<div class="ltx_page_main"><div class="ltx_page_content"><article class="ltx_document">\n',
    ]
    if doc.title:
        parts.append(f'<h1 class="ltx_title ltx_title_document">{_text(doc.title)}</h1>\n')
    parts += leading
    for i, sec in enumerate(doc.sections):
        parts.append(_section_open(doc, i))
        parts += by_section[sec.id]
        parts.append("</section>\n")
    parts += trailing
    parts.append(_bibliography(doc))
    parts.append("</article></div></div></body></html>\n")
    return "".join(parts)
