"""The shipped default verifier on a tiny hand-written corpus: one source per label, built so
that topical overlap alone cannot separate them (all three talk about the same drug)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents.verification import get_verifier
from agents.verification.augment import flip_claim
from agents.verification.classifier import (
    ARTIFACT,
    NLI_SENTS,
    PairModel,
    TrainedVerifier,
    nli_stance_rows,
    stance_dim,
)
from agents.verification.dense import DENSE_FEATURES
from agents.verification.features import DOC_FEATURES
from memory.errors import UserError
from memory.models import EvidenceDoc

CLAIM = "Metformin treatment reduces the incidence of type 2 diabetes in adults with prediabetes."

SUPPORTING = EvidenceDoc(
    doc_id="support",
    title="Metformin for the prevention of type 2 diabetes in adults with prediabetes",
    sentences=[
        "Prediabetes affects one in three adults.",
        "We randomly assigned 3234 adults with prediabetes to metformin or placebo.",
        "Metformin treatment reduced the incidence of type 2 diabetes by 31% compared with "
        "placebo in adults with prediabetes.",
        "Gastrointestinal symptoms were more common with metformin.",
    ],
)
CONTRADICTING = EvidenceDoc(
    doc_id="contradict",
    title="Metformin and incident diabetes in prediabetes: a randomised trial",
    sentences=[
        "Whether metformin prevents diabetes in prediabetes is unclear.",
        "We randomly assigned 1200 adults with prediabetes to metformin or placebo.",
        "Metformin treatment did not reduce the incidence of type 2 diabetes in adults with "
        "prediabetes; the incidence increased slightly (hazard ratio 1.08).",
    ],
)
UNRELATED = EvidenceDoc(
    doc_id="nei",
    title="Metformin pharmacokinetics in healthy volunteers",
    sentences=[
        "Metformin is cleared by the kidney.",
        "We measured plasma concentrations in 24 healthy volunteers after a single dose.",
        "Peak concentration was reached after 2.5 hours.",
    ],
)


@pytest.fixture(scope="module")
def verifier() -> TrainedVerifier:
    if not ARTIFACT.exists():
        pytest.fail(f"{ARTIFACT} missing: run `sovereign eval train-verifier`")
    v = get_verifier("default")
    assert isinstance(v, TrainedVerifier)
    return v


def test_one_verdict_per_doc_in_order(verifier: TrainedVerifier) -> None:
    docs = [UNRELATED, CONTRADICTING, SUPPORTING]
    out = verifier.verify(CLAIM, docs)
    assert [v.doc_id for v in out] == ["nei", "contradict", "support"]
    assert all(0.0 <= v.confidence <= 1.0 for v in out)
    assert verifier.verify(CLAIM, []) == []


def test_supporting_source(verifier: TrainedVerifier) -> None:
    (v,) = verifier.verify(CLAIM, [SUPPORTING])
    assert v.label == "SUPPORT"
    assert v.rationale[0] == 2  # the results sentence, not the background


def test_contradicting_source(verifier: TrainedVerifier) -> None:
    (v,) = verifier.verify(CLAIM, [CONTRADICTING])
    assert v.label == "CONTRADICT"
    assert 2 in v.rationale


def test_unrelated_source_is_not_enough_info(verifier: TrainedVerifier) -> None:
    (v,) = verifier.verify(CLAIM, [UNRELATED])
    assert v.label == "NOT_ENOUGH_INFO"
    assert v.rationale == []


def test_negated_claim_flips_against_the_same_source(verifier: TrainedVerifier) -> None:
    negated = flip_claim(CLAIM)
    assert negated is not None and negated != CLAIM
    (v,) = verifier.verify(negated, [SUPPORTING])
    assert v.label != "SUPPORT"


def test_vacuous_claim_is_not_supported(verifier: TrainedVerifier) -> None:
    vacuous = "The proposed approach improves results."
    out = verifier.verify(vacuous, [SUPPORTING, CONTRADICTING, UNRELATED])
    assert all(v.label == "NOT_ENOUGH_INFO" for v in out)


def test_missing_artifact_is_one_line_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="sovereign eval train-verifier"):
        get_verifier("default", path=tmp_path / "nope.joblib")


def test_flip_claim_edits() -> None:
    assert flip_claim("X does not cause Y.") == "X does cause Y."
    assert flip_claim("Levels were higher in cases.") == "Levels were lower in cases."
    assert flip_claim("X is linked to Y.") == "X is not linked to Y."
    assert flip_claim("Smoking causes cancer.") is None


def test_a_measured_value_the_source_never_states_is_not_support(
    verifier: TrainedVerifier,
) -> None:
    stated = "Metformin treatment reduced the incidence of type 2 diabetes by 31% in prediabetes."
    wrong = "Metformin treatment reduced the incidence of type 2 diabetes by 58% in prediabetes."
    assert verifier.verify(stated, [SUPPORTING])[0].label == "SUPPORT"
    out = verifier.verify(wrong, [SUPPORTING])[0]
    # never support; the NLI stance head reads 58% against the stated 31% as a contradiction,
    # and then the rationale must be the sentence that states the other value
    assert out.label in ("NOT_ENOUGH_INFO", "CONTRADICT")
    assert out.rationale == ([] if out.label == "NOT_ENOUGH_INFO" else [2])


def test_corrupt_artifact_is_one_line_with_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"not a model")
    with pytest.raises(UserError, match="sovereign eval train-verifier"):
        get_verifier("default", path=bad)


def test_artifact_built_for_the_withdrawn_nli_package_is_one_line_with_the_fix(
    verifier: TrainedVerifier, tmp_path: Path
) -> None:
    from sklearn.linear_model import LogisticRegression

    old = TrainedVerifier(
        verifier.rationale_model, verifier.stance_model, verifier.label_model, verifier.idf
    )
    old.nli_head = LogisticRegression().fit(np.eye(386)[:2], [True, False])  # its 386-d head
    path = old.save(tmp_path / "old.joblib")
    with pytest.raises(UserError, match="withdrawn NLI package; rebuild it") as err:
        TrainedVerifier.load(path)
    assert "\n" not in str(err.value)


def test_the_shipped_artifact_reads_the_shipped_stance_head(verifier: TrainedVerifier) -> None:
    assert [d["kind"] for d in verifier.pair_models] == ["head"]
    assert verifier.nli_head is None  # stance stays lexical (see train.STANCE_HEAD)
    width = stance_dim(verifier.pair_encoders())
    relevance = len(DOC_FEATURES) + len(DENSE_FEATURES) + 2 * verifier.head_in_relevance
    assert verifier.label_model.n_features_in_ == relevance
    assert verifier.decisive_head.n_features_in_ == 2 + width + relevance


class _SwappedPremise:
    """The real stance head, shown another abstract's sentences wherever the verifier chose
    one of `source`'s (sentence i becomes the other's sentence i, or its last); records the
    calls it got."""

    def __init__(self, real: PairModel, source: EvidenceDoc, other: EvidenceDoc) -> None:
        self.real = real
        self.n_scores, self.pooled_dim = real.n_scores, real.pooled_dim
        n = len(other.sentences)
        self.swap = [(s, other.sentences[min(i, n - 1)]) for i, s in enumerate(source.sentences)]
        self.calls: list[list[tuple[str, str]]] = []

    def _other(self, text: str) -> str:
        for old, new in self.swap:
            text = text.replace(old, new)
        return text

    def __call__(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        self.calls.append(list(pairs))
        return self.real([(self._other(a), self._other(b)) for a, b in pairs])


def test_stance_passes_run_only_where_the_decision_is_open(
    verifier: TrainedVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    (real,) = verifier.pair_encoders()
    swapped = _SwappedPremise(real, SUPPORTING, CONTRADICTING)
    monkeypatch.setattr(verifier, "encoders", [swapped])
    out = verifier.verify(CLAIM, [UNRELATED, SUPPORTING])
    if verifier.head_in_relevance:  # relevance reads each source's top sentence, once
        first = swapped.calls.pop(0)
        assert len(first) == 2
        assert first[0][1] in UNRELATED.sentences and first[1][1] in SUPPORTING.sentences
    # the unrelated source never gets the passes; the supporting one is read as the claim
    # against its evidence, then against each of its top rationale sentences
    (passes,) = swapped.calls
    assert all(claim == CLAIM for claim, _ in passes)
    assert "31%" in passes[0][1]  # the top rationale text
    assert {b for _, b in passes[1:]} <= set(SUPPORTING.sentences)
    assert len(passes) == 1 + min(NLI_SENTS, len(SUPPORTING.sentences))
    assert out[0].label == "NOT_ENOUGH_INFO"


def test_stance_rows_for_sources_of_any_length(verifier: TrainedVerifier) -> None:
    docs = [
        SUPPORTING,
        EvidenceDoc(doc_id="one", title="t", sentences=[SUPPORTING.sentences[2]]),
        EvidenceDoc(doc_id="none", title="Metformin and diabetes", sentences=[]),
    ]
    probs = [np.linspace(0.1, 0.9, len(d.sentences)) for d in docs]
    models = verifier.pair_encoders()
    rows = nli_stance_rows(models, [CLAIM] * 3, docs, probs, [0.5, 0.5, 0.5])
    assert rows.shape == (3, stance_dim(models)) and np.isfinite(rows).all()
    # one sentence: its margin fills every rationale-order slot
    start = models[0].n_scores + models[0].pooled_dim
    margins = rows[1, start : start + NLI_SENTS]
    assert np.ptp(margins) == 0.0


class _FixedStage:
    """Stands in for the second stage: a fixed P(relevant), recording the rows it was shown."""

    classes_ = np.array([False, True])

    def __init__(self, p: float) -> None:
        self.p = p
        self.rows: list[np.ndarray] = []

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        self.rows.append(x)
        return np.tile([1 - self.p, self.p], (len(x), 1))


def test_second_stage_decides_only_sources_past_relevance(
    verifier: TrainedVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert verifier.decisive_head is not None
    assert verifier.accept_threshold > verifier.label_threshold
    reject = _FixedStage(verifier.accept_threshold - 0.05)
    monkeypatch.setattr(verifier, "decisive_head", reject)
    out = verifier.verify(CLAIM, [UNRELATED, SUPPORTING])
    assert [v.label for v in out] == ["NOT_ENOUGH_INFO", "NOT_ENOUGH_INFO"]
    assert [len(r) for r in reject.rows] == [1]  # the unrelated source never reached it
    accept = _FixedStage(0.99)
    monkeypatch.setattr(verifier, "decisive_head", accept)
    out = verifier.verify(CLAIM, [UNRELATED, SUPPORTING])
    assert [v.label for v in out] == ["NOT_ENOUGH_INFO", "SUPPORT"]
    assert out[1].confidence > 0.5


def test_methodology_line_is_read_off_the_artifact(verifier: TrainedVerifier) -> None:
    line = verifier.describe()
    assert f"top {NLI_SENTS} rationale sentences" in line
    assert f"trained on {verifier.meta['claims']} SciFact claims" in line
    assert "sovereign-stance-head" in line and f">= {verifier.label_threshold:g}" in line
    second = f"rationale sentences) gives P >= {verifier.accept_threshold:g}"
    assert "lexical stance model" in line  # the stance model decides relevance, not stance
    assert second in line
    bare = TrainedVerifier(
        verifier.rationale_model, verifier.stance_model, verifier.label_model, verifier.idf
    )
    assert "lexical stance model" in bare.describe()


HAWK_CLAIM = (
    "Visual token pruning with HAWK retains 96% of the original accuracy on Qwen2.5-VL after "
    "removing 80% of the visual tokens."
)
_REEVAL = [
    "Vision-language models process hundreds of visual tokens per image.",
    "We re-evaluate HAWK, a head importance-aware visual token pruning method, on Qwen2.5-VL.",
]


@pytest.mark.parametrize(
    ("finding", "label"),
    [
        (
            "Consistent with its authors, HAWK retains about 96% of the original accuracy on "
            "Qwen2.5-VL when 80% of visual tokens are removed.",
            "SUPPORT",
        ),
        pytest.param(
            "Contrary to reported results, HAWK retains only 71% of the original accuracy on "
            "Qwen2.5-VL when 80% of visual tokens are removed.",
            "CONTRADICT",
            # the withdrawn NLI model read 71% against the claimed 96% as a contradiction; the
            # lexical stance cannot, and the project's stance model does not decide stance
            marks=pytest.mark.xfail(strict=True, reason="stance is lexical: a differing figure"),
        ),
    ],
)
def test_machine_learning_sources_outside_the_training_domain(
    verifier: TrainedVerifier, finding: str, label: str
) -> None:
    """Trained on biomedical SciFact; the graph verifies arXiv claims. A re-evaluation that
    reports the same figure supports, one that reports another figure contradicts."""
    doc = EvidenceDoc(
        doc_id="reeval",
        title="Revisiting visual token pruning for vision-language models",
        sentences=[*_REEVAL, finding, "We release our evaluation code."],
    )
    (v,) = verifier.verify(HAWK_CLAIM, [doc])
    assert (v.label, v.rationale) == (label, [2])


def test_more_candidates_do_not_change_the_verdicts(verifier: TrainedVerifier) -> None:
    """The graph verifies against 5 sources, SciFact against 3: a source's verdict must not
    hinge on how many others came with it."""
    extra = [
        EvidenceDoc(
            doc_id=f"far{i}",
            title=title,
            sentences=[f"{title} was studied in {n} patients.", "Outcomes were recorded."],
        )
        for i, (title, n) in enumerate([("Statin adherence", 410), ("Insulin pump use", 95)])
    ]
    three = [SUPPORTING, CONTRADICTING, UNRELATED]
    base = [v.label for v in verifier.verify(CLAIM, three)]
    five = [v.label for v in verifier.verify(CLAIM, [*three, *extra])]
    assert base == ["SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO"]
    assert five == [*base, "NOT_ENOUGH_INFO", "NOT_ENOUGH_INFO"]
