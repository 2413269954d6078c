"""HTML helpers. Everything that came from a paper, a model or a user goes through `esc`;
JSON embedded in a page is made unable to close its <script> element."""

from __future__ import annotations

import html
import json
from typing import Any

NAV = (
    ("index.html", "Index"),
    ("benchmarks.html", "Benchmarks"),
    ("mathematics.html", "Mathematics"),
    ("graph.html", "Graph"),
    ("about.html", "About"),
)


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def script_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page(title: str, body: str, root: str = "", scripts: tuple[str, ...] = ()) -> str:
    """A whole page; `root` is the relative path back to the site root ('' or '../')."""
    nav = "  |  ".join(f'<a href="{root}{href}">{esc(label)}</a>' for href, label in NAV)
    tags = "".join(f'<script src="{root}assets/{s}" defer></script>' for s in scripts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · sovereign</title>"
        '<link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="{root}assets/site.css">{tags}</head>'
        f'<body><nav class="top">{nav}</nav><main>{body}</main>'
        "<footer>Machine-generated syntheses of existing literature. Not primary research. "
        f'<a href="{root}about.html">How to read this site</a></footer></body></html>\n'
    )


def table(rows: list[tuple[str, str, str]], cls: str = "kv") -> str:
    """Key/value table; each row is (data-field, label, already-escaped value html)."""
    body = "".join(
        f'<tr data-field="{esc(f)}"><th>{esc(label)}</th><td>{value}</td></tr>'
        for f, label, value in rows
    )
    return f'<table class="{cls}">{body}</table>'


def arxiv_link(arxiv_id: str, version: int | None = None, url: str | None = None) -> str:
    label = f"{arxiv_id}v{version}" if version else arxiv_id
    href = url or f"https://arxiv.org/abs/{arxiv_id}"
    return f'<a class="src" href="{esc(href)}" rel="noopener">{esc(label)}</a>'


def fmt_date(iso: str) -> str:
    """'2026-05-28T…' -> '28 May 2026' (display only)."""
    from datetime import datetime

    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return f"{when.day} {when:%b %Y}"
