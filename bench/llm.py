"""LLM-mode cost per report against the local llama.cpp server (SmolLM2-135M, 1 thread).

    python bench/llm.py                   # 2 questions on the in-repo fixture corpus
    python bench/llm.py --questions 1 --max-tokens 256 --threads 1
    python bench/llm.py --base-url http://127.0.0.1:8081/v1   # an already running server

Prints, per report: LLM calls (and failed/retried requests), prompt and completion tokens,
LLM wall time and whole-run wall time, and how many LLM-backed steps were accepted versus
fell back to the deterministic path; then the means. Search, memory and verification use the
in-repo fixture stand-ins (tests/unit/graph_fakes.py) so the figures isolate the LLM's cost.
Every figure is measured in this run; other processes on the machine slow the model down."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agents.llm.client import make_llm  # noqa: E402
from agents.llm.server import MODEL_ALIAS, LlamaServer  # noqa: E402
from graph.runner import run_research  # noqa: E402
from graph.settings import Settings  # noqa: E402
from tests.conftest import get_free_port  # noqa: E402
from tests.unit.graph_fakes import fake_services  # noqa: E402

QUESTIONS = [
    "Does FlexMoE improve MMMU accuracy over dense vision-language models?",
    "How much does 4-bit quantization of experts slow down Mixture-of-Experts inference?",
    "Does token merging speed up vision transformers without losing accuracy?",
]


def one_report(base_url: str, question: str, args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="bench-llm-"))
    settings = Settings.model_validate(
        {
            "home": str(home),
            "llm_base_url": base_url,
            "llm_model": MODEL_ALIAS,
            "llm_max_concurrency": 1,
            "llm_max_tokens": args.max_tokens,
            "llm_timeout_s": 300,
            "llm_rpm": 10_000,
            "num_queries": args.num_queries,
            "max_results_per_query": args.max_results,
            "max_revisions": args.max_revisions,
        }
    )
    llm = make_llm(settings.llm_config())
    assert llm is not None
    services = fake_services(settings)
    services.llm_factory = lambda: llm
    started = time.monotonic()
    state = run_research(question, settings, services=services, owner_review=False)
    wall = time.monotonic() - started
    usage = llm.usage.snapshot()
    steps = [r["origin"] for r in state.get("reviews", [])]
    steps += [p.get("origin", "llm") for p in state.get("revision_plans", [])]
    fallbacks = sum(1 for e in state.get("provenance", []) if e["kind"] == "fallback")
    return {
        "question": question,
        "calls": usage["calls"],
        "failed": usage["failed_calls"],
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "llm_wall_s": usage["wall_s"],
        "run_wall_s": round(wall, 1),
        "fallback_events": fallbacks,
        "reviews_accepted": sum(1 for o in steps if o == "llm"),
        "claims_from_llm": sum(1 for c in state.get("claims", []) if c["origin"] == "llm"),
        "claims": len(state.get("claims", [])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2)
    parser.add_argument("--base-url", help="use a running server instead of starting one")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--num-queries", type=int, default=2)
    parser.add_argument("--max-results", type=int, default=3)
    parser.add_argument("--max-revisions", type=int, default=0)
    args = parser.parse_args()
    questions = (QUESTIONS * 4)[: args.questions]
    server = None
    if args.base_url:
        base_url = args.base_url
    else:
        server = LlamaServer(get_free_port(), threads=args.threads).start()
        base_url = server.base_url
        print(f"llama.cpp server at {base_url} ({args.threads} thread(s))", flush=True)
    rows = []
    try:
        for i, q in enumerate(questions, 1):
            print(f"[{i}/{len(questions)}] {q}", flush=True)
            row = one_report(base_url, q, args)
            rows.append(row)
            print(
                f"  calls={row['calls']} (failed {row['failed']}) "
                f"tokens={row['prompt_tokens']}+{row['completion_tokens']} "
                f"llm_wall={row['llm_wall_s']:.1f}s run_wall={row['run_wall_s']:.1f}s "
                f"fallback_events={row['fallback_events']} "
                f"llm_claims={row['claims_from_llm']}/{row['claims']} "
                f"llm_reviews={row['reviews_accepted']}",
                flush=True,
            )
    finally:
        if server is not None:
            server.stop()
    if rows:
        print("per report (mean over", len(rows), "):")
        for key in ("calls", "prompt_tokens", "completion_tokens", "llm_wall_s", "run_wall_s"):
            print(f"  {key}: {statistics.mean(float(r[key]) for r in rows):.1f}")
        tokens = sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows)
        llm_s = sum(r["llm_wall_s"] for r in rows)
        if llm_s:
            print(f"  tokens per LLM-second: {tokens / llm_s:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
