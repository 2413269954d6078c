"""`sovereign llm serve` (local llama.cpp with SmolLM2) and `sovereign llm check` (one
structured call against the configured endpoint: reachable? JSON mode? tokens?)."""

from __future__ import annotations

import argparse
import json
import signal
import time
from typing import Any

from agents.llm.client import LLMReplyError, make_llm
from agents.llm.schemas import QueryPlan
from agents.llm.server import DEFAULT_PORT, MODEL_ALIAS, LlamaServer, default_threads
from graph.cli.args import port, positive_int
from graph.settings import Settings
from memory.errors import UserError

CHECK_QUESTION = "Does FlashAttention reduce the memory use of transformer training?"


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    threads = args.threads or default_threads()
    server = LlamaServer(args.port, threads=threads, n_ctx=args.ctx)
    print(f"starting llama.cpp with {server.model.name} ({threads} thread(s)) …", flush=True)
    server.start()
    print(
        f"serving {MODEL_ALIAS} at {server.base_url} (Ctrl-C stops it)\n"
        f"use it with: sovereign --preset local-llm …  or  "
        f"SOVEREIGN_LLM_BASE_URL={server.base_url} SOVEREIGN_LLM_MODEL={MODEL_ALIAS}",
        flush=True,
    )

    def _terminate(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # run the finally below: never orphan the server

    signal.signal(signal.SIGTERM, _terminate)
    try:
        assert server.process is not None
        return int(server.process.wait())
    finally:
        server.stop()


def _check(args: argparse.Namespace, settings: Settings) -> int:
    config = settings.llm_config()
    llm = make_llm(config)
    if llm is None:
        raise UserError(
            "no LLM configured: set SOVEREIGN_LLM_BASE_URL (or use --preset local-llm / nim / "
            "openai)"
        )
    started = time.monotonic()
    result: dict[str, Any] = {
        "base_url": llm.base_url,
        "model": llm.model,
        "json_mode": llm.json_mode,
        "key": "set" if config.api_key is not None else "none",
    }
    try:
        plan = llm.structured("planner", QueryPlan, {"question": CHECK_QUESTION, "num_queries": 2})
        result["structured_output"] = "parsed"
        result["queries"] = [q.text for q in plan.queries]
    except LLMReplyError as exc:  # reachable, but the model's answer did not parse
        result["structured_output"] = f"did not parse ({exc}); agents will fall back"
    result["json_mode_used"] = llm.json_mode  # may have been downgraded by the server
    result["seconds"] = round(time.monotonic() - started, 2)
    result["usage"] = {k: v for k, v in llm.usage.snapshot().items() if k != "by_role"}
    print(json.dumps(result, indent=2))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("llm", help="local LLM server and endpoint check")
    sub = parser.add_subparsers(dest="llm_command", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="run llama.cpp's OpenAI-compatible server on loopback")
    serve.add_argument("--port", type=port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    serve.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="generation threads (default: 1 when busy)",
    )
    serve.add_argument("--ctx", type=positive_int, default=8192, help="context window in tokens")
    serve.set_defaults(func=_serve)
    check = sub.add_parser("check", help="one structured call to the configured LLM endpoint")
    check.set_defaults(func=_check)
