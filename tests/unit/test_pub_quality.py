"""Tiers, verification levels and dimensions follow their documented rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.publication import record_run
from memory.publication.quality import ClaimFacts, tier_for, verification_level
from memory.run import RunRecord
from tests.pub_samples import sample_record, sample_state


def _c(status: str, grounded: bool, conf: float = 0.8) -> ClaimFacts:
    return ClaimFacts(claim_id="C", status=status, confidence=conf, grounded=grounded)


def test_quarantine_below_five_with_basis_sentence() -> None:
    tier, basis = tier_for(4.99, [_c("verified", True)] * 3)
    assert tier == "Quarantine candidate"
    assert basis.startswith("Review score is below 5.0")


@pytest.mark.parametrize(
    ("score", "claims", "tier"),
    [
        (8.5, [_c("verified", True)] * 2 + [_c("unverified", False)], "Source-grounded"),
        (8.5, [_c("verified", True), _c("contradicted", False)], "Reviewed synthesis"),
        (7.0, [_c("verified", True)] + [_c("unverified", False)] * 5, "Reviewed synthesis"),
        (7.0, [_c("unverified", False)] * 3, "Provisional"),
        (5.0, [_c("verified", True)] * 3, "Provisional"),
        (9.0, [], "Provisional"),
    ],
)
def test_tiers(score: float, claims: list[ClaimFacts], tier: str) -> None:
    assert tier_for(score, claims)[0] == tier


def test_levels_climb_with_grounded_claims() -> None:
    assert verification_level([]).code == "L1"
    assert verification_level([_c("unverified", False)] * 3).code == "L1"
    assert verification_level([_c("verified", True)] + [_c("unverified", False)] * 3).code == "L2"
    assert verification_level([_c("verified", True)] * 2 + [_c("unverified", False)]).code == "L3"
    assert verification_level([_c("verified", True)] * 3).code == "L4"
    contradicted = [_c("verified", True)] * 3 + [_c("contradicted", False)]
    assert verification_level(contradicted).code == "L2"


def test_support_from_the_claims_own_paper_is_not_grounding(tmp_path: Path) -> None:
    state = sample_state(tmp_path)
    for ver in state["verifications"]:
        claim = next(c for c in state["claims"] if c["id"] == ver["claim_id"])
        ver["evidence"][0]["doc_id"] = claim["source_id"]
    rec = record_run(RunRecord.from_state(state), tmp_path / "p.sqlite")
    assert rec.manifest["counts"]["verified"] == 3
    assert rec.manifest["counts"]["source_grounded"] == 0
    assert rec.manifest["quality"]["verification_level"]["code"] == "L1"
    assert rec.manifest["quality"]["dimensions"]["evidence_strength"] == "LOW"


def test_dimensions_respond_to_the_run(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    good = record_run(sample_record(tmp_path, "good"), db).manifest["quality"]
    assert good["dimensions"] == {
        "evidence_strength": "HIGH",
        "uncertainty_disclosure": "HIGH",
        "reproducibility": "HIGH",
    }
    weak = sample_state(tmp_path, "weak", verified=0)
    weak["settings_used"] = {"consensus_threshold": 6.5, "max_revisions": 2}  # no model ids
    weak["provenance"].append({"node": "verify", "kind": "fallback", "message": "tfidf used"})
    weak["coverage"][1]["note"] = ""
    for paper in weak["papers"]:
        paper["query"] = None
    dims = record_run(RunRecord.from_state(weak), db).manifest["quality"]["dimensions"]
    assert dims["evidence_strength"] == "LOW"
    assert dims["reproducibility"] == "LOW"  # only the artifact hash check passes
    assert dims["uncertainty_disclosure"] == "MEDIUM"
