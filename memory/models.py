"""Records shared by the mirror, the vector memory and the agents. Text fields are stored whole:
display code may elide, these never do."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field

from memory.text import split_sentences

_ID_VERSION = re.compile(r"^(?P<id>.+?)(?:v(?P<v>\d+))?$")


def split_arxiv_id(raw: str) -> tuple[str, int | None]:
    """'2604.23996v2' -> ('2604.23996', 2); also accepts abs URLs and old-style ids."""
    raw = raw.strip()
    raw = re.sub(r"^(https?://[^/]+/(abs|pdf)/)", "", raw)
    raw = raw.removeprefix("arXiv:").removeprefix("arxiv:").removesuffix(".pdf")
    m = _ID_VERSION.match(raw)
    assert m is not None
    v = m.group("v")
    return m.group("id"), int(v) if v else None


class Paper(BaseModel):
    """One arXiv record as the kernel read it."""

    arxiv_id: str = Field(description="Id without version, e.g. 2604.23996")
    version: int = 1
    title: str
    abstract: str
    authors: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    primary_category: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    abs_url: str = ""
    pdf_url: str | None = None
    # provenance: which query found it and when
    query: str | None = None
    retrieved_at: datetime | None = None

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"

    @property
    def year(self) -> int | None:
        when = self.published or self.updated
        if when is not None:
            return when.year
        m = re.match(r"^(\d{2})(\d{2})\.", self.arxiv_id)
        return 2000 + int(m.group(1)) if m else None

    def sentences(self) -> list[str]:
        """The abstract's sentences; index i here is sentence i everywhere in the kernel."""
        return split_sentences(self.abstract)


class Passage(BaseModel):
    """One hit from vector memory: a whole paper (sentence_index None) or one abstract sentence."""

    id: str
    source_id: str = Field(description="arXiv id without version")
    version: int = 1
    sentence_index: int | None = None
    text: str
    title: str = ""
    score: float = Field(description="Cosine similarity in [-1, 1]; higher is closer")
    year: int | None = None
    categories: list[str] = Field(default_factory=list)
