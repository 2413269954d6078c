"""A content-keyed vector cache: in memory always, and in SQLite when a path is given, so
training and cross-validation run each model over a text (or text pair) once across runs."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np


def cache_path(model: str, home: Path) -> Path:
    """The on-disk cache of one model's outputs (`minilm`, `nli`) under the kernel's home
    (the caller passes `Settings.home`: this room does not read settings)."""
    return Path(home) / "verification" / f"{model}_cache.sqlite"


def text_key(*parts: str) -> str:
    """One key per text or ordered text pair ('\\x1f' cannot occur in either part's meaning)."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


class VectorCache:
    """Vectors by key; `store_dtype` is the on-disk precision (float16 halves the file for
    embeddings whose cosines need no more)."""

    def __init__(self, path: Path | None = None, store_dtype: Any = np.float16) -> None:
        self._mem: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._dtype = np.dtype(store_dtype)
        self._db: sqlite3.Connection | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # shared by every process of a home: wait out another's write, never fail on it
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("CREATE TABLE IF NOT EXISTS emb (k TEXT PRIMARY KEY, v BLOB)")

    def get(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among `keys` (float32)."""
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for k in keys:
                v = self._mem.get(k)
                if v is None and self._db is not None:
                    row = self._db.execute("SELECT v FROM emb WHERE k = ?", (k,)).fetchone()
                    if row is not None:
                        v = np.frombuffer(row[0], dtype=self._dtype).astype(np.float32)
                        self._mem[k] = v
                if v is not None:
                    out[k] = v
        return out

    def put(self, items: Mapping[str, np.ndarray]) -> None:
        with self._lock:
            for k, v in items.items():
                arr = np.asarray(v, dtype=np.float32)
                self._mem[k] = arr
                if self._db is not None:
                    blob = arr.astype(self._dtype).tobytes()
                    self._db.execute("INSERT OR REPLACE INTO emb VALUES (?, ?)", (k, blob))
            if self._db is not None:
                self._db.commit()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("a VectorCache holds a database connection; it is not pickled")
