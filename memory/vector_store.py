"""Chroma vector memory: one record per paper (title + abstract) and one per abstract sentence,
in one collection per (namespace, embedding model, dimension) so vectors of different models
never mix. Writes embed everything first and only then touch Chroma, so bad input or a failed
embedding leaves the store as it was. Unchanged text is never embedded twice (content hash)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from memory.embeddings import Embedder, embedder_from_settings, get_embedder
from memory.errors import ServiceUnavailable, UserError
from memory.models import Paper, Passage, split_arxiv_id

Kind = Literal["paper", "sentence"]
EF_NAME = "sovereign"
EMBED_CHUNK = 256  # texts per embedding call between progress reports


class Document(BaseModel):
    """A pre-split document (e.g. a SciFact abstract): its sentence indices are kept as given."""

    id: str
    version: int = 1
    title: str
    sentences: list[str]
    year: int | None = None
    categories: list[str] = Field(default_factory=list)


class UpsertStats(BaseModel):
    documents: int = Field(description="Sources written or checked (after de-duplication)")
    sentences: int = Field(description="Sentence records those sources have")
    embedded: int = Field(description="Texts embedded by this call")
    unchanged: int = Field(description="Records whose text hash matched: not embedded again")
    removed: int = 0  # records of older versions or vanished sentences, deleted
    superseded: int = 0  # inputs skipped: a newer (or repeated) version came along or is stored
    truncated: int = 0  # texts the model saw only in part (local: past 256 tokens); stored whole


# --- Chroma embedding-function registration -----------------------------------------------------


def _register_embedding_function() -> type:
    """Register our function with Chroma so collections persisted with it reopen (Chroma
    resolves the stored config by name); it builds its embedder lazily from that config."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    class SovereignEmbeddingFunction(EmbeddingFunction[Documents]):
        def __init__(self, embedder: Embedder | None = None, config: dict[str, Any] | None = None):
            self._embedder = embedder
            if embedder is not None:
                config = {
                    "backend": getattr(embedder, "backend", "custom"),
                    "model_id": embedder.model_id,
                    "dim": embedder.dim,
                }
            self._config: dict[str, Any] = dict(config or {})

        def _get(self) -> Embedder:
            if self._embedder is None:
                self._embedder = get_embedder(
                    self._config.get("backend", "local"),
                    self._config.get("model_id"),
                    dim=self._config.get("dim"),
                )
            return self._embedder

        def __call__(self, input: Documents) -> Embeddings:
            import numpy as np

            return [np.asarray(v, dtype=np.float32) for v in self._get().embed_passages(input)]

        def embed_query(self, input: Documents) -> Embeddings:
            import numpy as np

            return [np.asarray(v, dtype=np.float32) for v in self._get().embed_queries(input)]

        @staticmethod
        def name() -> str:
            return EF_NAME

        def get_config(self) -> dict[str, Any]:
            return dict(self._config)

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> SovereignEmbeddingFunction:
            return SovereignEmbeddingFunction(config=config)

        def default_space(self) -> Any:
            return "cosine"

        def supported_spaces(self) -> Any:
            return ["cosine"]

    register_embedding_function(SovereignEmbeddingFunction)
    return SovereignEmbeddingFunction


_EF_CLASS: type | None = None


def chroma_embedding_function(embedder: Embedder) -> Any:
    global _EF_CLASS
    if _EF_CLASS is None:
        _EF_CLASS = _register_embedding_function()
    return _EF_CLASS(embedder)


# --- helpers -------------------------------------------------------------------------------------


def collection_name(namespace: str, model_id: str, dim: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{namespace}__{model_id}__{dim}").strip("-._")
    return slug[:500]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _base_id(raw: str) -> str:
    return split_arxiv_id(raw)[0]


def _id_forms(raw: Sequence[str]) -> list[str]:
    """'2401.00001v2' may name arXiv source 2401.00001; a non-arXiv id (SciFact '4983', or one
    that merely ends in v<digits>) names itself. Filters match either form."""
    return sorted({s.strip() for s in raw} | {_base_id(s) for s in raw})


def _encode_categories(categories: Sequence[str]) -> str:
    return ",".join(c.strip() for c in categories if c.strip())


def _decode_categories(value: Any) -> list[str]:
    return [c for c in str(value or "").split(",") if c]


class _Record(BaseModel):
    id: str
    embed_text: str
    document: str
    metadata: dict[str, Any]


class _Source(BaseModel):
    id: str
    version: int
    title: str
    abstract: str
    sentences: list[str]
    year: int | None
    categories: list[str]

    def records(self, with_sentences: bool) -> list[_Record]:
        base: dict[str, Any] = {
            "source_id": self.id,
            "version": self.version,
            "title": self.title,
            "categories": _encode_categories(self.categories),
        }
        if self.year is not None:
            base["year"] = self.year
        paper_text = f"{self.title}\n{self.abstract}".strip()
        out = [
            _Record(
                id=f"{self.id}v{self.version}",
                embed_text=paper_text,
                document=self.abstract or self.title,
                metadata={
                    **base,
                    "kind": "paper",
                    "n_sentences": len(self.sentences),
                    "hash": content_hash(paper_text),
                },
            )
        ]
        if with_sentences:
            for i, sentence in enumerate(self.sentences):
                out.append(
                    _Record(
                        id=f"{self.id}v{self.version}#s{i}",
                        embed_text=sentence,
                        document=sentence,
                        metadata={
                            **base,
                            "kind": "sentence",
                            "sentence_index": i,
                            "hash": content_hash(sentence),
                        },
                    )
                )
        return out


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- the store -----------------------------------------------------------------------------------


class VectorMemory:
    """Everything the kernel has read, searchable by meaning, across runs."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        path: Path | None = None,
        url: str | None = None,
        namespace: str = "arxiv",
        collection: str | None = None,
    ) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        if (path is None) == (url is None):
            raise UserError("VectorMemory needs exactly one of path= (embedded) or url= (server)")
        self.embedder = embedder
        self.namespace = namespace
        self.location = str(path or url)
        self._client: Any
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if path is not None:
                Path(path).mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            else:
                assert url is not None
                parsed = urlparse(url if "://" in url else f"http://{url}")
                if not parsed.hostname:
                    raise UserError(f"bad Chroma URL {url!r}; expected http://HOST:PORT")
                self._client = chromadb.HttpClient(
                    host=parsed.hostname,
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=chroma_settings,
                )
                self._client.heartbeat()
        except UserError:
            raise
        except Exception as exc:
            raise ServiceUnavailable(f"cannot open Chroma at {self.location}: {exc}") from exc
        self.collection_name = collection or collection_name(
            namespace, embedder.model_id, embedder.dim
        )
        self._collection: Any
        with self._guard("open collection"):
            self._collection = self._client.get_or_create_collection(
                name=self.collection_name,
                embedding_function=chroma_embedding_function(embedder),
                metadata={
                    "model_id": embedder.model_id,
                    "dim": embedder.dim,
                    "namespace": namespace,
                },
                configuration={"hnsw": {"space": "cosine"}},
            )
        self._check_model()

    @classmethod
    def from_settings(
        cls, settings: Any, embedder: Embedder | None = None, *, namespace: str = "arxiv"
    ) -> VectorMemory:
        """Server when settings.chroma_url is set, else embedded at settings.chroma_path."""
        emb = embedder or embedder_from_settings(settings)
        url = getattr(settings, "chroma_url", None)
        if url:
            return cls(emb, url=url, namespace=namespace)
        return cls(emb, path=Path(settings.chroma_path), namespace=namespace)

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except UserError:
            raise
        except (ConnectionError, OSError, TimeoutError) as exc:
            raise ServiceUnavailable(f"Chroma at {self.location}: {what} failed: {exc}") from exc
        except Exception as exc:
            if type(exc).__module__.split(".")[0] in {"httpx", "httpcore", "chromadb"}:
                raise ServiceUnavailable(
                    f"Chroma at {self.location}: {what} failed: {exc}"
                ) from exc
            raise

    def _check_model(self) -> None:
        meta = self._collection.metadata or {}
        stored_model, stored_dim = meta.get("model_id"), meta.get("dim")
        if stored_model != self.embedder.model_id or stored_dim != self.embedder.dim:
            raise UserError(
                f"collection {self.collection_name!r} holds {stored_dim}-d vectors of "
                f"{stored_model}, not {self.embedder.dim}-d {self.embedder.model_id}: "
                "open it with the matching embedding backend or use another namespace"
            )

    # --- writes ----------------------------------------------------------------------------------

    def upsert_papers(
        self,
        papers: Sequence[Paper],
        *,
        sentences: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> UpsertStats:
        """Store papers (and their abstract sentences, split by Paper.sentences())."""
        sources = [
            _Source(
                id=_base_id(p.arxiv_id),
                version=p.version,
                title=p.title.strip(),
                abstract=p.abstract.strip(),
                sentences=p.sentences(),
                year=p.year,
                categories=list(p.categories),
            )
            for p in papers
        ]
        return self._upsert(sources, sentences, progress)

    def upsert_documents(
        self,
        docs: Sequence[Document],
        *,
        sentences: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> UpsertStats:
        """Store pre-split documents; sentence i is docs[..].sentences[i] exactly."""
        sources = []
        for d in docs:
            bad = [i for i, s in enumerate(d.sentences) if not s.strip()]
            if bad:
                raise UserError(f"document {d.id}: sentence {bad[0]} is empty")
            sources.append(
                _Source(
                    id=d.id.strip(),
                    version=d.version,
                    title=d.title.strip(),
                    abstract=" ".join(s.strip() for s in d.sentences),
                    sentences=list(d.sentences),
                    year=d.year,
                    categories=list(d.categories),
                )
            )
        return self._upsert(sources, sentences, progress)

    def _upsert(
        self,
        sources: list[_Source],
        with_sentences: bool,
        progress: Callable[[int, int], None] | None,
    ) -> UpsertStats:
        # 1. validate everything before any work
        latest: dict[str, _Source] = {}
        for s in sources:
            if not s.id:
                raise UserError("a document has an empty id")
            if not s.title and not s.abstract:
                raise UserError(f"document {s.id} has neither title nor text")
            if s.version < 1:
                raise UserError(f"document {s.id} has version {s.version}; versions start at 1")
            prev = latest.get(s.id)
            if prev is None or s.version >= prev.version:
                latest[s.id] = s
        superseded = len(sources) - len(latest)
        if not latest:
            return UpsertStats(documents=0, sentences=0, embedded=0, unchanged=0)

        # 2. what is stored already for these sources
        existing: dict[str, dict[str, Any]] = {}
        with self._guard("read"):
            for ids in _chunks(sorted(latest), 500):
                got = self._collection.get(
                    where={"source_id": {"$in": list(ids)}}, include=["metadatas"]
                )
                for rid, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                    existing[rid] = dict(meta or {})
        stored_version: dict[str, int] = {}
        for meta in existing.values():
            sid, ver = str(meta.get("source_id")), int(meta.get("version", 0))
            stored_version[sid] = max(ver, stored_version.get(sid, 0))

        wanted: list[_Record] = []
        stale: list[str] = []
        n_sentences = 0
        written = 0
        for sid, src in latest.items():
            if stored_version.get(sid, 0) > src.version:
                superseded += 1
                continue
            written += 1
            records = src.records(with_sentences)
            wanted.extend(records)
            n_sentences += len(src.sentences)
            keep = {r.id for r in records}
            for rid, meta in existing.items():
                if meta.get("source_id") != sid or rid in keep:
                    continue
                old_version = int(meta.get("version", 0)) != src.version
                if old_version or with_sentences or meta.get("kind") == "paper":
                    stale.append(rid)
        to_embed = [r for r in wanted if existing.get(r.id, {}).get("hash") != r.metadata["hash"]]
        meta_only = [
            r
            for r in wanted
            if r.id in existing
            and existing[r.id].get("hash") == r.metadata["hash"]
            and existing[r.id] != r.metadata
        ]

        # 3. embed everything first: a failure here leaves the store untouched
        truncated_before = getattr(self.embedder, "truncated", 0)
        vectors: list[list[float]] = []
        for chunk in _chunks(to_embed, EMBED_CHUNK):
            vectors.extend(self.embedder.embed_passages([r.embed_text for r in chunk]))
            if progress is not None:
                progress(len(vectors), len(to_embed))
        if len(vectors) != len(to_embed) or any(len(v) != self.embedder.dim for v in vectors):
            raise ServiceUnavailable(
                f"embedder {self.embedder.model_id} returned malformed vectors; nothing written"
            )

        # 4. write: new/changed records, metadata-only updates, then drop stale records
        with self._guard("write"):
            batch = min(1000, self._client.get_max_batch_size())
            for start in range(0, len(to_embed), batch):
                part = to_embed[start : start + batch]
                self._collection.upsert(
                    ids=[r.id for r in part],
                    embeddings=vectors[start : start + batch],
                    documents=[r.document for r in part],
                    metadatas=[r.metadata for r in part],
                )
            for same in _chunks(meta_only, batch):
                self._collection.update(
                    ids=[r.id for r in same], metadatas=[r.metadata for r in same]
                )
            for ids in _chunks(stale, batch):
                self._collection.delete(ids=list(ids))
        return UpsertStats(
            documents=written,
            sentences=n_sentences,
            embedded=len(to_embed),
            unchanged=len(wanted) - len(to_embed),
            removed=len(stale),
            superseded=superseded,
            truncated=getattr(self.embedder, "truncated", 0) - truncated_before,
        )

    # --- reads -----------------------------------------------------------------------------------

    def _where(
        self, kind: Kind, exclude: Sequence[str], restrict: Sequence[str] | None
    ) -> dict[str, Any]:
        clauses: list[dict[str, Any]] = [{"kind": kind}]
        if exclude:
            clauses.append({"source_id": {"$nin": _id_forms(exclude)}})
        if restrict is not None:
            clauses.append({"source_id": {"$in": _id_forms(restrict)}})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def query(
        self,
        text: str,
        k: int = 5,
        *,
        kind: Kind = "sentence",
        exclude_sources: Sequence[str] = (),
        restrict_to: Sequence[str] | None = None,
    ) -> list[Passage]:
        """Top-k passages by cosine similarity; exclude_sources never appear (a claim's own
        paper), restrict_to (when given) limits hits to those sources."""
        return self.query_many(
            [text], k, kind=kind, exclude_sources=exclude_sources, restrict_to=restrict_to
        )[0]

    def query_many(
        self,
        texts: Sequence[str],
        k: int = 5,
        *,
        kind: Kind = "sentence",
        exclude_sources: Sequence[str] = (),
        restrict_to: Sequence[str] | None = None,
    ) -> list[list[Passage]]:
        """query() for many texts with one batched embedding call and one Chroma query."""
        if isinstance(texts, str):
            raise UserError("query_many takes a list of texts, not one string")
        if k < 1:
            raise UserError(f"k must be at least 1, got {k}")
        if kind not in ("paper", "sentence"):
            raise UserError(f"kind must be 'paper' or 'sentence', got {kind!r}")
        if not texts:
            return []
        vectors = self.embedder.embed_queries(list(texts))
        if restrict_to is not None and not set(_id_forms(restrict_to)) - set(
            _id_forms(exclude_sources)
        ):
            return [[] for _ in texts]
        where = self._where(kind, exclude_sources, restrict_to)
        with self._guard("query"):
            res = self._collection.query(
                query_embeddings=vectors,
                n_results=k,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        out: list[list[Passage]] = []
        for ids, docs, metas, dists in zip(
            res["ids"],
            res["documents"] or [],
            res["metadatas"] or [],
            res["distances"] or [],
            strict=True,
        ):
            out.append(
                [
                    _to_passage(rid, doc or "", meta or {}, dist)
                    for rid, doc, meta, dist in zip(ids, docs, metas, dists, strict=True)
                ]
            )
        return out

    def get_sentences(self, source_id: str) -> list[str]:
        """The stored sentences of one source (newest version), in index order; [] if unknown."""
        with self._guard("read"):
            got = self._collection.get(
                where={
                    "$and": [{"source_id": {"$in": _id_forms([source_id])}}, {"kind": "sentence"}]
                },
                include=["documents", "metadatas"],
            )
        rows = [
            (int(m.get("version", 0)), int(m.get("sentence_index", 0)), doc or "")
            for doc, m in zip(got["documents"] or [], got["metadatas"] or [], strict=True)
        ]
        if not rows:
            return []
        newest = max(v for v, _, _ in rows)
        return [doc for v, _, doc in sorted(r for r in rows if r[0] == newest)]

    def get_paper(self, source_id: str) -> Passage | None:
        """The stored paper record of one source (score 1.0), or None."""
        with self._guard("read"):
            got = self._collection.get(
                where={"$and": [{"source_id": {"$in": _id_forms([source_id])}}, {"kind": "paper"}]},
                include=["documents", "metadatas"],
            )
        hits = [
            _to_passage(rid, doc or "", meta or {}, 0.0)
            for rid, doc, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            )
        ]
        return max(hits, key=lambda p: p.version) if hits else None

    def count(self) -> dict[str, int]:
        """Records by kind: {'papers': n, 'sentences': m, 'total': n + m}."""
        with self._guard("count"):
            papers = len(self._collection.get(where={"kind": "paper"}, include=[])["ids"])
            total = self._collection.count()
        return {"papers": papers, "sentences": total - papers, "total": total}


def _to_passage(rid: str, doc: str, meta: dict[str, Any], distance: float) -> Passage:
    idx = meta.get("sentence_index")
    year = meta.get("year")
    return Passage(
        id=rid,
        source_id=str(meta.get("source_id", "")),
        version=int(meta.get("version", 1)),
        sentence_index=int(idx) if meta.get("kind") == "sentence" and idx is not None else None,
        text=doc,
        title=str(meta.get("title", "")),
        score=1.0 - float(distance),
        year=int(year) if year is not None else None,
        categories=_decode_categories(meta.get("categories")),
    )
