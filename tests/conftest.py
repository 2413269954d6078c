"""Shared fixtures: where the real data lives, a free loopback port, an isolated SOVEREIGN_HOME;
how tests find the components `.ci/install` provides (fail under CI, skip elsewhere); the test
summary `.ci/run` prints (counts and skip reasons)."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest

REPO = Path(__file__).resolve().parents[1]
# A test run started in the background by a non-interactive shell (`bash .ci/run &`) inherits
# SIGINT ignored, and so would every server a test starts: Ctrl-C (SIGINT) could then never
# stop `mirror serve`. A handler here is reset to the default in each child at exec, where
# Python turns it into KeyboardInterrupt again, as in a user's terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
SHARED_DATA = Path(os.environ.get("SOVEREIGN_SHARED_DATA", REPO.parent / "shared" / "data"))


def in_ci() -> bool:
    """CI=true (or 1/yes): every component `.ci/install` provides must be there."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_component(name: str, reason: str) -> NoReturn:
    """`name` is missing: under CI the test fails with one line (CI promised to provide it),
    elsewhere it skips with the same line."""
    message = f"{name} is missing: {reason}"
    if in_ci():
        pytest.fail(f"{message} [CI=true: .ci/install must provide it]", pytrace=False)
    pytest.skip(message)


def console_script(*names: str, hint: str) -> str:
    """The first of `names` found the way users run it: beside sys.executable (a venv that is
    not activated), then on PATH; none found: require_component with `hint` (how to get it)."""
    here = Path(sys.executable).parent  # not resolved: a venv's python is a symlink
    for beside in (here / name for name in names):
        if beside.is_file() and os.access(beside, os.X_OK):
            return str(beside)
    for found in map(shutil.which, names):
        if found is not None:
            return found
    require_component(" / ".join(names), f"not beside {sys.executable} nor on PATH ({hint})")


def import_component(module: str, hint: str) -> ModuleType:
    """importlib.import_module(module), or require_component(module, hint)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        require_component(module, f"{exc} ({hint})")


def shared_file(rel: str) -> Path:
    """Path under ../shared/data; absent: require_component (CI lays ../shared beside the clone)."""
    path = SHARED_DATA / rel
    if not path.exists():
        require_component("shared data", f"{path} is absent (clone beside ../shared, or set "
                          "SOVEREIGN_SHARED_DATA)")  # fmt: skip
    return path


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`sovereign ARGS` in a subprocess from the repo root, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        cwd=REPO,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def read_events(path: Path) -> list[dict[str, Any]]:
    """The JSON transcript events of an events.jsonl (none when it was never written)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def kill_at_node(proc: subprocess.Popen[Any], log: Path, node: str, within_s: float = 180) -> None:
    """SIGKILL `proc` once its transcript `log` shows `node` started (the process must still
    be running then, and the node must start within `within_s`)."""
    deadline = time.monotonic() + within_s
    while not any(e["event"] == "node_start" and e["node"] == node for e in read_events(log)):
        assert proc.poll() is None, f"the process ended before {node} started"
        assert time.monotonic() < deadline, f"{node} never started"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def get_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def free_port() -> int:
    return get_free_port()


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start scripted OpenAI-compatible servers (`serve(script)`); all stop at teardown."""
    from agents.llm.scripted_server import ScriptedOpenAIServer

    started: list[ScriptedOpenAIServer] = []

    def _serve(script: Any) -> ScriptedOpenAIServer:
        started.append(ScriptedOpenAIServer(script).start())
        return started[-1]

    yield _serve
    for srv in started:
        srv.stop()


@pytest.fixture
def sovereign_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SOVEREIGN_HOME so no test sees another's state."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SOVEREIGN_HOME", str(home))
    return home


SUMMARY_KEYS = ("passed", "skipped", "failed", "error", "xfailed", "xpassed", "deselected")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """With SOVEREIGN_TEST_SUMMARY=FILE (.ci/run sets it): write the counts and every skip
    reason there, so the end of the CI log says what was not exercised."""
    target = os.environ.get("SOVEREIGN_TEST_SUMMARY")
    if not target:
        return
    stats = terminalreporter.stats
    counts = {key: len(stats.get(key, [])) for key in SUMMARY_KEYS}
    shown = [f"{n} {'errors' if key == 'error' else key}" for key, n in counts.items()
             if n or key in SUMMARY_KEYS[:4]]  # fmt: skip
    reasons: Counter[str] = Counter()
    for report in stats.get("skipped", []):
        longrepr = report.longrepr
        reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr)
        test_file = report.nodeid.split("::")[0]
        reasons[f"{test_file}: {reason.removeprefix('Skipped: ')}"] += 1
    none = "" if reasons else " none"
    lines = ["tests: " + ", ".join(shown), f"skipped (not exercised):{none}"]
    lines += [f"  [{n}] {reason}" for reason, n in sorted(reasons.items())]
    for key in ("failed", "error"):
        for report in stats.get(key, []):
            crash = getattr(report.longrepr, "reprcrash", None)
            first = (crash.message if crash else str(report.longrepr)).strip().splitlines()
            lines.append(f"{key.upper()} {report.nodeid} - {(first or [''])[0][:200]}")
    Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")
