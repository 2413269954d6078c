"""Chroma vector memory: one record per paper (title + abstract) and one per abstract sentence,
in one collection per (namespace, embedding model, dimension) so vectors of different models
never mix. Writes embed everything first and only then touch Chroma, so bad input or a failed
embedding leaves the store as it was. Unchanged text is never embedded twice (content hash)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from memory import homelock
from memory.embeddings import Embedder, EmbeddingConfig, embedder_from_config
from memory.errors import ServiceUnavailable, UserError
from memory.fulltext.model import FullTextPassage
from memory.models import Paper, Passage
from memory.vector_records import (
    EMBED_CHUNK,
    Document,
    Kind,
    PassageRecords,
    SourceRecords,
    StoredRecord,
    UpsertStats,
    base_id,
    chroma_embedding_function,
    chunks,
    collection_name,
    id_forms,
    to_passage,
)

__all__ = ["Document", "StoreSettings", "UpsertStats", "VectorMemory"]


class StoreSettings(Protocol):
    """What opening the store needs from the caller's settings (the top room's `Settings`
    satisfies it; this room never imports it)."""

    @property
    def chroma_url(self) -> str | None: ...

    @property
    def chroma_path(self) -> Path: ...

    def embedding_config(self) -> EmbeddingConfig: ...


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
        wait_s: float | None = None,
    ) -> None:
        """Embedded (`path`): this process holds the home's lock until `close` (see
        memory.homelock); another process using the same home waits up to `wait_s` seconds
        (None: as long as it takes) or fails with one line."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        if (path is None) == (url is None):
            raise UserError("VectorMemory needs exactly one of path= (embedded) or url= (server)")
        self.embedder = embedder
        self.namespace = namespace
        self.location = str(path or url)
        self._client: Any = None
        self._locked: Path | None = None
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if path is not None:
            homelock.acquire(Path(path), wait_s=wait_s)
            self._locked = Path(path)
        try:
            self._open(chromadb, chroma_settings, path, url)
            self._open_collection(collection, embedder, namespace)
        except BaseException:
            self.close()
            raise

    def _open(
        self, chromadb: Any, chroma_settings: Any, path: Path | None, url: str | None
    ) -> None:
        """The client: embedded over `path` (the caller holds its lock), else over HTTP."""
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

    def _open_collection(self, collection: str | None, embedder: Embedder, namespace: str) -> None:
        """This namespace's collection for this embedder (refused if it holds another's)."""
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
        cls, settings: StoreSettings, embedder: Embedder | None = None, *, namespace: str = "arxiv"
    ) -> VectorMemory:
        """Server when settings.chroma_url is set, else embedded at settings.chroma_path."""
        emb = embedder or embedder_from_config(settings.embedding_config())
        url = settings.chroma_url
        if url:
            return cls(emb, url=url, namespace=namespace)
        wait_s = getattr(settings, "home_wait_s", None)
        return cls(emb, path=Path(settings.chroma_path), namespace=namespace, wait_s=wait_s)

    def close(self) -> None:
        """Close the client, then let other processes have the home (embedded store)."""
        client, self._client = self._client, None
        close = getattr(client, "close", None)
        try:
            if callable(close):
                close()
        finally:
            if self._locked is not None:
                homelock.release(self._locked)
                self._locked = None

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
            SourceRecords(
                id=base_id(p.arxiv_id),
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
                SourceRecords(
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

    def upsert_passages(
        self, source_id: str, version: int, title: str, passages: Sequence[FullTextPassage]
    ) -> UpsertStats:
        """Store one source's full-text paragraphs (kind "passage"), replacing any earlier set
        of that source. Idempotent: unchanged paragraphs are neither re-embedded nor rewritten."""
        sid = base_id(source_id)
        group = PassageRecords(id=sid, version=version, title=title, passages=list(passages))
        wanted = group.records()
        with self._guard("read"):
            got = self._collection.get(
                where={"$and": [{"source_id": sid}, {"kind": "passage"}]}, include=["metadatas"]
            )
        existing = {
            rid: dict(m or {}) for rid, m in zip(got["ids"], got["metadatas"] or [], strict=True)
        }
        keep = {r.id for r in wanted}
        stale = [rid for rid in existing if rid not in keep]
        fresh = [r for r in wanted if existing.get(r.id, {}).get("hash") != r.metadata["hash"]]
        vectors = self._embed(fresh, None)
        self._write(fresh, vectors, [], stale)
        return UpsertStats(
            documents=1,
            sentences=0,
            embedded=len(fresh),
            unchanged=len(wanted) - len(fresh),
            removed=len(stale),
        )

    def _embed(
        self, records: list[StoredRecord], progress: Callable[[int, int], None] | None
    ) -> list[list[float]]:
        """Vectors for the records, checked before anything is written."""
        vectors: list[list[float]] = []
        for chunk in chunks(records, EMBED_CHUNK):
            vectors.extend(self.embedder.embed_passages([r.embed_text for r in chunk]))
            if progress is not None:
                progress(len(vectors), len(records))
        if len(vectors) != len(records) or any(len(v) != self.embedder.dim for v in vectors):
            raise ServiceUnavailable(
                f"embedder {self.embedder.model_id} returned malformed vectors; nothing written"
            )
        return vectors

    def _write(
        self,
        records: list[StoredRecord],
        vectors: list[list[float]],
        meta_only: list[StoredRecord],
        stale: list[str],
    ) -> None:
        """New or changed records with their vectors, metadata-only updates, then deletions."""
        with self._guard("write"):
            batch = min(1000, self._client.get_max_batch_size())
            for start in range(0, len(records), batch):
                part = records[start : start + batch]
                self._collection.upsert(
                    ids=[r.id for r in part],
                    embeddings=vectors[start : start + batch],
                    documents=[r.document for r in part],
                    metadatas=[r.metadata for r in part],
                )
            for same in chunks(meta_only, batch):
                self._collection.update(
                    ids=[r.id for r in same], metadatas=[r.metadata for r in same]
                )
            for ids in chunks(stale, batch):
                self._collection.delete(ids=list(ids))

    def _upsert(
        self,
        sources: list[SourceRecords],
        with_sentences: bool,
        progress: Callable[[int, int], None] | None,
    ) -> UpsertStats:
        # 1. validate everything before any work
        latest: dict[str, SourceRecords] = {}
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
            for ids in chunks(sorted(latest), 500):
                got = self._collection.get(
                    where={"source_id": {"$in": list(ids)}}, include=["metadatas"]
                )
                for rid, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                    existing[rid] = dict(meta or {})
        stored_version: dict[str, int] = {}
        for meta in existing.values():
            sid, ver = str(meta.get("source_id")), int(meta.get("version", 0))
            stored_version[sid] = max(ver, stored_version.get(sid, 0))

        wanted: list[StoredRecord] = []
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
                if meta.get("kind") == "passage" and not old_version:
                    continue  # full-text passages are replaced by upsert_passages only
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
        vectors = self._embed(to_embed, progress)
        # 4. write: new/changed records, metadata-only updates, then drop stale records
        self._write(to_embed, vectors, meta_only, stale)
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
            clauses.append({"source_id": {"$nin": id_forms(exclude)}})
        if restrict is not None:
            clauses.append({"source_id": {"$in": id_forms(restrict)}})
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
        if kind not in ("paper", "sentence", "passage"):
            raise UserError(f"kind must be 'paper', 'sentence' or 'passage', got {kind!r}")
        if not texts:
            return []
        vectors = self.embedder.embed_queries(list(texts))
        if restrict_to is not None and not set(id_forms(restrict_to)) - set(
            id_forms(exclude_sources)
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
                    to_passage(rid, doc or "", meta or {}, dist)
                    for rid, doc, meta, dist in zip(ids, docs, metas, dists, strict=True)
                ]
            )
        return out

    def get_sentences(self, source_id: str) -> list[str]:
        """The stored sentences of one source (newest version), in index order; [] if unknown."""
        with self._guard("read"):
            got = self._collection.get(
                where={
                    "$and": [{"source_id": {"$in": id_forms([source_id])}}, {"kind": "sentence"}]
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
                where={"$and": [{"source_id": {"$in": id_forms([source_id])}}, {"kind": "paper"}]},
                include=["documents", "metadatas"],
            )
        hits = [
            to_passage(rid, doc or "", meta or {}, 0.0)
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
