"""Sentence embeddings for the verifier's dense features (local MiniLM), with a content-keyed
cache: in memory always, and on disk (SQLite under $SOVEREIGN_HOME) when a path is given, so
training and cross-validation embed each SciFact sentence once across runs."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DIM = 384


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def default_cache_path() -> Path:
    from graph.settings import load_settings

    return load_settings().home / "verification" / "minilm_cache.sqlite"


class SentenceEmbeddings:
    """L2-normalised MiniLM vectors (float32) for texts; blank texts get a zero vector."""

    def __init__(self, cache_path: Path | None = None, embedder: Any = None) -> None:
        self._embedder = embedder
        self._mem: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if cache_path is not None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(cache_path), check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS emb (k TEXT PRIMARY KEY, v BLOB)")

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from memory.embeddings import get_embedder

            self._embedder = get_embedder("local")
        return self._embedder

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [_key(t) for t in texts]
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        missing: dict[str, str] = {}
        with self._lock:
            for k, t in zip(keys, texts, strict=True):
                if k in self._mem or not t.strip():
                    continue
                if self._db is not None:
                    row = self._db.execute("SELECT v FROM emb WHERE k = ?", (k,)).fetchone()
                    if row is not None:
                        self._mem[k] = np.frombuffer(row[0], dtype=np.float16).astype(np.float32)
                        continue
                missing[k] = t
        if missing:
            vecs = self.embedder.embed_passages(list(missing.values()))
            with self._lock:
                for k, v in zip(missing, vecs, strict=True):
                    arr = np.asarray(v, dtype=np.float32)
                    self._mem[k] = arr
                    if self._db is not None:
                        blob = arr.astype(np.float16).tobytes()
                        self._db.execute("INSERT OR REPLACE INTO emb VALUES (?, ?)", (k, blob))
                if self._db is not None:
                    self._db.commit()
        for i, k in enumerate(keys):
            v = self._mem.get(k)
            if v is not None:
                out[i] = v
        return out

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("SentenceEmbeddings holds a model session; it is not pickled")
