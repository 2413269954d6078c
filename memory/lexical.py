"""An in-process TF-IDF memory with the vector memory's interface (papers, abstract sentences,
full-text passages): the stand-in that pure graph-logic tests and the bench inject instead of
Chroma and MiniLM."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from memory.fulltext.model import FullTextPassage
from memory.models import Paper, Passage


@dataclass(frozen=True)
class _Unit:
    """One searchable record: what `query` ranks and returns."""

    paper: Paper
    id: str
    text: str
    sentence_index: int | None = None
    passage_id: str | None = None
    location: str | None = None


class LexicalMemory:
    """Same `upsert_papers`/`upsert_passages`/`query` as `memory.vector_store.VectorMemory`,
    ranked by TF-IDF cosine."""

    def __init__(self) -> None:
        self._papers: dict[str, Paper] = {}
        self._passages: dict[str, list[FullTextPassage]] = {}
        self._lock = threading.Lock()

    def upsert_papers(self, papers: Iterable[Paper]) -> int:
        with self._lock:
            for paper in papers:
                self._papers[paper.arxiv_id] = paper
        return len(self._papers)

    def upsert_passages(
        self, source_id: str, version: int, title: str, passages: Sequence[FullTextPassage]
    ) -> int:
        with self._lock:
            self._passages[source_id] = list(passages)
        return len(passages)

    def __len__(self) -> int:
        return len(self._papers)

    def _units(self, paper: Paper, kind: str) -> list[_Unit]:
        pid = paper.arxiv_id
        if kind == "sentence":
            return [
                _Unit(paper, f"{pid}#{i}", s, sentence_index=i)
                for i, s in enumerate(paper.sentences())
            ]
        if kind == "passage":
            return [
                _Unit(paper, f"{pid}#{p.paragraph_id}", p.text, None, p.paragraph_id, p.location)
                for p in self._passages.get(pid, [])
            ]
        return [_Unit(paper, pid, f"{paper.title}. {paper.abstract}")]

    def query(
        self,
        text: str,
        k: int,
        kind: str = "paper",
        exclude_sources: list[str] | None = None,
        restrict_to: list[str] | None = None,
    ) -> list[Passage]:
        with self._lock:
            papers = list(self._papers.values())
        excluded = set(exclude_sources or [])
        allowed = set(restrict_to) if restrict_to is not None else None
        units = [
            unit
            for p in papers
            if p.arxiv_id not in excluded and (allowed is None or p.arxiv_id in allowed)
            for unit in self._units(p, kind)
        ]
        if not units or not text.strip():
            return []
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
        try:
            matrix = vec.fit_transform([u.text for u in units] + [text])
        except ValueError:  # empty vocabulary
            return []
        sims = cosine_similarity(matrix[-1], matrix[:-1]).ravel()
        order = sorted(range(len(units)), key=lambda i: (-sims[i], units[i].paper.arxiv_id, i))[:k]
        return [_passage(units[i], float(sims[i])) for i in order]


def _passage(unit: _Unit, score: float) -> Passage:
    paper = unit.paper
    return Passage(
        id=unit.id,
        source_id=paper.arxiv_id,
        version=paper.version,
        sentence_index=unit.sentence_index,
        text=unit.text,
        title=paper.title,
        score=score,
        year=paper.year,
        categories=paper.categories,
        passage_id=unit.passage_id,
        location=unit.location,
    )
