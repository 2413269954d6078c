"""The one exception the full-text readers raise, so callers never see a parser's traceback."""

from __future__ import annotations

from memory.errors import UserError


class FullTextError(UserError):
    """A file could not be read as a paper's full text (corrupt, truncated, encrypted, unknown
    format, missing fields); the message is one line that says why."""
