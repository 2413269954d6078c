"""The records vector memory stores, and how they reach Chroma: documents and their sentence
records, ids and content hashes, collection names (one per namespace, model and dimension),
and the embedding function registered with Chroma (always ours: Chroma's default downloads a
model). `memory/vector_store.py` holds the store itself."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from memory.embeddings import Embedder, get_embedder
from memory.fulltext.model import FullTextPassage
from memory.models import Passage, split_arxiv_id

Kind = Literal["paper", "sentence", "passage"]
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


# The embedding model reads ~256 tokens; a paragraph's vector comes from its opening (the
# record keeps the whole text, and the limit stays far below the embedders' input check).
PASSAGE_EMBED_CHARS = 4000


# --- helpers -------------------------------------------------------------------------------------


def collection_name(namespace: str, model_id: str, dim: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{namespace}__{model_id}__{dim}").strip("-._")
    return slug[:500]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def base_id(raw: str) -> str:
    return split_arxiv_id(raw)[0]


def id_forms(raw: Sequence[str]) -> list[str]:
    """'2401.00001v2' may name arXiv source 2401.00001; a non-arXiv id (SciFact '4983', or one
    that merely ends in v<digits>) names itself. Filters match either form."""
    return sorted({s.strip() for s in raw} | {base_id(s) for s in raw})


def encode_categories(categories: Sequence[str]) -> str:
    return ",".join(c.strip() for c in categories if c.strip())


def decode_categories(value: Any) -> list[str]:
    return [c for c in str(value or "").split(",") if c]


class StoredRecord(BaseModel):
    id: str
    embed_text: str
    document: str
    metadata: dict[str, Any]


class SourceRecords(BaseModel):
    id: str
    version: int
    title: str
    abstract: str
    sentences: list[str]
    year: int | None
    categories: list[str]

    def records(self, with_sentences: bool) -> list[StoredRecord]:
        base: dict[str, Any] = {
            "source_id": self.id,
            "version": self.version,
            "title": self.title,
            "categories": encode_categories(self.categories),
        }
        if self.year is not None:
            base["year"] = self.year
        paper_text = f"{self.title}\n{self.abstract}".strip()
        out = [
            StoredRecord(
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
                    StoredRecord(
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


class PassageRecords(BaseModel):
    """One source's full-text passages (paragraph level), stored beside its paper record and
    replaced as a set: passages of an earlier reading or version go when a new set arrives."""

    id: str
    version: int
    title: str
    passages: list[FullTextPassage]

    def records(self) -> list[StoredRecord]:
        out = []
        for p in self.passages:
            out.append(
                StoredRecord(
                    id=f"{self.id}v{self.version}#{p.paragraph_id}",
                    embed_text=p.text[:PASSAGE_EMBED_CHARS],
                    document=p.text,
                    metadata={
                        "source_id": self.id,
                        "version": self.version,
                        "title": self.title,
                        "kind": "passage",
                        "passage_id": p.paragraph_id,
                        "location": p.location,
                        "hash": content_hash(p.text),
                    },
                )
            )
        return out


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- the store -----------------------------------------------------------------------------------


def to_passage(rid: str, doc: str, meta: dict[str, Any], distance: float) -> Passage:
    idx = meta.get("sentence_index")
    year = meta.get("year")
    location = meta.get("location")
    return Passage(
        passage_id=str(meta["passage_id"]) if meta.get("passage_id") else None,
        location=str(location) if location else None,
        id=rid,
        source_id=str(meta.get("source_id", "")),
        version=int(meta.get("version", 1)),
        sentence_index=int(idx) if meta.get("kind") == "sentence" and idx is not None else None,
        text=doc,
        title=str(meta.get("title", "")),
        score=1.0 - float(distance),
        year=int(year) if year is not None else None,
        categories=decode_categories(meta.get("categories")),
    )
