"""The pair models behind the default verifier's second stage: the project's own stance head (a
logistic head over MiniLM pair features, `stance_head.json`, ~0.1 MB) and the NLI slot, which
reads any exported ONNX sequence-pair classifier with its label map. The slot is exercised with
a tiny ONNX pair classifier built here (an embedding table, mean pooling, a linear head), laid
out as `optimum-cli export onnx` lays out an NLI model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from agents.verification.stance import (
    LABELS,
    CrossFitted,
    PairEncoder,
    PairModelSpec,
    canonical_labels,
    nli_artifact,
)
from memory.embeddings.local import minilm_tokenizer_path
from memory.errors import UserError

CLAIM = "Metformin reduces the incidence of type 2 diabetes in adults with prediabetes."
SUPPORT = "Metformin reduced the incidence of type 2 diabetes by 31% compared with placebo."
CONTRA = "Metformin did not reduce the incidence of type 2 diabetes; incidence rose slightly."
OTHER = "Peak plasma concentration of metformin was reached after 2.5 hours."


def tiny_pair_model(path: Path, vocab: int = 30522, width: int = 8) -> Path:
    """logits = mean(E[input_ids] + T[token_type_ids]) @ W: token types make the pair's order
    matter, as in a real cross-encoder; `pooled` is the mean vector."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.normal(size=(vocab, width)).astype(np.float32), "E"),
        numpy_helper.from_array(rng.normal(size=(2, width)).astype(np.float32), "T"),
        numpy_helper.from_array(rng.normal(size=(width, 3)).astype(np.float32), "W"),
    ]
    nodes = [
        helper.make_node("Gather", ["E", "input_ids"], ["e"]),
        helper.make_node("Gather", ["T", "token_type_ids"], ["t"]),
        helper.make_node("Add", ["e", "t"], ["h"]),
        helper.make_node("ReduceMean", ["h"], ["pooled"], axes=[1], keepdims=0),
        helper.make_node("MatMul", ["pooled", "W"], ["logits"]),
    ]
    ids = [
        helper.make_tensor_value_info(n, TensorProto.INT64, [1, "n"])
        for n in ("input_ids", "token_type_ids")
    ]
    outs = [
        helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3]),
        helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [1, width]),
    ]
    graph = helper.make_graph(nodes, "tiny_pair", ids, outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def tiny_nli_folder(folder: Path) -> Path:
    """The tiny model as an exported NLI folder: model.onnx, tokenizer.json, config.json."""
    folder.mkdir()
    tiny_pair_model(folder / "model.onnx")
    shutil.copy(minilm_tokenizer_path(), folder / "tokenizer.json")
    labels = {"0": "entailment", "1": "contradiction", "2": "neutral"}
    (folder / "config.json").write_text(json.dumps({"id2label": labels}))
    return folder


@pytest.fixture
def nli_folder(tmp_path: Path) -> Path:
    return tiny_nli_folder(tmp_path / "nli")


def test_rows_are_log_probabilities_and_a_pooled_vector(nli_folder: Path) -> None:
    slot = PairEncoder(PairModelSpec.from_path(nli_folder), threads=1)
    out = slot([(CLAIM, SUPPORT), (CLAIM, CONTRA), (CLAIM, OTHER)])
    assert out.shape == (3, len(LABELS) + slot.pooled_dim) and slot.pooled_dim == 8
    assert np.allclose(np.exp(out[:, :3]).sum(axis=1), 1.0, atol=1e-4)
    assert len({tuple(np.round(r, 4)) for r in out}) == 3


def test_a_pair_reads_the_same_alone_or_among_others(nli_folder: Path) -> None:
    spec = PairModelSpec.from_path(nli_folder)
    together = PairEncoder(spec, threads=1)([(CLAIM, OTHER), (CLAIM, SUPPORT)])[1]
    alone = PairEncoder(spec, threads=1)([(CLAIM, SUPPORT)])[0]
    assert np.array_equal(together, alone)


def test_disk_cache_round_trip(nli_folder: Path, tmp_path: Path) -> None:
    spec = PairModelSpec.from_path(nli_folder)
    a = PairEncoder(spec, tmp_path / "c.sqlite", threads=1)([(CLAIM, SUPPORT)])
    again = PairEncoder(spec, tmp_path / "c.sqlite", threads=1)
    again._run = None  # type: ignore[assignment,method-assign]  # must come from the cache
    assert np.array_equal(again([(CLAIM, SUPPORT)]), a)


def test_nli_slot_reads_the_label_map_and_premise_order(nli_folder: Path, tmp_path: Path) -> None:
    spec = PairModelSpec.from_path(nli_folder)
    assert spec.labels == LABELS and spec.premise_first and len(spec.sha256) == 64
    slot = PairEncoder(spec, threads=1)
    claim_first = PairModelSpec(spec.model, spec.tokenizer, LABELS, False, 256, "claim first")
    own = PairEncoder(claim_first, threads=1)
    # premise first: the slot reads (evidence, claim), so it equals a claim-first read of the
    # swap (a pair of unequal lengths, so the token types tell the two orders apart)
    assert np.allclose(slot([(CLAIM, OTHER)]), own([(OTHER, CLAIM)]), atol=1e-6)
    assert not np.allclose(slot([(CLAIM, OTHER)]), own([(CLAIM, OTHER)]), atol=1e-3)
    swapped = PairModelSpec.from_path(nli_folder / "model.onnx", "contradiction,entailment,neutral")
    assert swapped.labels == ("CONTRADICT", "SUPPORT", "NOT_ENOUGH_INFO")
    a, b = slot([(CLAIM, SUPPORT)])[0], PairEncoder(swapped, threads=1)([(CLAIM, SUPPORT)])[0]
    assert np.allclose(a[[1, 0, 2]], b[:3], atol=1e-6)
    assert nli_artifact(tmp_path, spec).name == f"verifier_nli_{spec.sha256[:12]}.joblib"


def test_a_two_class_model_fills_the_missing_class_with_a_floor() -> None:
    assert canonical_labels(["contradiction", "other"]) == ("CONTRADICT", "NOT_ENOUGH_INFO")
    with pytest.raises(UserError, match="unknown NLI label 'maybe'"):
        canonical_labels(["entailment", "maybe"])
    with pytest.raises(UserError, match="neither entailment nor contradiction"):
        canonical_labels(["neutral"])


def test_nli_slot_errors_are_one_line(nli_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        PairModelSpec.from_path(tmp_path / "none.onnx")
    (nli_folder / "config.json").unlink()
    with pytest.raises(UserError, match="give the labels"):
        PairModelSpec.from_path(nli_folder)
    spec = PairModelSpec.from_path(nli_folder, "entailment,contradiction,neutral")
    (nli_folder / "model.onnx").write_bytes(b"changed")
    with pytest.raises(UserError, match="sha256 differs"):
        PairEncoder(spec)([(CLAIM, SUPPORT)])


def test_cross_fitted_routes_each_claim_to_its_fold() -> None:
    class Const:
        n_scores = 3
        pooled_dim = 0
        dim = 3
        model_id = "const"

        def __init__(self, v: float) -> None:
            self.v = v

        def __call__(self, pairs: list[tuple[str, str]]) -> np.ndarray:
            return np.full((len(pairs), 3), self.v, dtype=np.float32)

    routed = CrossFitted([Const(0.0), Const(1.0)], {"a": 0, "b": 1})
    out = routed([("b", "x"), ("a", "y"), ("b", "z")])
    assert out[:, 0].tolist() == [1.0, 0.0, 1.0]
    assert routed.for_fold(1).v == 1.0
    with pytest.raises(UserError, match="not in any fold"):
        routed([("c", "x")])
