"""The pair models behind the default verifier's stance head: the project's own stance model
(shipped int8 ONNX, fine-tuned from all-MiniLM-L6-v2 on SciFact) and the NLI slot, which reads
any exported ONNX sequence-pair classifier with its label map. The slot is exercised with the
shipped model dressed as an exported NLI folder (config.json id2label, tokenizer.json)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from agents.verification.stance import (
    LABELS,
    STANCE_MODEL,
    CrossFitted,
    PairEncoder,
    PairModelSpec,
    canonical_labels,
    load_folds,
    nli_artifact,
)
from memory.embeddings.local import minilm_tokenizer_path
from memory.errors import UserError

CLAIM = "Metformin reduces the incidence of type 2 diabetes in adults with prediabetes."
SUPPORT = "Metformin reduced the incidence of type 2 diabetes by 31% compared with placebo."
CONTRA = "Metformin did not reduce the incidence of type 2 diabetes; incidence rose slightly."
OTHER = "Peak plasma concentration of metformin was reached after 2.5 hours."


@pytest.fixture(scope="module")
def shipped() -> PairEncoder:
    return PairEncoder(PairModelSpec.shipped(), threads=1)


def test_shipped_model_is_small_and_documented() -> None:
    assert STANCE_MODEL.is_file()
    assert STANCE_MODEL.stat().st_size < 30 * 2**20
    card = STANCE_MODEL.parent / "STANCE_MODEL_CARD.md"
    text = card.read_text(encoding="utf-8")
    assert "sovereign eval train-stance" in text and "Apache-2.0" in text


def test_rows_are_log_probabilities_and_a_pooled_vector(shipped: PairEncoder) -> None:
    out = shipped([(CLAIM, SUPPORT), (CLAIM, CONTRA), (CLAIM, OTHER)])
    assert out.shape == (3, len(LABELS) + shipped.pooled_dim) and shipped.pooled_dim == 384
    assert np.allclose(np.exp(out[:, :3]).sum(axis=1), 1.0, atol=1e-4)
    # no assertion on which class wins here: on these hand-written pairs the model is weak (it
    # calls the supporting one CONTRADICT), which is why it decides relevance, not stance
    assert len({tuple(np.round(r, 4)) for r in out}) == 3


def test_a_pair_reads_the_same_alone_or_among_others(shipped: PairEncoder) -> None:
    together = shipped([(CLAIM, OTHER), (CLAIM, SUPPORT)])[1]
    alone = PairEncoder(PairModelSpec.shipped(), threads=1)([(CLAIM, SUPPORT)])[0]
    assert np.array_equal(together, alone)


def test_disk_cache_round_trip(tmp_path: Path) -> None:
    first = PairEncoder(PairModelSpec.shipped(), tmp_path / "c.sqlite", threads=1)
    a = first([(CLAIM, SUPPORT)])
    again = PairEncoder(PairModelSpec.shipped(), tmp_path / "c.sqlite", threads=1)
    again._run = None  # type: ignore[assignment,method-assign]  # must come from the cache
    assert np.array_equal(again([(CLAIM, SUPPORT)]), a)


def _nli_folder(tmp_path: Path, id2label: dict[str, str]) -> Path:
    """The shipped model laid out as `optimum-cli export onnx` lays out an NLI model."""
    folder = tmp_path / "nli"
    folder.mkdir()
    shutil.copy(STANCE_MODEL, folder / "model.onnx")
    shutil.copy(minilm_tokenizer_path(), folder / "tokenizer.json")
    (folder / "config.json").write_text(json.dumps({"id2label": id2label}))
    return folder


def test_nli_slot_reads_the_label_map_and_premise_order(tmp_path: Path) -> None:
    # the stance model's outputs are (SUPPORT, CONTRADICT, NEI); call them NLI names shuffled
    folder = _nli_folder(tmp_path, {"0": "entailment", "1": "contradiction", "2": "neutral"})
    spec = PairModelSpec.from_path(folder)
    assert spec.labels == LABELS and spec.premise_first and len(spec.sha256) == 64
    slot = PairEncoder(spec, threads=1)
    own = PairEncoder(PairModelSpec.shipped(), threads=1)
    # premise first: the slot reads (evidence, claim), so it equals the own model on the swap
    assert np.allclose(slot([(CLAIM, SUPPORT)]), own([(SUPPORT, CLAIM)]), atol=1e-6)
    swapped = PairModelSpec.from_path(folder / "model.onnx", "contradiction,entailment,neutral")
    assert swapped.labels == ("CONTRADICT", "SUPPORT", "NOT_ENOUGH_INFO")
    a, b = slot([(CLAIM, SUPPORT)])[0], PairEncoder(swapped, threads=1)([(CLAIM, SUPPORT)])[0]
    assert np.allclose(a[[1, 0, 2]], b[:3], atol=1e-6)
    assert nli_artifact(tmp_path, spec).name == f"verifier_nli_{spec.sha256[:12]}.joblib"


def test_a_two_class_model_fills_the_missing_class_with_a_floor(tmp_path: Path) -> None:
    assert canonical_labels(["contradiction", "other"]) == ("CONTRADICT", "NOT_ENOUGH_INFO")
    with pytest.raises(UserError, match="unknown NLI label 'maybe'"):
        canonical_labels(["entailment", "maybe"])
    with pytest.raises(UserError, match="neither entailment nor contradiction"):
        canonical_labels(["neutral"])


def test_nli_slot_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        PairModelSpec.from_path(tmp_path / "none.onnx")
    folder = _nli_folder(tmp_path, {"0": "entailment", "1": "contradiction", "2": "neutral"})
    (folder / "config.json").unlink()
    with pytest.raises(UserError, match="give the labels"):
        PairModelSpec.from_path(folder)
    spec = PairModelSpec.from_path(folder, "entailment,contradiction,neutral")
    (folder / "model.onnx").write_bytes(b"changed")
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

    routed = CrossFitted([Const(0.0), Const(1.0)], {"a": 0, "b": 1})  # type: ignore[list-item]
    out = routed([("b", "x"), ("a", "y"), ("b", "z")])
    assert out[:, 0].tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(UserError, match="not in any fold"):
        routed([("c", "x")])


def test_missing_fold_models_name_the_command(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="sovereign eval train-stance"):
        load_folds(tmp_path, [], [[1], [2]])
