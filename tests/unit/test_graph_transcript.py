"""Transcripts: JSON events while the run is going, each with run_id/node/role/round, and
secrets redacted."""

from __future__ import annotations

import json
from pathlib import Path

from graph import build_graph
from graph.settings import Settings
from graph.transcript import REDACTED, configure, get_logger, redact
from tests.conftest import read_events
from tests.unit.graph_fakes import fake_services

Q = "What accuracy does FlexMoE reach on MMMU compared with dense VLMs of similar activated size?"


def test_events_arrive_while_the_run_is_going(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    configure(log, to_stderr=False)
    try:
        settings = Settings.model_validate({"home": tmp_path / "home", "verifier": "tfidf"})
        graph = build_graph(settings, services=fake_services(settings))
        seen_mid_run: list[dict[str, object]] = []
        finished_nodes: list[str] = []
        for chunk in graph.stream({"question": Q}, stream_mode="updates"):
            finished_nodes.extend(chunk)
            if finished_nodes == ["resolve_paper"]:
                seen_mid_run = read_events(log)  # the run has not reached the report yet
        assert any(e["event"] == "node_end" and e["node"] == "resolve_paper" for e in seen_mid_run)
        assert not any(e["node"] == "write_report" for e in seen_mid_run)
        events = read_events(log)
        run_id = events[0]["run_id"]
        assert run_id and all(e["run_id"] == run_id for e in events[1:])
        for e in events:
            assert {"run_id", "node", "role", "round", "event", "timestamp"} <= e.keys()
        kinds = {(e["node"], e["event"]) for e in events}
        assert ("read_source", "claim_dropped") in kinds  # decisions, not just start/end
        assert ("skeptic", "review") in kinds and ("verify_claims", "verdict") in kinds
        roles = {e["role"] for e in events if e["node"] == "validator"}
        assert roles == {"VALIDATOR"}
    finally:
        configure(None, to_stderr=True)


def test_secrets_are_redacted(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    configure(log, to_stderr=False)
    try:
        get_logger("r1", "plan_queries", "planner", 0).info(
            "decision",
            api_key="sk-live-123456789",
            header="Authorization: Bearer abcdefghijkl",
            settings={"llm_api_key": "nvapi-abcdefghijklmnop", "llm_model": "m"},
            text="uses key nvapi-ZZZZZZZZZZZZZZ inline",
        )
    finally:
        configure(None, to_stderr=True)
    raw = log.read_text(encoding="utf-8")
    assert "sk-live" not in raw and "nvapi-" not in raw and "abcdefghijkl" not in raw
    event = json.loads(raw.splitlines()[-1])
    assert event["api_key"] == REDACTED and event["settings"]["llm_model"] == "m"
    assert redact({"token": None}) == {"token": None}
