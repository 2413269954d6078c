"""`langgraph dev` loads the graph from langgraph.json (offline, free port) and a client drives
it with langgraph_sdk: create a thread, stream a run node by node, read the final state."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import console_script, get_free_port, run_cli

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "graph" / "mirror_small.jsonl"
QUANT_Q = (
    "How much does 4-bit quantization of experts cut memory in Mixture-of-Experts inference, "
    "and what happens to MMLU accuracy?"
)

pytestmark = pytest.mark.integration


def _langgraph_bin() -> str:
    return console_script("langgraph", hint="langgraph-cli comes with pip install -e '.[dev]'")


def test_langgraph_dev_streams_a_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "SOVEREIGN_HOME": str(home),
        "SOVEREIGN_VERIFIER": "tfidf",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    }
    env.pop("SOVEREIGN_NODE_DELAY", None)
    ingest = run_cli("mirror", "ingest", str(FIXTURE), env=env, timeout=120)
    assert ingest.returncode == 0, ingest.stderr
    port = get_free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [
            _langgraph_bin(),
            "dev",
            "--port",
            str(port),
            "--no-browser",
            "--no-reload",
            "--config",
            "langgraph.json",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "langgraph dev did not come up"
            time.sleep(0.5)

        from langgraph_sdk import get_sync_client

        client = get_sync_client(url=url)
        thread = client.threads.create()
        nodes: list[str] = []
        for part in client.runs.stream(
            thread["thread_id"],
            "sovereign",
            input={"question": QUANT_Q, "out_dir": str(tmp_path / "out")},
            context={"max_revisions": 0},
            stream_mode="updates",
        ):
            if part.event == "updates" and isinstance(part.data, dict):
                nodes.extend(part.data)
            assert part.event != "error", part.data
        assert nodes[0] == "resolve_paper"
        for node in ("search_arxiv", "read_source", "skeptic", "validator", "synthesizer"):
            assert node in nodes
        assert nodes[-1] == "publish"
        values = client.threads.get_state(thread["thread_id"])["values"]
        assert isinstance(values, dict)
        state: dict[str, Any] = values
        assert state["settings_used"]["max_revisions"] == 0  # Studio context reached Settings
        assert state["policy"] in ("AUTO_APPROVE", "ESCALATE_TO_OWNER")
        assert Path(state["report_path"]).exists()
        assert state["claims"] and state["target_status"] == "none_named"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
