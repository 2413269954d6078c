"""The services nodes call (arXiv search, vector memory, verifier, LLM), built from a run's
settings. Heavy clients cannot live in the checkpointed state, so nodes look them up here;
tests and the bench inject their own `Services`."""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from graph.settings import Settings
from memory.errors import ServiceUnavailable, UserError
from memory.fulltext.model import FullText, FullTextPassage
from memory.models import Paper, Passage


class SearchBackend(Protocol):
    def search(self, query: str, max_results: int, sort_by: str = "relevance") -> list[Paper]: ...

    def fetch(self, ids: list[str]) -> list[Paper]: ...


class MemoryBackend(Protocol):
    """Vector memory as the nodes use it (Chroma, or the TF-IDF stand-in of tests)."""

    def upsert_papers(self, papers: list[Paper]) -> Any: ...

    def upsert_passages(
        self, source_id: str, version: int, title: str, passages: Sequence[FullTextPassage]
    ) -> Any: ...

    def query(
        self,
        text: str,
        k: int,
        *,
        kind: Any = "paper",
        exclude_sources: Any = None,
        restrict_to: Any = None,
    ) -> list[Passage]: ...


class FetchedText(Protocol):
    """What a full-text fetch says: the text, or why there is none."""

    @property
    def fulltext(self) -> FullText | None: ...

    @property
    def reason(self) -> str | None: ...


class FullTextBackend(Protocol):
    def fetch(self, arxiv_id: str, version: int | None = None) -> FetchedText: ...


class VerifierBackend(Protocol):
    def verify(self, claim: Any, docs: list[Any]) -> list[Any]: ...


ARXIV_ROOT = "https://arxiv.org"  # serves /html/<id> and /pdf/<id>


@dataclass
class Services:
    """What the nodes call. Each getter raises `ServiceUnavailable` with one clear line."""

    settings: Settings
    search_factory: Callable[[], SearchBackend] | None = None
    memory_factory: Callable[[], MemoryBackend] | None = None
    verifier_factory: Callable[[], VerifierBackend | None] | None = None
    llm_factory: Callable[[], Any] | None = None
    fulltext_factory: Callable[[], FullTextBackend] | None = None
    embedding_info: dict[str, Any] = field(default_factory=dict)
    arxiv_source: str | None = None  # which arXiv the search service talks to, once built
    notes: list[str] = field(default_factory=list)  # degraded services, for the report
    _cache: dict[str, Any] = field(default_factory=dict)
    # re-entrant: one service's factory may ask for another (full text needs the search)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def _get(self, key: str, factory: Callable[[], Any] | None) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = factory() if factory else None
            return self._cache[key]

    def search(self) -> SearchBackend:
        client = self._get("search", self.search_factory or self._default_search)
        if client is None:
            raise ServiceUnavailable("no arXiv search backend is available")
        return client

    def memory(self) -> MemoryBackend:
        return self._get("memory", self.memory_factory or self._default_memory)

    def verifier(self) -> VerifierBackend | None:
        return self._get("verifier", self.verifier_factory or self._default_verifier)

    def llm(self) -> Any:
        return self._get("llm", self.llm_factory or self._default_llm)

    def fulltext(self) -> FullTextBackend:
        return self._get("fulltext", self.fulltext_factory or self._default_fulltext)

    def mark_indexed(self, run_id: str, n_papers: int) -> None:
        """Remember that this process's memory holds the run's first `n_papers` papers."""
        self._cache[f"indexed:{run_id}:{n_papers}"] = True

    def is_indexed(self, run_id: str, n_papers: int) -> bool:
        return bool(self._cache.get(f"indexed:{run_id}:{n_papers}"))

    def release_memory(self) -> None:
        """Close an embedded vector memory so other processes may open the home (its lock is
        held while it is open); the next `memory()` reopens it. Long-lived processes (a queue
        worker) call this when idle."""
        with self._lock:
            close = getattr(self._cache.pop("memory", None), "close", None)
            if close is not None and close in self._closers:
                self._closers.remove(close)
                close()

    def close(self) -> None:
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):  # closing is best effort
                closer()
        self._closers.clear()
        self._cache.clear()

    # --- defaults from settings (imported on first use: chromadb and onnxruntime are slow
    # to import, and a run that never needs a service should not pay for it) ---------------

    def _default_search(self) -> SearchBackend:
        """The arXiv source the settings ask for; 'auto' takes the local mirror when one has
        been ingested, else arXiv online after one light request shows it answers."""
        s = self.settings
        from memory.arxiv_client import ArxivSearch

        if s.arxiv_url:
            self.arxiv_source = f"arXiv-compatible API at {s.arxiv_url}"
            return ArxivSearch(
                s.arxiv_url, delay_s=s.arxiv_delay(False), timeout_s=s.arxiv_timeout_s
            )
        if s.arxiv_mode == "mirror" or (s.arxiv_mode == "auto" and self._mirror_ingested()):
            url = self._start_mirror()
            self.arxiv_source = f"local arXiv mirror ({s.mirror_path})"
            return ArxivSearch(url, delay_s=s.arxiv_delay(False), timeout_s=s.arxiv_timeout_s)
        online = ArxivSearch(
            s.arxiv_online_url, delay_s=s.arxiv_delay(True), timeout_s=s.arxiv_timeout_s
        )
        if s.arxiv_mode == "auto":
            self._check_online(online)
        self.arxiv_source = f"arXiv API online ({s.arxiv_online_url})"
        return online

    def _mirror_ingested(self) -> bool:
        path = self.settings.mirror_path
        return path.exists() and path.stat().st_size > 0

    def _check_online(self, search: Any) -> None:
        """One light request; neither a mirror nor arXiv: one line that gives both ways in."""
        s = self.settings
        try:
            search.search("all:transformer", max_results=1)
        except UserError as exc:
            raise ServiceUnavailable(
                f"no arXiv source: no local mirror at {s.mirror_path} (build one with "
                f"`sovereign mirror ingest FILE...`, e.g. arXiv's bulk metadata snapshot or "
                f"unarXive full texts) and arXiv's API at {s.arxiv_online_url} did not answer "
                f"({exc})"
            ) from exc

    def _start_mirror(self) -> str:
        path = self.settings.mirror_path
        hint = "run `sovereign mirror ingest ../shared/data/arxiv/*.jsonl` first"
        if not path.exists() or path.stat().st_size == 0:
            raise ServiceUnavailable(f"the arXiv mirror {path} is missing or empty; {hint}")
        from memory.mirror.server import start_background

        try:
            handle = start_background(path, host="127.0.0.1", port=0)
        except UserError:
            raise
        except Exception as exc:
            raise ServiceUnavailable(
                f"could not start the arXiv mirror over {path}: {exc}"
            ) from exc
        self._closers.append(handle.close)
        return str(handle.query_url)

    def _default_memory(self) -> MemoryBackend:
        s = self.settings
        from memory.embeddings import embedder_from_config
        from memory.vector_store import VectorMemory

        embedder = embedder_from_config(s.embedding_config())
        self.embedding_info = describe_embedder(embedder, s)
        if s.chroma_url:
            memory: MemoryBackend = VectorMemory(embedder, url=s.chroma_url, namespace="arxiv")
        else:
            embedded = VectorMemory(
                embedder, path=s.chroma_path, namespace="arxiv", wait_s=s.home_wait_s
            )
            self._closers.append(embedded.close)  # lets other processes have the home
            memory = embedded
        return memory

    def _default_fulltext(self) -> FullTextBackend:
        """arxiv.org's /html and /pdf online, or the same paths of the mirror the searches
        use, through the arXiv client's own rate limiter (one request per 3 s online)."""
        from memory.arxiv_client import ArxivSearch
        from memory.fulltext.fetch import FullTextFetcher

        search = self.search()
        limiter = search.limiter if isinstance(search, ArxivSearch) else None
        query_url = getattr(search, "query_url", "")
        root = query_url.split("/api/query", 1)[0] if "/api/query" in query_url else ARXIV_ROOT
        if root.endswith("export.arxiv.org"):
            root = ARXIV_ROOT
        fetcher: FullTextBackend = FullTextFetcher(
            root,
            limiter=limiter,
            timeout_s=self.settings.arxiv_timeout_s,
            # arxiv.org's answers are kept on disk (3 s a request); a local mirror needs none
            cache_dir=self.settings.home / "fulltext" if root == ARXIV_ROOT else None,
        )
        return fetcher

    def _default_verifier(self) -> VerifierBackend | None:
        from agents.verification import get_verifier

        try:
            name = self.settings.verifier
            kwargs: dict[str, Any] = {"threshold": self.settings.tfidf_threshold}
            if name != "tfidf":  # the NLI slot's verifier lives under the home
                nli = self.settings.verifier_nli
                kwargs = {"nli": nli, "home": self.settings.home} if nli else {}
            verifier: VerifierBackend = get_verifier(name, **kwargs)
        except Exception as exc:
            if self.settings.verifier == "tfidf":
                raise ServiceUnavailable(f"verifier 'tfidf' unavailable: {exc}") from exc
            self.notes.append(
                f"verifier {self.settings.verifier!r} unavailable ({exc}); used 'tfidf' instead"
            )
            verifier = get_verifier("tfidf", threshold=self.settings.tfidf_threshold)
            self._cache["verifier_name"] = "tfidf"
        return verifier

    def verifier_name(self) -> str:
        self.verifier()
        return str(self._cache.get("verifier_name", self.settings.verifier))

    def _default_llm(self) -> Any:
        if not self.settings.llm_base_url:
            return None
        from agents.llm.client import make_llm

        llm = make_llm(self.settings.llm_config())
        if llm is not None:
            llm.check_reachable()  # down or refusing the key: one line now, not retries later
        return llm


def describe_embedder(embedder: Any, settings: Settings) -> dict[str, Any]:
    """Model id and dimension actually in use, as far as the embedder says."""
    model = None
    for attr in ("model_id", "model_name", "model", "name"):
        value = getattr(embedder, attr, None)
        if isinstance(value, str):
            model = value
            break
    dim = None
    for attr in ("dim", "dimension", "dimensions", "ndim"):
        value = getattr(embedder, attr, None)
        value = value() if callable(value) else value
        if isinstance(value, int):
            dim = value
            break
    return {
        "backend": settings.embedding_backend,
        "model": model or settings.embedding_model or "unknown",
        "dim": dim,
    }


_REGISTRY: dict[str, Services] = {}
_REGISTRY_LOCK = threading.Lock()


def services_for(settings: Settings) -> Services:
    """One `Services` per distinct settings in this process (clients are reused across runs)."""
    key = settings.model_dump_json()
    with _REGISTRY_LOCK:
        if key not in _REGISTRY:
            _REGISTRY[key] = Services(settings)
        return _REGISTRY[key]


def close_all() -> None:
    with _REGISTRY_LOCK:
        for services in _REGISTRY.values():
            services.close()
        _REGISTRY.clear()


atexit.register(close_all)
