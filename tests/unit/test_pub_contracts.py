"""The three public contracts: documents built from a run validate, and invalid ones do not."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import jsonschema
import pytest

from memory.publication import record_run, report_id_for
from memory.publication.contracts import validate
from memory.run import RunInfo, RunRecord
from tests.pub_samples import sample_record, sample_state


def _db(tmp_path: Path) -> Path:
    return tmp_path / "pub.sqlite"


def test_report_id_is_stable_and_well_formed() -> None:
    rid = report_id_for("run-alpha")
    assert rid == report_id_for("run-alpha")
    assert rid != report_id_for("run-beta")
    assert rid.startswith("SRCH:") and len(rid) == 13 and rid[5:] == rid[5:].upper()
    int(rid[5:], 16)


def test_all_three_contracts_validate(tmp_path: Path) -> None:
    rec = record_run(sample_record(tmp_path), _db(tmp_path))
    for doc in (rec.manifest, rec.provenance, rec.corrections):
        validate(doc)
    assert rec.manifest["contract"] == "paper-manifest-v1.1"
    assert rec.provenance["contract"] == "source-provenance-v1"
    assert rec.corrections["contract"] == "correction-record-v1"


def test_manifest_counts_and_artifact_hash_come_from_the_run(tmp_path: Path) -> None:
    state = sample_state(tmp_path, verified=2)
    rec = record_run(RunRecord.from_state(state), _db(tmp_path))
    counts = rec.manifest["counts"]
    assert counts["claims"] == 3 and counts["verified"] == 2 and counts["unverified"] == 1
    assert counts["source_grounded"] == 2 and counts["papers_retrieved"] == 2
    assert counts["conflicts"] == 1 and counts["reviews"] == 3
    md = Path(state["report_path"]).read_bytes()
    artifact = next(a for a in rec.manifest["artifacts"] if a["name"] == "report.md")
    assert artifact["sha256"] == hashlib.sha256(md).hexdigest()
    assert artifact["bytes"] == len(md)
    assert rec.manifest["scores"]["review_score"] == pytest.approx(8.5)


def test_provenance_names_query_time_and_lineage(tmp_path: Path) -> None:
    rec = record_run(sample_record(tmp_path), _db(tmp_path))
    retrieved = [s for s in rec.provenance["sources"] if s["role"] == "retrieved"]
    assert {s["query"] for s in retrieved} == {"all:MoE AND all:routing", "all:expert parallel"}
    assert all(s["retrieved_at"] and s["version"] == 2 for s in retrieved)
    assert rec.provenance["method"]["embedding_model"] == "all-MiniLM-L6-v2"
    lineage = {c["claim_id"]: c for c in rec.provenance["claims"]}
    assert lineage["C1"]["evidence"][0]["doc_id"] == "2605.00002"
    assert lineage["C1"]["evidence"][0]["label"] == "SUPPORT"


@pytest.mark.parametrize(
    ("which", "mutate"),
    [
        ("manifest", lambda d: d.__setitem__("report_id", "SRCH:abc")),
        ("manifest", lambda d: d["artifacts"][0].__setitem__("sha256", "xyz")),
        ("manifest", lambda d: d["quality"].__setitem__("tier", "Excellent")),
        ("provenance", lambda d: d["sources"][0].pop("query")),
        ("provenance", lambda d: d["claims"][0].__setitem__("status", "maybe")),
        ("corrections", lambda d: d.__setitem__("status", "EDITED")),
    ],
)
def test_invalid_documents_are_rejected(tmp_path: Path, which: str, mutate: object) -> None:
    rec = record_run(sample_record(tmp_path), _db(tmp_path))
    doc = copy.deepcopy(getattr(rec, which))
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)


def test_correction_record_validates_with_entries(tmp_path: Path) -> None:
    from memory.publication import correct, store_for

    db = _db(tmp_path)
    record_run(sample_record(tmp_path), db)
    rec = correct(store_for(db), "run-alpha", "ann", "claim C2", "value is 10.0 not 10.3")
    validate(rec.corrections)
    assert rec.corrections["status"] == "CORRECTED"
    assert rec.corrections["corrections"][0]["who"] == "ann"


def test_paper_input_string_is_not_mistaken_for_the_target(tmp_path: Path) -> None:
    state = sample_state(tmp_path)
    state["paper"] = "2605.00001"  # what the caller typed; `target` holds the resolved Paper
    rec = record_run(RunRecord.from_state(state), _db(tmp_path))
    assert rec.manifest["paper"]["title"].startswith("SMoES")
    del state["target"]
    state["run_id"] = "no-target"
    assert record_run(RunRecord.from_state(state), _db(tmp_path)).manifest["paper"] is None


def test_llm_calls_and_tokens_reach_manifest_and_provenance(tmp_path: Path) -> None:
    state = sample_state(tmp_path)
    usage = {"calls": 7, "prompt_tokens": 900, "completion_tokens": 120, "total_tokens": 1020}
    info = RunInfo(verifier="default", llm_usage=usage)
    rec = record_run(RunRecord.from_state(state), _db(tmp_path), info)
    validate(rec.manifest)
    validate(rec.provenance)
    assert rec.manifest["counts"]["llm_calls"] == 7
    assert rec.manifest["counts"]["llm_tokens"] == 1020
    assert rec.provenance["method"]["llm_usage"] == usage
    no_llm = record_run(sample_record(tmp_path / "b"), _db(tmp_path / "b"))
    assert no_llm.manifest["counts"]["llm_calls"] == 0
