"""Issue 18, items 3 and 6: an LLM endpoint that fails must neither leak the API key into
anything the run stores, nor slow the run down call after call, nor be reported as a model whose
answer was rejected. Driven end to end (graph, run.json, checkpoints, publication store, site)
against the scripted OpenAI stand-in on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.llm.scripted_server import Reply
from graph.settings import Settings
from tests.conftest import get_free_port
from tests.unit.graph_fakes import fake_services

pytestmark = pytest.mark.integration

QUESTION = "Does FlexMoE improve MMMU accuracy over dense vision-language models?"
KEY = "sk-live-Zq8vW3nT5yR7uP1xK9mB4cD6"  # what a real key looks like
PLAIN_KEY = "tenant-7f3a9c1e-0b2d"  # a key with no recognisable shape: found only by value


def run(home: Path, base_url: str, key: str | None = None, **extra: Any) -> dict[str, Any]:
    """A checkpointed run whose LLM is built from the settings, as the CLI builds it."""
    from graph.runner import run_research

    options = {"home": str(home), "llm_base_url": base_url, "llm_rpm": 100_000, **extra}
    if key is not None:
        options["llm_api_key"] = key
    settings = Settings.model_validate({"max_revisions": 0, **options})
    services = fake_services(settings)
    services.llm_factory = None  # the default: make_llm + the reachability check
    return run_research(QUESTION, settings, services=services, owner_review=False)


def files_holding(home: Path, secret: str) -> list[str]:
    """Every file under the home whose bytes contain `secret` (sqlite pages included)."""
    needle = secret.encode()
    return [str(p) for p in home.rglob("*") if p.is_file() and needle in p.read_bytes()]


def publish_site(home: Path, report_id: str) -> None:
    """The owner approves the (escalated) report and the site is built under the home."""
    from graph.site.builder import build_site
    from memory.publication.service import apply_decision, store_for

    store = store_for(Settings.model_validate({"home": str(home)}).publications_path)
    apply_decision(store, report_id, "approve", "ok", "owner")
    assert build_site(store, home / "site").reports == 1


@pytest.mark.parametrize("key", [KEY, PLAIN_KEY])
def test_a_401_that_echoes_the_key_leaves_no_trace_of_it(
    serve: Any, tmp_path: Path, key: str
) -> None:
    srv = serve([Reply("invalid API key", status=401, echo_auth=True)])
    state = run(tmp_path, srv.base_url, key)
    publish_site(tmp_path, state["publication"]["report_id"])
    failures = [e for e in state["provenance"] if "HTTP 401" in e["message"] + str(e["detail"])]
    assert failures, "the 401 must have been recorded for this test to mean anything"
    assert any("[REDACTED]" in str(e["detail"]) for e in failures)  # the echo was there, masked
    stored = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert {"run.json", "report.md", "provenance.json"} <= stored
    assert any(name.endswith((".sqlite", ".db")) for name in stored)
    assert files_holding(tmp_path, key) == []


def test_an_unreachable_llm_stops_the_run_at_once_naming_it(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{get_free_port()}/v1"  # nothing listens there
    state = run(tmp_path, url)
    assert state["halted"] is not None
    assert url in state["halted"] and "unreachable" in state["halted"]
    assert "\n" not in state["halted"]
    assert state["claims"] == []  # stopped before any work, not after minutes of fallbacks
    report = Path(state["report_path"]).read_text(encoding="utf-8")  # a halted run still reports
    assert url in report and "unreachable" in report


def test_a_failing_llm_is_called_until_it_fails_once_and_reported_as_unreachable(
    serve: Any, tmp_path: Path
) -> None:
    """Reachable at start (GET /models answers) but every completion is a 503: the first call
    uses up its retries, then the circuit is open and no node calls it again."""
    srv = serve([Reply("overloaded", status=503)])
    state = run(tmp_path, srv.base_url, llm_max_retries=1)
    assert srv.model_checks == 1
    assert len(srv.requests) == 2  # one call and its one retry, for the whole run
    fallbacks = [e for e in state["provenance"] if e["kind"] == "fallback"]
    assert len(fallbacks) >= 3  # planner, extractor, reviewers... all fell back
    assert all(e["message"].startswith("LLM unreachable") for e in fallbacks)
    assert all(srv.base_url in " ".join(e["detail"]["errors"]) for e in fallbacks)
    report = Path(state["report_path"]).read_text(encoding="utf-8")
    assert "LLM unreachable" in report and "proposal rejected" not in report


def test_the_cli_says_in_one_line_which_llm_it_could_not_reach(tmp_path: Path) -> None:
    import os

    from tests.conftest import run_cli

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "graph" / "mirror_small.jsonl"
    url = f"http://127.0.0.1:{get_free_port()}/v1"
    env = {**os.environ, "SOVEREIGN_HOME": str(tmp_path), "SOVEREIGN_VERIFIER": "tfidf"}
    assert run_cli("mirror", "ingest", str(fixture), env=env, timeout=300).returncode == 0
    env["SOVEREIGN_LLM_BASE_URL"] = url
    done = run_cli("research", QUESTION, env=env, timeout=300)
    said = done.stdout + done.stderr
    assert "Traceback" not in said
    lines = [line for line in said.splitlines() if url in line and "unreachable" in line]
    assert lines, said[-2000:]
    assert "proposal rejected" not in said
    (report,) = tmp_path.glob("runs/*/report.md")
    assert "unreachable" in report.read_text(encoding="utf-8")
