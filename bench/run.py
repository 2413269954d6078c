"""Bench: how close a full research run gets to its critical path, and what the parallel
fan-out buys. Runs against the embedded mirror with an LLM stand-in that sleeps a fixed
latency per call (so the LLM-bound steps dominate, as with a real endpoint).

    python bench/run.py [--latency 1.5] [--data PATH.jsonl] [--home DIR]

Prints: wall time ÷ critical path of the parallel run (target ≤ 1.15) and the slowdown of the
same run at concurrency 1 (target ≥ 3×). The critical path is the sum, over the graph's
supersteps, of the longest node in each (the longest chain of dependent calls)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agents.claim_extractor import ClaimSet, is_measurable  # noqa: E402
from agents.facets import content_tokens  # noqa: E402
from agents.llm.schemas import PlannedQuery, QueryPlan  # noqa: E402
from memory.models import Claim, Review, RevisionPlan, SearchQuery  # noqa: E402
from memory.run import critical_path as run_critical_path  # noqa: E402

T = TypeVar("T", bound=BaseModel)
DEFAULT_DATA = REPO.parent / "shared" / "data" / "arxiv" / "arxiv_cs_daily_sample_5000.jsonl"
QUESTION = (
    "What accuracy does Grove MoE (arXiv 2508.07785) reach compared with dense LLMs of "
    "similar activated size?"
)


class SleepyLLM:
    """A ChatBackend stand-in: sleeps `latency` per call, then answers from the prompt
    variables. Planner, claim and reviser answers pass the agents' checks; review scores are
    not near the evidence-derived rubric the stand-in cannot see, so each reviewer is rejected,
    retried once and falls back (two calls on the critical path, as with a bad model)."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.calls: list[tuple[str, float, float]] = []
        self._lock = threading.Lock()

    def structured(
        self,
        role: str,
        output_model: type[T],
        prompt_vars: Mapping[str, Any],
        feedback: str | None = None,
    ) -> T:
        start = time.time()
        time.sleep(self.latency)
        value = self._answer(role, prompt_vars)
        with self._lock:
            self.calls.append((role, start, time.time()))
        return output_model.model_validate(value.model_dump())

    def _answer(self, role: str, v: Mapping[str, Any]) -> BaseModel:
        words = content_tokens(v.get("question", ""))
        if role == "planner":
            n = int(v["num_queries"])
            return QueryPlan(
                queries=[
                    PlannedQuery(text=" ".join(words[i : i + 3]), purpose="stand-in")
                    for i in range(n)
                ]
            )
        if role == "claim_extractor":
            src = v["sources"][0]
            claims = [
                Claim(id=f"S{i}", text=s, quote=s, source_id=src["id"])
                for i, s in enumerate(src["sentences"])
                if is_measurable(s)
            ][: int(v["max_claims"])]
            return ClaimSet(claims=claims)
        if role in ("skeptic", "validator", "synthesizer"):
            score = 5.0 if int(v["round"]) == 0 else 8.0  # one revision round, then pass
            return Review(role=v["role"], round=int(v["round"]), score=score, summary="stand-in")
        if role == "reviser":
            r = int(v["round"])
            return RevisionPlan(
                round=r,
                queries=[
                    SearchQuery(text=" ".join(words[i + r : i + r + 2]), round=r)
                    for i in range(int(v["num_queries"]))
                ],
            )
        raise ValueError(f"stand-in has no answer for role {role}")


def critical_path(timings: list[dict[str, Any]]) -> float:
    return run_critical_path((t["start"], t["end"]) for t in timings)


def run_once(
    settings: Any, latency: float, concurrency: int | None
) -> tuple[float, dict[str, Any], SleepyLLM]:
    from graph import build_graph
    from graph.services import Services

    llm = SleepyLLM(latency)
    services = Services(settings, llm_factory=lambda: llm)
    graph = build_graph(settings, services=services)
    config: dict[str, Any] = {"max_concurrency": concurrency} if concurrency else {}
    try:
        start = time.perf_counter()
        state = graph.invoke({"question": QUESTION}, config=config)
        wall = time.perf_counter() - start
    finally:
        services.close()
    return wall, dict(state), llm


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--latency", type=float, default=1.5, help="seconds per LLM call")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="JSONL to ingest")
    ap.add_argument("--home", type=Path, default=None, help="SOVEREIGN_HOME (default: temp)")
    args = ap.parse_args()
    if not args.data.exists():
        print(f"bench: {args.data} not found", file=sys.stderr)
        return 2
    home = args.home or Path(tempfile.mkdtemp(prefix="sovereign-bench-"))
    os.environ["SOVEREIGN_HOME"] = str(home)
    os.environ.setdefault("SOVEREIGN_LOG_LEVEL", "WARNING")
    from graph.settings import load_settings
    from graph.transcript import configure

    configure(home / "bench-events.jsonl", to_stderr=False)
    settings = load_settings(
        home=str(home),
        arxiv_mode="mirror",
        verifier="tfidf",
        llm_base_url="http://llm-stand-in.invalid/v1",
        llm_model=f"sleep-{args.latency:g}s-stand-in",
        max_revisions=1,
    )
    if not settings.mirror_path.exists():
        print(f"ingesting {args.data} into {settings.mirror_path} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "graph.cli",
                "--home",
                str(home),
                "mirror",
                "ingest",
                str(args.data),
            ],
            check=True,
            cwd=REPO,
        )
    print(f"LLM stand-in latency {args.latency:g} s per call; question: {QUESTION}")
    run_once(settings, 0.0, None)  # warm-up: embedder load, Chroma collection, verifier import
    wall, state, llm = run_once(settings, args.latency, None)
    cp = critical_path(state["timings"])
    print(
        f"parallel run: wall {wall:.2f} s, critical path {cp:.2f} s, "
        f"wall/critical = {wall / cp:.3f} (target ≤ 1.15); {len(llm.calls)} LLM calls, "
        f"{len(state['timings'])} node executions, revision_round={state['revision_round']}, "
        f"{len(state['papers'])} papers, {len(state['claims'])} claims"
    )
    wall1, state1, llm1 = run_once(settings, args.latency, 1)
    print(
        f"concurrency 1: wall {wall1:.2f} s ({len(llm1.calls)} LLM calls) = "
        f"{wall1 / wall:.2f}× the parallel run (target ≥ 3×)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
