"""RunRecord is the one definition of a run: the graph's state declares the same fields, a state
reads into it and back unchanged, and the report states the figures the record computes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from agents import reporter
from graph.state import ResearchState
from memory.run import RUN_RECORD_VERSION, RunInfo, RunRecord
from tests.pub_samples import sample_state

RESULTS = re.compile(
    r"(\d+) papers retrieved\. (\d+) claims extracted, (\d+) verified\. Tribunal: ([\d.]+)/10 → "
    r"(APPROVE|REJECT) \(revision_round=(\d+)\)\. Policy: (AUTO_APPROVE|ESCALATE_TO_OWNER)\."
)


def test_state_and_record_declare_the_same_fields() -> None:
    state_keys = ResearchState.__required_keys__ | ResearchState.__optional_keys__
    record_fields = set(RunRecord.model_fields) - {"schema_version"}
    assert state_keys == record_fields, (
        f"only in graph/state.py: {sorted(state_keys - record_fields)}; "
        f"only in memory/run.py: {sorted(record_fields - state_keys)}"
    )


def test_a_state_reads_into_the_record_and_back_unchanged(tmp_path: Path) -> None:
    state = sample_state(tmp_path)
    back = RunRecord.from_state(state).state_json()
    assert back["schema_version"] == RUN_RECORD_VERSION
    assert {k: back[k] for k in state} == state


def test_report_states_the_records_figures(tmp_path: Path) -> None:
    state = sample_state(tmp_path, scores=(6.0, 6.5, 6.8), verified=2)
    state["settings_used"]["consensus_threshold"] = 6.5
    record = RunRecord.from_state(state)
    report_path, json_path = reporter.write(record, RunInfo(verifier="default"), tmp_path / "out")
    m = RESULTS.search(report_path.read_text(encoding="utf-8"))
    assert m, "the results line is missing"
    f = record.figures()
    assert (
        (int(m[1]), int(m[2]), int(m[3]))
        == (
            f.papers_retrieved,
            f.claims_extracted,
            f.claims_verified,
        )
        == (2, 3, 2)
    )
    assert float(m[4]) == round(f.consensus, 2)
    assert m[5] == f.decision == "REJECT"  # 6.43 is below the run's own pass mark
    assert (int(m[6]), m[7]) == (f.revision_round, f.policy)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["summary"] == f.model_dump(mode="json")
    assert data["state"] == record.state_json()
    assert data["run_info"] == {"embedding": {}, "verifier": "default"}


def test_decision_follows_the_runs_pass_mark(tmp_path: Path) -> None:
    state = sample_state(tmp_path, scores=(6.0, 6.0, 6.0))
    state["settings_used"]["consensus_threshold"] = 5.5
    assert RunRecord.from_state(state).figures().decision == "APPROVE"
    state["settings_used"]["consensus_threshold"] = 6.5
    assert RunRecord.from_state(state).figures().decision == "REJECT"


def test_policy_not_yet_applied_is_told_apart() -> None:
    assert not RunRecord.from_state({"run_id": "r", "question": "q"}).decided
    assert RunRecord.from_state({"run_id": "r", "policy": "ESCALATE_TO_OWNER"}).decided
