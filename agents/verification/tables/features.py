"""The numbers a trained model sees for one claim: what the checks found (how many
statements hold or fail, how strongly, which cells are bold) and what the claim's words say
on their own (negation, hedges, magnitude words, how much of it the table even mentions).
Fixed names and order: the artifact stores FEATURES and refuses a mismatch."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from agents.verification.tables.checks import Check
from agents.verification.tables.linking import TableView, table_tokens
from agents.verification.tables.statements import ParsedClaim
from agents.verification.tables.text import (
    CAUSAL,
    HEDGE,
    LARGE,
    SMALL,
    STOPWORDS,
    count_negations,
    tokens,
)

KINDS = ("number", "comparison", "superlative", "trend", "equality")

LEXICAL = (
    "log_tokens",
    "negations",
    "hedges",
    "small_words",
    "large_words",
    "causal_words",
    "quant_all",
    "quant_most",
    "quant_none",
    "aggregate_word",
    "continued",
    "content_in_table",
    "content_in_caption",
    "row_mentions",
    "col_mentions",
    "mention_score",
)
EVIDENCE = (
    *(f"{k}_{o}" for k in KINDS for o in ("holds", "fails", "unknown")),
    "number_in_cell",
    "number_derived",
    "number_elsewhere",
    "number_in_labels",
    "number_fail_share",
    "number_near_miss",
    "cmp_support_mean",
    "cmp_support_min",
    "cmp_negated",
    "cmp_gap",
    "cmp_has_object",
    "cmp_small_big_gap",
    "sup_support_mean",
    "sup_bold",
    "checks_hold_share",
    "decided",
    "table_has_bold",
    "log_cells",
)
FEATURES: tuple[str, ...] = LEXICAL + EVIDENCE


def _count(words: list[str], lexicon: frozenset[str]) -> float:
    return float(sum(w in lexicon for w in words))


def lexical(view: TableView, pc: ParsedClaim) -> dict[str, float]:
    words = tokens(pc.claim)
    content = [w for w in words if w not in STOPWORDS and not w.isdigit()]
    in_table = table_tokens(view)
    caption = set(tokens(view.table.caption))
    rows = [m for m in pc.mentions if m.axis == "row"]
    cols = [m for m in pc.mentions if m.axis == "col"]
    return {
        "log_tokens": math.log1p(len(words)),
        "negations": float(count_negations(pc.claim)),
        "hedges": _count(words, HEDGE),
        "small_words": _count(words, SMALL),
        "large_words": _count(words, LARGE),
        "causal_words": _count(words, CAUSAL),
        "quant_all": float(pc.quantifier == "all"),
        "quant_most": float(pc.quantifier == "most"),
        "quant_none": float(pc.quantifier == "none"),
        "aggregate_word": float(pc.aggregate),
        "continued": float("[continue]" in pc.claim.lower()),
        "content_in_table": sum(w in in_table for w in content) / max(len(content), 1),
        "content_in_caption": sum(w in caption for w in content) / max(len(content), 1),
        "row_mentions": float(len(rows)),
        "col_mentions": float(len(cols)),
        "mention_score": max((m.score for m in pc.mentions), default=0.0),
    }


def _mean(xs: Sequence[float], default: float = 0.5) -> float:
    return sum(xs) / len(xs) if xs else default


def evidence(view: TableView, checks: Sequence[Check]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in KINDS:
        for o in ("holds", "fails", "unknown"):
            out[f"{k}_{o}"] = float(sum(c.kind == k and c.outcome == o for c in checks))
    nums = [c for c in checks if c.kind == "number"]
    how = [c.detail.get("how", -1.0) for c in nums]
    out["number_in_cell"] = float(how.count(1.0))
    out["number_derived"] = float(how.count(2.0))
    out["number_elsewhere"] = float(how.count(3.0))
    out["number_in_labels"] = float(how.count(4.0))
    out["number_fail_share"] = how.count(0.0) / len(how) if how else 0.0
    gaps = [c.detail.get("gap", 1.0) for c in nums if c.outcome == "fails"]
    out["number_near_miss"] = float(any(g < 0.2 for g in gaps))
    cmps = [c for c in checks if c.kind == "comparison" and c.outcome != "unknown"]
    sup = [c.detail["support"] for c in cmps]
    out["cmp_support_mean"] = _mean(sup)
    out["cmp_support_min"] = min(sup, default=0.5)
    out["cmp_negated"] = float(any(c.detail["agree"] != c.detail["support"] for c in cmps))
    gap = [c.detail["gap"] for c in cmps]
    out["cmp_gap"] = math.log1p(min(_mean(gap, 0.0), 100.0))
    out["cmp_has_object"] = float(any(c.detail["has_object"] for c in cmps))
    out["cmp_small_big_gap"] = float(
        any(c.detail["small"] and c.detail["gap"] > 0.05 for c in cmps)
    ) - float(any(c.detail["large"] and c.detail["gap"] < 0.01 for c in cmps))
    sups = [c for c in checks if c.kind == "superlative" and c.outcome != "unknown"]
    out["sup_support_mean"] = _mean([c.detail["support"] for c in sups])
    out["sup_bold"] = _mean([c.detail["bold"] for c in sups], 0.0)
    decided = [c for c in checks if c.outcome != "unknown"]
    out["checks_hold_share"] = _mean([float(c.outcome == "holds") for c in decided])
    out["decided"] = float(len(decided))
    out["table_has_bold"] = float(any(c.bold for row in view.cells for c in row))
    out["log_cells"] = math.log1p(view.n_rows * max(view.n_cols, 1))
    return out


def vector(view: TableView, pc: ParsedClaim, checks: Sequence[Check]) -> np.ndarray:
    values = {**lexical(view, pc), **evidence(view, checks)}
    out = np.array([values[name] for name in FEATURES], dtype=np.float64)
    return np.nan_to_num(out, nan=0.0, posinf=1e6, neginf=-1e6)  # odd cells never reach the model
