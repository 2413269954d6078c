"""One settings model feeds the environment, the CLI flags and Studio's context schema."""

from __future__ import annotations

import argparse

import pytest

from graph.cli.research import register
from graph.context import (
    CONTEXT_FIELDS,
    RunContext,
    context_overrides,
    settings_from_record,
    settings_record,
)
from graph.settings import Settings


def test_cli_flags_and_studio_context_come_from_settings() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(
        [
            "research",
            "q",
            "--max-revisions",
            "1",
            "--consensus-threshold",
            "7.5",
            "--arxiv-mode",
            "online",
        ]
    )
    assert args.max_revisions == 1 and args.consensus_threshold == 7.5
    assert args.arxiv_mode == "online"
    with pytest.raises(SystemExit):
        parser.parse_args(["research", "q", "--arxiv-mode", "carrier-pigeon"])
    schema = RunContext.model_json_schema()["properties"]
    assert set(schema) == set(CONTEXT_FIELDS)
    for name in CONTEXT_FIELDS:
        assert schema[name].get("description") == (Settings.model_fields[name].description or name)
    assert context_overrides(RunContext(max_revisions=0)) == {"max_revisions": 0}


def test_settings_record_round_trips_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOVEREIGN_LLM_API_KEY", "sk-secret-value-123")
    base = Settings.model_validate({"num_queries": 6})
    record = settings_record(base)
    assert "llm_api_key" not in record and "sk-secret" not in str(record)
    again = settings_from_record(Settings.model_validate({}), record)
    assert again.num_queries == 6
    assert again.llm_key() == "sk-secret-value-123"  # secrets come from the environment
