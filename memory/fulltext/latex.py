"""Reader for arXiv e-print source (a gzipped tar of .tex files): not implemented yet."""

from __future__ import annotations

from memory.fulltext.errors import FullTextError
from memory.fulltext.model import FullText


def parse_eprint(data: bytes, paper_id: str = "") -> FullText:
    """Always raises: LaTeX source is not read yet."""
    raise FullTextError("reading LaTeX e-print source is not implemented")
