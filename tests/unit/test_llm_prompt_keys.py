"""The prompt files, the typed contracts and the agents' call sites must agree: each
template's placeholders are exactly its role's typed variables, and a research run on the
in-repo fixture (with an LLM that records what each role is given and always fails, so the
deterministic path carries the run) asks each role for its contract's draft with exactly those
variables."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from agents.llm.rendering import placeholders, render
from agents.llm.schemas import CONTRACTS
from graph.settings import Settings
from tests.unit.graph_fakes import fake_services

QUESTION = "Does FlexMoE improve MMMU accuracy over dense vision-language models?"


class RecordingLLM:
    def __init__(self) -> None:
        self.calls: list[tuple[str, type[Any], dict[str, Any]]] = []

    def structured(
        self,
        role: str,
        output_model: type[Any],
        prompt_vars: Mapping[str, Any],
        feedback: Any = None,
    ) -> Any:
        self.calls.append((role, output_model, dict(prompt_vars)))
        raise ValueError("recording LLM: no answer")


@pytest.fixture(scope="module")
def recorded(
    tmp_path_factory: pytest.TempPathFactory,
) -> list[tuple[str, type[Any], dict[str, Any]]]:
    from graph import build_graph

    home: Path = tmp_path_factory.mktemp("home")
    settings = Settings.model_validate(
        {
            "home": str(home),
            "llm_base_url": "http://127.0.0.1:9/v1",
            "consensus_threshold": 10.0,
            "max_revisions": 1,
        }
    )
    llm = RecordingLLM()
    services = fake_services(settings)
    services.llm_factory = lambda: llm
    graph = build_graph(settings, services=services)
    state = graph.invoke(
        {
            "question": QUESTION,
            "run_id": "keys",
            "owner_review": False,
            "out_dir": str(home / "out"),
        }
    )
    assert state.get("report_path"), "the run must finish with a report"
    return llm.calls


@pytest.mark.parametrize("role", sorted(CONTRACTS))
def test_template_placeholders_are_the_roles_typed_variables(role: str) -> None:
    typed = CONTRACTS[role].variable_names
    placed = placeholders(role)
    assert not placed - typed, f"prompts/{role}.txt uses variables its role does not type"
    assert not typed - placed, f"{role}'s typed variables are not all placed in its template"


def test_every_llm_role_in_the_graph_has_matching_prompt_keys(
    recorded: list[tuple[str, type[Any], dict[str, Any]]],
) -> None:
    roles = {role for role, _, _ in recorded}
    assert roles == set(CONTRACTS)
    for role, model, prompt_vars in recorded:
        assert model is CONTRACTS[role].draft, f"{role} must ask for its contract's draft"
        assert set(prompt_vars) == CONTRACTS[role].variable_names, f"{role}: untyped variables"
        prompt = render(role, prompt_vars, model)
        assert prompt.missing == [], f"{role}: prompt expects keys the call site lacks"
        assert prompt.extra == [], f"{role}: call site gives keys the prompt does not place"
        assert placeholders(role) == set(prompt_vars)
