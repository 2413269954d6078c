"""Per-run settings and the services nodes use (arXiv search, vector memory, verifier, LLM).

Heavy clients cannot live in the checkpointed state, so nodes look them up here by the run's
settings. Tests and the bench inject their own `Services`. Studio's configurable is derived
from the same `Settings` model (`RunContext`), so env, CLI flags and Studio agree."""

from __future__ import annotations

import atexit
import contextlib
import importlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, Field, create_model

from graph.settings import Settings, load_settings
from memory.errors import ServiceUnavailable, UserError
from memory.models import Paper, Passage

# Settings a run may override from Studio / `context=` (secrets and paths stay in the env).
CONTEXT_FIELDS = (
    "arxiv_mode",
    "arxiv_url",
    "embedding_backend",
    "embedding_model",
    "llm_base_url",
    "llm_model",
    "num_queries",
    "max_results_per_query",
    "max_revisions",
    "consensus_threshold",
    "verifier",
    "tfidf_threshold",
    "evidence_k",
    "max_claims",
)
SECRET_FIELDS = ("nim_api_key", "llm_api_key")


def _optional_field(name: str) -> tuple[Any, Any]:
    info = Settings.model_fields[name]
    annotation: Any = info.annotation
    return (annotation | None, Field(None, description=info.description or name))


RunContext: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "RunContext",
    __doc__="Per-run overrides of Settings (unset = the environment's value).",
    **{name: _optional_field(name) for name in CONTEXT_FIELDS},
)


def context_overrides(context: Any) -> dict[str, Any]:
    if context is None:
        return {}
    if isinstance(context, BaseModel):
        return context.model_dump(exclude_none=True)
    if isinstance(context, dict):
        return {k: v for k, v in context.items() if v is not None and k in CONTEXT_FIELDS}
    return {}


def settings_record(settings: Settings) -> dict[str, Any]:
    """JSON form kept in the state (no secrets), so a resumed run uses the same settings."""
    return settings.model_dump(mode="json", exclude=set(SECRET_FIELDS))


def settings_from_record(base: Settings, record: dict[str, Any] | None) -> Settings:
    if not record:
        return base
    data = base.model_dump()
    data.update({k: v for k, v in record.items() if k not in SECRET_FIELDS and k in data})
    return Settings.model_validate(data)


# --- service protocols ---------------------------------------------------------------------


class SearchBackend(Protocol):
    def search(self, query: str, max_results: int, sort_by: str = "relevance") -> list[Paper]: ...

    def fetch(self, ids: list[str]) -> list[Paper]: ...


class MemoryBackend(Protocol):
    def upsert_papers(self, papers: list[Paper]) -> Any: ...

    def query(
        self,
        text: str,
        k: int,
        kind: str = "paper",
        exclude_sources: list[str] | None = None,
        restrict_to: list[str] | None = None,
    ) -> list[Passage]: ...


class VerifierBackend(Protocol):
    def verify(self, claim: Any, docs: list[Any]) -> list[Any]: ...


@dataclass
class Services:
    """What the nodes call. Each getter raises `ServiceUnavailable` with one clear line."""

    settings: Settings
    search_factory: Callable[[], SearchBackend] | None = None
    memory_factory: Callable[[], MemoryBackend] | None = None
    verifier_factory: Callable[[], VerifierBackend | None] | None = None
    llm_factory: Callable[[], Any] | None = None
    embedding_info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # degraded services, for the report
    _cache: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
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

    def close(self) -> None:
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):  # closing is best effort
                closer()
        self._closers.clear()
        self._cache.clear()

    # --- defaults from settings: the other subsystems, imported lazily ---------------------

    def _default_search(self) -> SearchBackend:
        s = self.settings
        try:
            client_mod = importlib.import_module("memory.arxiv_client")
        except ModuleNotFoundError as exc:
            raise ServiceUnavailable(
                "the arXiv client (memory.arxiv_client) is not installed"
            ) from exc
        url = s.arxiv_url
        if url is None and s.arxiv_mode == "mirror":
            url = self._start_mirror()
        search: SearchBackend = client_mod.ArxivSearch(
            url, delay_s=s.effective_arxiv_delay, timeout_s=s.arxiv_timeout_s
        )
        return search

    def _start_mirror(self) -> str:
        path = self.settings.mirror_path
        hint = "run `sovereign mirror ingest ../shared/data/arxiv/*.jsonl` first"
        if not path.exists() or path.stat().st_size == 0:
            raise ServiceUnavailable(f"the arXiv mirror {path} is missing or empty; {hint}")
        try:
            server_mod = importlib.import_module("memory.mirror.server")
        except ModuleNotFoundError as exc:
            raise ServiceUnavailable("the arXiv mirror (memory.mirror) is not installed") from exc
        try:
            handle = server_mod.start_background(path, host="127.0.0.1", port=0)
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
        try:
            emb_mod = importlib.import_module("memory.embeddings")
            vs_mod = importlib.import_module("memory.vector_store")
        except ModuleNotFoundError:
            self.notes.append(
                "vector memory not installed: a lexical TF-IDF memory stood in for embeddings"
            )
            self.embedding_info = {"backend": "lexical-tfidf", "model": "tfidf", "dim": None}
            return LexicalMemory()
        embedder = emb_mod.embedder_from_config(s.embedding_config())
        self.embedding_info = describe_embedder(embedder, s)
        if s.chroma_url:
            memory: MemoryBackend = vs_mod.VectorMemory(
                embedder, url=s.chroma_url, namespace="arxiv"
            )
        else:
            memory = vs_mod.VectorMemory(embedder, path=s.chroma_path, namespace="arxiv")
        return memory

    def _default_verifier(self) -> VerifierBackend | None:
        try:
            ver_mod = importlib.import_module("agents.verification")
        except ModuleNotFoundError:
            self.notes.append("no verifier installed (agents.verification): claims stay unverified")
            return None
        try:
            name = self.settings.verifier
            kwargs = {"threshold": self.settings.tfidf_threshold} if name == "tfidf" else {}
            verifier: VerifierBackend = ver_mod.get_verifier(name, **kwargs)
        except Exception as exc:
            if self.settings.verifier == "tfidf":
                raise ServiceUnavailable(f"verifier 'tfidf' unavailable: {exc}") from exc
            self.notes.append(
                f"verifier {self.settings.verifier!r} unavailable ({exc}); used 'tfidf' instead"
            )
            verifier = ver_mod.get_verifier("tfidf", threshold=self.settings.tfidf_threshold)
            self._cache["verifier_name"] = "tfidf"
        return verifier

    def verifier_name(self) -> str:
        self.verifier()
        return str(self._cache.get("verifier_name", self.settings.verifier))

    def _default_llm(self) -> Any:
        if not self.settings.llm_base_url:
            return None
        try:
            client_mod = importlib.import_module("agents.llm.client")
        except ModuleNotFoundError:
            self.notes.append("LLM client not installed: agents ran deterministically")
            return None
        return client_mod.make_llm(self.settings.llm_config())


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


class LexicalMemory:
    """In-process TF-IDF stand-in for vector memory (used only when memory.vector_store is
    absent, and by pure graph-logic tests). Same query interface as VectorMemory."""

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
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.metrics.pairwise import cosine_similarity

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


def base_settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else load_settings()
