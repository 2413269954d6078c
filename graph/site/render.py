"""The site's Jinja2 environment: HTML templates shipped in `templates/`, autoescaped, so every
string that came from a paper, a model or a user is escaped by the template engine and not by
hand. JSON embedded in a page is made unable to close its <script> element."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from jinja2.ext import Extension
from markupsafe import Markup

COMPACT = "{# compact"
_TAG = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.S)
_LAYOUT = re.compile(r"\n[ \t]*")
_TAG_BREAK = re.compile(r"\s*\n\s*")


class CompactLayout(Extension):
    """A template that opens with `{# compact ... #}` is written on indented lines for reading,
    but renders in the one-line form the site's pages have (and the golden files pin): each
    newline and the indentation after it are layout and are dropped before compiling, so a
    space that matters is written within a line. Other templates render as written."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if not source.startswith(COMPACT):
            return source
        parts = _TAG.split(source)  # text, tag, text, tag, ..., text
        return "".join(
            _TAG_BREAK.sub(" ", part) if i % 2 else _LAYOUT.sub("", part)
            for i, part in enumerate(parts)
        )


def fmt_date(iso: str) -> str:
    """'2026-05-28T…' -> '28 May 2026' (display only; an unreadable value is shown as is)."""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return f"{when.day} {when:%b %Y}"


def fixed(value: Any, digits: int = 2) -> str:
    return f"{float(value):.{digits}f}"


def script_json(data: Any) -> Markup:
    """JSON for a <script type="application/json"> element: `<`, `>` and `&` are written as
    JSON escapes, so no string inside can end the element or open another one."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("graph.site", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=[CompactLayout],
        finalize=lambda value: "" if value is None else value,  # a missing value shows empty
    )
    env.filters["date"] = fmt_date
    env.filters["fixed"] = fixed
    env.filters["script_json"] = script_json
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
