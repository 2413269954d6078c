"""The shipped table-verifier artifact: it loads, it is what the trainer builds from the
shared training file (same bytes, same probabilities), and its verdicts show their cells."""

from __future__ import annotations

import io
from pathlib import Path

import joblib
import numpy as np
import pytest

from agents.verification.tables.core import analyse_claim, inputs
from agents.verification.tables.data import TableClaim, load_claims
from agents.verification.tables.model import TableModel
from agents.verification.tables.train import build
from agents.verification.tables.verifier import ARTIFACT, TableVerifier, load_model, save_model
from memory.errors import UserError
from memory.fulltext.model import Table
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def trained() -> tuple[list[TableClaim], TableModel]:
    claims = load_claims(shared_file("scitab/scitab_train.jsonl"))
    return claims, build(claims)


def test_shipped_artifact_is_what_the_trainer_builds(
    trained: tuple[list[TableClaim], TableModel], tmp_path: Path
) -> None:
    # Bytes depend on the installed scikit-learn/numpy; what must not drift is what the
    # shipped model predicts against what the trainer builds here.
    claims, model = trained
    save_model(model, tmp_path / "scitab.joblib")
    x = inputs([analyse_claim(c) for c in claims[:120]])
    shipped = load_model(ARTIFACT)
    stale = "the shipped artifact is stale: run `sovereign eval train-scitab`"
    assert np.allclose(shipped.proba3(x), model.proba3(x), rtol=0, atol=1e-6), stale
    assert np.allclose(shipped.proba2(x), model.proba2(x), rtol=0, atol=1e-6), stale


def test_loaded_artifact_predicts_as_the_in_process_model(
    trained: tuple[list[TableClaim], TableModel],
) -> None:
    claims, model = trained
    x = inputs([analyse_claim(c) for c in claims[:80]])
    shipped = load_model()
    np.testing.assert_allclose(shipped.proba3(x), model.proba3(x), rtol=0, atol=1e-6)
    np.testing.assert_allclose(shipped.proba2(x), model.proba2(x), rtol=0, atol=1e-6)


def test_verdict_records_the_cells_it_used() -> None:
    table = Table.from_rows(
        ["Model", "BLEU"],
        [["Baseline", "25.1"], ["Ours", "[BOLD] 27.4"]],
        label="Table 2",
    )
    verdict = TableVerifier.load().verify("Ours outperforms Baseline in BLEU.", table)
    assert verdict.label in ("supports", "refutes", "not enough info")
    assert abs(sum(verdict.probabilities.values()) - 1.0) < 1e-9
    assert verdict.confidence == max(verdict.probabilities.values())
    locations = {c.location for c in verdict.cells()}
    assert locations == {"Table 2, row Ours, column BLEU", "Table 2, row Baseline, column BLEU"}
    texts = {c.text for c in verdict.cells()}
    assert texts == {"27.4", "25.1"}


def test_missing_or_foreign_artifact_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="missing"):
        load_model(tmp_path / "none.joblib")
    other = tmp_path / "other.joblib"
    buf = io.BytesIO()
    joblib.dump({"not": "a model"}, buf)
    other.write_bytes(buf.getvalue())
    with pytest.raises(UserError, match="not a sovereign table verifier"):
        load_model(other)
