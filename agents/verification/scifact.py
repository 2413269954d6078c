"""SciFact data and its official metrics (Wadden et al., 2020): abstract-level label-only and
label+rationale, sentence-level selection and selection+label, plus retrieval recall@k.

Definitions followed exactly: only non-NEI predictions count; at abstract level only the first
three predicted rationale sentences count, and they must contain one full gold evidence set; at
sentence level every predicted sentence counts, and it is correct only when it belongs to a gold
evidence set all of whose sentences were predicted."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from memory.errors import UserError

MAX_ABSTRACT_SENTS = 3
LABELS = ("SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO")


@dataclass(frozen=True)
class CorpusDoc:
    doc_id: str
    title: str
    sentences: list[str]


@dataclass(frozen=True)
class GoldDoc:
    """The gold annotation of one evidence abstract for one claim."""

    label: str
    rationales: list[frozenset[int]]


@dataclass(frozen=True)
class ClaimRecord:
    id: int
    claim: str
    evidence: dict[str, GoldDoc] = field(default_factory=dict)
    cited_doc_ids: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """Claim-level label: NEI when no evidence, else the (single) label of its evidence."""
        if not self.evidence:
            return "NOT_ENOUGH_INFO"
        return next(iter(self.evidence.values())).label


@dataclass
class DocPrediction:
    label: str
    sentences: list[int]
    confidence: float = 0.0


# claim id -> doc id -> prediction
Predictions = Mapping[int, Mapping[str, DocPrediction]]


def _read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    if not path.exists():
        raise UserError(f"file not found: {path}")
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UserError(f"{path}:{n}: not JSON ({exc.msg})") from exc


def load_corpus(path: Path) -> dict[str, CorpusDoc]:
    docs: dict[str, CorpusDoc] = {}
    for row in _read_jsonl(path):
        try:
            doc = CorpusDoc(str(row["doc_id"]), str(row.get("title", "")), list(row["abstract"]))
        except KeyError as exc:
            raise UserError(f"{path}: corpus record lacks {exc.args[0]!r}") from exc
        docs[doc.doc_id] = doc
    if not docs:
        raise UserError(f"{path}: no corpus records")
    return docs


def parse_claim(row: Mapping[str, Any]) -> ClaimRecord:
    evidence: dict[str, GoldDoc] = {}
    for doc_id, sets in (row.get("evidence") or {}).items():
        labels = {s["label"] for s in sets}
        if len(labels) != 1:
            raise UserError(f"claim {row.get('id')}: doc {doc_id} has mixed labels {labels}")
        evidence[str(doc_id)] = GoldDoc(
            label=labels.pop(), rationales=[frozenset(int(i) for i in s["sentences"]) for s in sets]
        )
    return ClaimRecord(
        id=int(row["id"]),
        claim=str(row["claim"]),
        evidence=evidence,
        cited_doc_ids=[str(d) for d in row.get("cited_doc_ids") or []],
    )


def load_claims(path: Path) -> list[ClaimRecord]:
    claims: list[ClaimRecord] = []
    for row in _read_jsonl(path):
        if "id" not in row or "claim" not in row:
            raise UserError(f"{path}: claim record lacks 'id' or 'claim'")
        claims.append(parse_claim(row))
    if not claims:
        raise UserError(f"{path}: no claims")
    return claims


def has_labels(claims: Sequence[ClaimRecord]) -> bool:
    """The blind test split has no 'evidence' at all; metrics are meaningless there."""
    return any(c.evidence for c in claims)


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float
    correct: int
    predicted: int
    gold: int

    @classmethod
    def of(cls, correct: int, predicted: int, gold: int) -> PRF:
        p = correct / predicted if predicted else 0.0
        r = correct / gold if gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return cls(p, r, f, correct, predicted, gold)


def _contains_evidence(predicted: set[int], rationales: Sequence[frozenset[int]]) -> bool:
    return any(r <= predicted for r in rationales)


def abstract_level(claims: Sequence[ClaimRecord], preds: Predictions) -> dict[str, PRF]:
    """'label_only' and 'label_rationale' P/R/F1 over evidence abstracts."""
    predicted = label_only = label_rat = gold = 0
    for c in claims:
        gold += len(c.evidence)
        for doc_id, p in preds.get(c.id, {}).items():
            if p.label == "NOT_ENOUGH_INFO":
                continue
            predicted += 1
            g = c.evidence.get(doc_id)
            if g is None or p.label != g.label:
                continue
            label_only += 1
            if _contains_evidence(set(p.sentences[:MAX_ABSTRACT_SENTS]), g.rationales):
                label_rat += 1
    return {
        "label_only": PRF.of(label_only, predicted, gold),
        "label_rationale": PRF.of(label_rat, predicted, gold),
    }


def sentence_level(claims: Sequence[ClaimRecord], preds: Predictions) -> dict[str, PRF]:
    """'selection' and 'selection_label' P/R/F1 over evidence sentences."""
    predicted = sel = sel_label = gold = 0
    for c in claims:
        gold += sum(len(r) for g in c.evidence.values() for r in g.rationales)
        for doc_id, p in preds.get(c.id, {}).items():
            if p.label == "NOT_ENOUGH_INFO":
                continue
            chosen = set(p.sentences)
            predicted += len(chosen)
            g = c.evidence.get(doc_id)
            if g is None:
                continue
            for s in chosen:
                if any(s in r and r <= chosen for r in g.rationales):
                    sel += 1
                    if p.label == g.label:
                        sel_label += 1
    return {
        "selection": PRF.of(sel, predicted, gold),
        "selection_label": PRF.of(sel_label, predicted, gold),
    }


def recall_at_k(
    claims: Sequence[ClaimRecord], retrieved: Mapping[int, Sequence[str]], k: int
) -> float:
    """Share of gold evidence abstracts among the top k retrieved, over claims with evidence."""
    hit = total = 0
    for c in claims:
        if not c.evidence:
            continue
        top = set(retrieved.get(c.id, [])[:k])
        total += len(c.evidence)
        hit += sum(1 for d in c.evidence if d in top)
    return hit / total if total else 0.0


def claim_groups(claims: Sequence[ClaimRecord]) -> dict[int, int]:
    """Claims that share a cited or evidence abstract form one group. SciFact writes a claim and
    its negation against the same abstract; splitting such twins across folds would let a
    model learn words whose label flips between folds, so every split here is by group."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c in claims:
        nodes = [f"c{c.id}"] + [f"d{d}" for d in [*c.cited_doc_ids, *c.evidence]]
        for n in nodes[1:]:
            parent[find(n)] = find(nodes[0])
    roots: dict[str, int] = {}
    return {c.id: roots.setdefault(find(f"c{c.id}"), len(roots)) for c in claims}


def folds(claims: Sequence[ClaimRecord], n: int = 5) -> list[list[int]]:
    """Deterministic claim folds: whole claim groups (see `claim_groups`) dealt round-robin
    after a seeded shuffle."""
    group_of = claim_groups(claims)
    n_groups = max(group_of.values()) + 1 if group_of else 0
    order = np.random.default_rng(13).permutation(n_groups)  # 13: train.SEED
    fold_of_group = {int(g): i % n for i, g in enumerate(order)}
    out: list[list[int]] = [[] for _ in range(n)]
    for c in claims:
        out[fold_of_group[group_of[c.id]]].append(c.id)
    return out
