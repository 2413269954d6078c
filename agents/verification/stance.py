"""The optional NLI slot of the verifier's stance features: any ONNX sequence-pair classifier a
user points to, with its label map, on onnxruntime. It gives, per (claim, evidence) pair, three
log-probabilities in LABELS order and, when the graph exposes one, the pooled vector under the
head (the project's own stance model, `stance_head`, gives the same rows). Also `CrossFitted`,
which routes each claim to the fold model that never saw it. Nothing downloads; a missing or
mismatched file is one clear error."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents.verification.cache import VectorCache, text_key
from memory.embeddings.local import cpu_session_options, default_threads, minilm_tokenizer_path
from memory.errors import UserError

LABELS = ("SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO")
LOG_FLOOR = float(np.log(1e-4))  # the log-probability of a class a model does not have
# what an NLI model's label names mean here (case-insensitive)
LABEL_ALIASES = {
    "entailment": "SUPPORT",
    "entails": "SUPPORT",
    "support": "SUPPORT",
    "supports": "SUPPORT",
    "contradiction": "CONTRADICT",
    "contradict": "CONTRADICT",
    "contradicts": "CONTRADICT",
    "refutes": "CONTRADICT",
    "neutral": "NOT_ENOUGH_INFO",
    "not_enough_info": "NOT_ENOUGH_INFO",
    "nei": "NOT_ENOUGH_INFO",
    "other": "NOT_ENOUGH_INFO",
}


def stance_tokenizer(max_tokens: int, path: Path | None = None) -> Any:
    """A pair model's tokenizer (default: all-MiniLM-L6-v2's WordPiece, the embedder's),
    unpadded, pairs cut from the longer side first."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path or minilm_tokenizer_path()))
    tok.no_padding()
    tok.enable_truncation(max_length=max_tokens, strategy="longest_first")
    return tok


def canonical_labels(names: Sequence[str]) -> tuple[str, ...]:
    """Each output's label name mapped to LABELS ('entailment' -> SUPPORT, ...)."""
    out = []
    for n in names:
        key = n.strip().lower().replace(" ", "_")
        canon = LABEL_ALIASES.get(key) or (key.upper() if key.upper() in LABELS else None)
        if canon is None:
            raise UserError(
                f"unknown NLI label {n!r}: use entailment / contradiction / neutral "
                f"(or {', '.join(LABELS)})"
            )
        out.append(canon)
    if "SUPPORT" not in out and "CONTRADICT" not in out:
        raise UserError(f"NLI labels {list(names)} name neither entailment nor contradiction")
    return tuple(out)


@dataclass(frozen=True)
class PairModelSpec:
    """Where a pair classifier lives and how to read it. `labels[i]` is what output i means;
    `premise_first`: the model reads (evidence, claim), the NLI convention, rather than
    (claim, evidence)."""

    model: Path
    tokenizer: Path | None  # None: all-MiniLM-L6-v2's
    labels: tuple[str, ...]
    premise_first: bool
    max_tokens: int
    model_id: str
    sha256: str = ""

    @classmethod
    def from_path(
        cls, path: Path | str, labels: str | None = None, max_tokens: int = 256
    ) -> PairModelSpec:
        """An exported NLI model: `path` is its .onnx file or a folder with model.onnx (or
        onnx/model.onnx), tokenizer.json and config.json. The label map is `labels` (names in
        output order, comma-separated), else config.json's id2label."""
        p = Path(path).expanduser()
        folder = p if p.is_dir() else p.parent
        model = p
        if p.is_dir():
            found = [q for q in (p / "model.onnx", p / "onnx" / "model.onnx") if q.is_file()]
            if not found:
                raise UserError(f"{p} holds no model.onnx")
            model = found[0]
        if not model.is_file():
            raise UserError(f"NLI model {model} not found")
        tok = next((q for q in (folder / "tokenizer.json", model.parent / "tokenizer.json")
                    if q.is_file()), None)  # fmt: skip
        if tok is None:
            raise UserError(f"no tokenizer.json beside {model}")
        if labels:
            names = [x for x in labels.split(",") if x.strip()]
        else:
            cfg = folder / "config.json"
            if not cfg.is_file():
                raise UserError(f"no config.json beside {model}: give the labels (--nli-labels)")
            id2label = json.loads(cfg.read_text(encoding="utf-8")).get("id2label") or {}
            names = [id2label[k] for k in sorted(id2label, key=int)]
        return cls(
            model.resolve(),
            tok.resolve(),
            canonical_labels(names),
            True,
            max_tokens,
            model.name if model.name != "model.onnx" else model.parent.name,
            file_sha256(model),
        )

    def describe(self) -> dict[str, Any]:
        """What an artifact records of the model its heads were trained on."""
        return {
            "kind": "nli",
            "model": str(self.model),
            "tokenizer": str(self.tokenizer) if self.tokenizer else None,
            "labels": list(self.labels),
            "premise_first": self.premise_first,
            "max_tokens": self.max_tokens,
            "model_id": self.model_id,
            "sha256": self.sha256,
        }


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class PairEncoder:
    """(claim, evidence) pairs -> rows of [log P(SUPPORT), log P(CONTRADICT), log P(NEI),
    pooled...] (float32). One pair per run, at its own length: int8 graphs quantise activations
    over the whole batch, so a batched pair's output would depend on its neighbours. Lazy,
    thread-safe, content-cached (in memory; on disk when a path is given, keyed by the model
    file's hash so two models never share entries)."""

    n_scores = len(LABELS)

    def __init__(
        self, spec: PairModelSpec, cache_path: Path | None = None, threads: int | None = None
    ) -> None:
        self.spec = spec
        self.threads = threads or default_threads()
        self._cache = VectorCache(cache_path, np.float32)
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: dict[str, Any] = {}
        self._pooled_dim: int | None = None
        self._tag = ""

    @property
    def model_id(self) -> str:
        return self.spec.model_id

    @property
    def pooled_dim(self) -> int:
        self._load()
        assert self._pooled_dim is not None
        return self._pooled_dim

    @property
    def dim(self) -> int:
        return self.n_scores + self.pooled_dim

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort

            if not self.spec.model.is_file():
                raise UserError(f"pair model {self.spec.model} not found")
            sha = file_sha256(self.spec.model)
            if self.spec.sha256 and sha != self.spec.sha256:
                raise UserError(
                    f"{self.spec.model} is not the model the verifier was trained with "
                    "(sha256 differs); retrain with `sovereign eval train-verifier --nli ...`"
                )
            session = ort.InferenceSession(
                str(self.spec.model),
                sess_options=cpu_session_options(self.threads),
                providers=["CPUExecutionProvider"],
            )
            outputs = {o.name: o for o in session.get_outputs()}
            if "logits" not in outputs:
                raise UserError(f"{self.spec.model} has no 'logits' output")
            pooled = outputs.get("pooled")
            self._pooled_dim = int(pooled.shape[-1]) if pooled is not None else 0
            self._inputs = {i.name: i.shape for i in session.get_inputs()}
            self._tokenizer = stance_tokenizer(self.spec.max_tokens, self.spec.tokenizer)
            self._tag = sha[:16]
            self._session = session

    def _run(self, claim: str, evidence: str) -> np.ndarray:
        pair = (evidence, claim) if self.spec.premise_first else (claim, evidence)
        enc = self._tokenizer.encode(*pair)
        n = len(enc.ids)
        fixed = self._inputs.get("input_ids", [None, None])[-1]
        width = fixed if isinstance(fixed, int) and fixed >= n else n  # a fixed axis: pad to it
        feeds = {}
        for name, values in (
            ("input_ids", enc.ids),
            ("attention_mask", enc.attention_mask),
            ("token_type_ids", enc.type_ids),
        ):
            if name in self._inputs:
                row = np.zeros((1, width), dtype=np.int64)
                row[0, :n] = values
                feeds[name] = row
        names = ["logits"] + (["pooled"] if self._pooled_dim else [])
        res = self._session.run(names, feeds)
        logits = res[0][0].astype(np.float64)
        logp = logits - logits.max()
        logp = logp - np.log(np.exp(logp).sum())
        scores = np.full(self.n_scores, LOG_FLOOR)
        for i, lab in enumerate(self.spec.labels):
            scores[LABELS.index(lab)] = logp[i]
        pooled = res[1][0] if self._pooled_dim else np.zeros(0)
        return np.concatenate([scores, pooled]).astype(np.float32)

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        self._load()
        keys = [text_key(self._tag, c, e) for c, e in pairs]
        have = self._cache.get(keys)
        for k, (c, e) in zip(keys, pairs, strict=True):
            if k not in have:
                have[k] = self._run(c, e)
                self._cache.put({k: have[k]})
        out = np.zeros((len(pairs), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = have[k]
        return out

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("a PairEncoder holds a model session; it is not pickled")


def nli_artifact(home: Path, spec: PairModelSpec) -> Path:
    """Where `sovereign eval train-verifier --nli` writes the verifier trained for that model
    (one per model file, by hash), under the kernel's home."""
    return Path(home) / "verification" / f"verifier_nli_{spec.sha256[:12]}.joblib"


@dataclass
class CrossFitted:
    """Routes each pair to the cross-fitted model that never saw its claim: the out-of-fold
    stance features the verifier's heads are trained on (and the bench's held-out claims are
    read with). The models are any `classifier.PairModel` (the stance head's fold heads)."""

    encoders: list[Any]
    fold_of: dict[str, int]  # claim text -> index of the encoder that reads it
    model_of_fold: dict[int, int] = field(default_factory=dict)  # CV fold -> encoder index

    def for_fold(self, fold: int) -> Any:
        """The encoder that reads the claims of CV fold `fold`."""
        return self.encoders[self.model_of_fold.get(fold, fold)]

    @property
    def n_scores(self) -> int:
        return self.encoders[0].n_scores

    @property
    def pooled_dim(self) -> int:
        return self.encoders[0].pooled_dim

    @property
    def dim(self) -> int:
        return self.encoders[0].dim

    @property
    def model_id(self) -> str:
        return self.encoders[0].model_id

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        out = np.zeros((len(pairs), self.dim), dtype=np.float32)
        by_fold: dict[int, list[int]] = {}
        for i, (claim, _) in enumerate(pairs):
            f = self.fold_of.get(claim)
            if f is None:
                raise UserError(f"claim not in any fold: {claim[:60]!r}")
            by_fold.setdefault(f, []).append(i)
        for f, idx in by_fold.items():
            out[idx] = self.encoders[f]([pairs[i] for i in idx])
        return out
