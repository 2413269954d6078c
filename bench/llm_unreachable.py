"""What an unreachable LLM base URL costs a run (issue 18.6), measured in one run each.

    python bench/llm_unreachable.py

Runs one report on the in-repo fixture corpus (tests/unit/graph_fakes.py stand-ins for
search, memory and verification) without an LLM, then one whose `llm_base_url` points at a
local port nothing listens on, with the LLM client built as the CLI builds it (default
settings: retries, backoff, pacing). Prints both wall times, their ratio, and how the second
run ended (halted at once with one line naming the URL, or ran on through fallbacks)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from graph.runner import run_research  # noqa: E402
from graph.settings import Settings  # noqa: E402
from tests.conftest import get_free_port  # noqa: E402
from tests.unit.graph_fakes import fake_services  # noqa: E402

QUESTION = "Does FlexMoE improve MMMU accuracy over dense vision-language models?"


def one_run(base_url: str | None) -> tuple[float, dict[str, Any]]:
    home = Path(tempfile.mkdtemp(prefix="bench-llm-down-"))
    settings = Settings.model_validate({"home": str(home), "llm_base_url": base_url})
    services = fake_services(settings)
    services.llm_factory = None  # the default factory, as the CLI uses it
    started = time.monotonic()
    state = run_research(QUESTION, settings, services=services, owner_review=False)
    return time.monotonic() - started, state


def main() -> None:
    url = f"http://127.0.0.1:{get_free_port()}/v1"
    base_s, _ = one_run(None)
    down_s, state = one_run(url)
    fallbacks = [e for e in state.get("provenance", []) if e["kind"] == "fallback"]
    print(f"no LLM:              {base_s:7.2f} s")
    print(f"unreachable LLM:     {down_s:7.2f} s  ({down_s / base_s:.1f}x the run without one)")
    print(f"halted:              {state.get('halted')}")
    print(f"fallback events:     {len(fallbacks)}")
    if fallbacks:
        print(f"first fallback says: {fallbacks[0]['message']}")


if __name__ == "__main__":
    main()
