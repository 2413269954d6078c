"""An in-process TF-IDF memory with the vector memory's query interface: the stand-in that
pure graph-logic tests and the bench inject instead of Chroma and MiniLM."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from memory.models import Paper, Passage


class LexicalMemory:
    """Same `upsert_papers`/`query` as `memory.vector_store.VectorMemory`, ranked by TF-IDF."""

    def __init__(self) -> None:
        self._papers: dict[str, Paper] = {}
        self._lock = threading.Lock()

    def upsert_papers(self, papers: Iterable[Paper]) -> int:
        with self._lock:
            for paper in papers:
                self._papers[paper.arxiv_id] = paper
        return len(self._papers)

    def __len__(self) -> int:
        return len(self._papers)

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
        units: list[tuple[Paper, int | None, str]] = []
        for p in papers:
            if p.arxiv_id in excluded or (allowed is not None and p.arxiv_id not in allowed):
                continue
            if kind == "sentence":
                units.extend((p, i, s) for i, s in enumerate(p.sentences()))
            else:
                units.append((p, None, f"{p.title}. {p.abstract}"))
        if not units or not text.strip():
            return []
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
        try:
            matrix = vec.fit_transform([u[2] for u in units] + [text])
        except ValueError:  # empty vocabulary
            return []
        sims = cosine_similarity(matrix[-1], matrix[:-1]).ravel()
        order = sorted(range(len(units)), key=lambda i: (-sims[i], units[i][0].arxiv_id))[:k]
        return [
            Passage(
                id=f"{units[i][0].arxiv_id}#{units[i][1]}"
                if units[i][1] is not None
                else units[i][0].arxiv_id,
                source_id=units[i][0].arxiv_id,
                version=units[i][0].version,
                sentence_index=units[i][1],
                text=units[i][2],
                title=units[i][0].title,
                score=float(sims[i]),
                year=units[i][0].year,
                categories=units[i][0].categories,
            )
            for i in order
        ]
