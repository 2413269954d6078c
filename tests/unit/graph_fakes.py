"""In-process stand-ins for the graph's services in pure graph-logic tests: a keyword search
over the hand-written fixture (same query syntax as arXiv), lexical memory, TF-IDF verifier."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from graph.services import Services
from graph.settings import Settings
from memory.fulltext.model import FullText
from memory.lexical import LexicalMemory
from memory.models import Paper
from memory.text import normalize_for_match

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "graph" / "mirror_small.jsonl"


def load_fixture(path: Path = FIXTURE) -> list[Paper]:
    papers = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        papers.append(
            Paper(
                arxiv_id=rec["id"],
                title=rec["title"],
                abstract=rec["summary"],
                authors=rec["authors"],
                categories=rec["categories"],
                primary_category=rec["categories"][0],
                abs_url=rec["abs"],
                pdf_url=rec["pdf"],
            )
        )
    return papers


class KeywordSearch:
    """Plain keyword queries as arXiv runs them: words OR-ed, papers matching more words first.
    Records every call's start/end so tests can show the searches overlapped."""

    def __init__(self, papers: list[Paper], latency_s: float = 0.0, fail: bool = False) -> None:
        self.papers = papers
        self.latency_s = latency_s
        self.fail = fail
        self.calls: list[tuple[str, float, float]] = []
        self._lock = threading.Lock()

    def _text(self, p: Paper) -> str:
        return f" {normalize_for_match(p.title + ' ' + p.abstract)} "

    def search(self, query: str, max_results: int, sort_by: str = "relevance") -> list[Paper]:
        start = time.time()
        if self.latency_s:
            time.sleep(self.latency_s)
        if self.fail:
            from memory.errors import ServiceUnavailable

            raise ServiceUnavailable("arXiv API at http://127.0.0.1:9/api/query is unreachable")
        words = [w.removeprefix("all:") for w in query.split()]
        hits = []
        for p in self.papers:
            text = self._text(p)
            score = sum(f" {normalize_for_match(w)}" in text for w in words)
            if score:
                hits.append((score, p))
        hits.sort(key=lambda t: (-t[0], t[1].arxiv_id))
        with self._lock:
            self.calls.append((query, start, time.time()))
        return [p for _, p in hits[:max_results]]

    def fetch(self, ids: list[str]) -> list[Paper]:
        return [p for p in self.papers if p.arxiv_id in ids]


@dataclass
class Fetched:
    fulltext: FullText | None
    reason: str | None = None


class FakeFullText:
    """Full texts by arXiv id, as the mirror's /html endpoint would give them; counts fetches."""

    def __init__(self, texts: dict[str, FullText] | None = None) -> None:
        self.texts = texts or {}
        self.fetched: list[str] = []

    def fetch(self, arxiv_id: str, version: int | None = None) -> Fetched:
        self.fetched.append(arxiv_id)
        found = self.texts.get(arxiv_id)
        return Fetched(found, None if found else "the mirror holds no full text for it")


def fake_services(
    settings: Settings, search: KeywordSearch | None = None, fulltext: FakeFullText | None = None
) -> Services:
    from agents.verification import get_verifier

    search = search or KeywordSearch(load_fixture())
    texts = fulltext or FakeFullText()
    services = Services(
        settings,
        search_factory=lambda: search,
        memory_factory=LexicalMemory,
        verifier_factory=lambda: get_verifier("tfidf", threshold=settings.tfidf_threshold),
        llm_factory=lambda: None,
        fulltext_factory=lambda: texts,
    )
    services.embedding_info = {"backend": "lexical-tfidf", "model": "tfidf", "dim": None}
    return services
