"""Atom 1.0 rendering exactly in the shape arXiv's /api/query emits, so the official `arxiv`
client (and anything else written against arXiv) parses mirror answers unchanged."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from memory.mirror.rows import PaperRow, ResultPage

ARXIV_SCHEME = "http://arxiv.org/schemas/atom"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    """XML-escape; characters XML 1.0 cannot carry are dropped from the wire (not the DB)."""
    return escape(_XML_INVALID.sub("", value))


def _attr(value: str) -> str:
    return quoteattr(_XML_INVALID.sub("", value))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _head(params: dict[str, str], base_url: str, total: int, start: int, per_page: int) -> str:
    query = urlencode(params)
    feed_id = hashlib.sha1(query.encode()).hexdigest()
    title = "&".join(f"{k}={v}" for k, v in params.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom">\n'
        f"  <id>{_text(base_url)}/{feed_id}</id>\n"
        f"  <title>arXiv Query: {_text(title)}</title>\n"
        f"  <updated>{_now()}</updated>\n"
        f'  <link href={_attr(base_url + "?" + query)} type="application/atom+xml"/>\n'
        f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>\n"
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
    )


def entry(row: PaperRow) -> str:
    vid = row.versioned_id
    parts = [
        "  <entry>\n",
        f"    <id>http://arxiv.org/abs/{_text(vid)}</id>\n",
        f"    <title>{_text(row.title)}</title>\n",
        f"    <updated>{row.updated}</updated>\n",
        f'    <link href="https://arxiv.org/abs/{_text(vid)}" rel="alternate" type="text/html"/>\n',
        f'    <link href="https://arxiv.org/pdf/{_text(vid)}" rel="related" '
        'type="application/pdf" title="pdf"/>\n',
    ]
    if row.doi:
        parts.append(
            f'    <link href={_attr("https://doi.org/" + row.doi)} rel="related" title="doi"/>\n'
        )
    parts.append(f"    <summary>{_text(row.abstract)}</summary>\n")
    for code in row.categories:
        parts.append(f'    <category term={_attr(code)} scheme="{ARXIV_SCHEME}"/>\n')
    parts.append(f"    <published>{row.published}</published>\n")
    if row.comment:
        parts.append(f"    <arxiv:comment>{_text(row.comment)}</arxiv:comment>\n")
    if row.journal_ref:
        parts.append(f"    <arxiv:journal_ref>{_text(row.journal_ref)}</arxiv:journal_ref>\n")
    if row.categories:
        parts.append(
            f"    <arxiv:primary_category term={_attr(row.categories[0])} "
            f'scheme="{ARXIV_SCHEME}"/>\n'
        )
    if row.doi:
        parts.append(f"    <arxiv:doi>{_text(row.doi)}</arxiv:doi>\n")
    for name in row.authors:
        parts.append(f"    <author>\n      <name>{_text(name)}</name>\n    </author>\n")
    parts.append("  </entry>\n")
    return "".join(parts)


def feed(page: ResultPage, params: dict[str, str], base_url: str) -> bytes:
    body = [_head(params, base_url, page.total, page.start, page.max_results)]
    body.extend(entry(row) for row in page.entries)
    body.append("</feed>\n")
    return "".join(body).encode("utf-8")


def error_feed(message: str, params: dict[str, str], base_url: str) -> bytes:
    """arXiv's error answer: a one-entry feed titled 'Error' whose summary says why."""
    anchor = re.sub(r"\W+", "_", message).strip("_")
    err_url = f"http://arxiv.org/api/errors#{anchor}"
    return (
        _head(params, base_url, 1, 0, 1) + "  <entry>\n"
        f"    <id>{_text(err_url)}</id>\n"
        "    <title>Error</title>\n"
        f"    <summary>{_text(message)}</summary>\n"
        f"    <updated>{_now()}</updated>\n"
        f'    <link href={_attr(err_url)} rel="alternate" type="text/html"/>\n'
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n"
        "  </entry>\n"
        "</feed>\n"
    ).encode("utf-8")
