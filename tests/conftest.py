"""Shared fixtures: where the real data lives, a free loopback port, an isolated SOVEREIGN_HOME."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SOVEREIGN_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_file(rel: str) -> Path:
    """Path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / rel
    if not path.exists():
        pytest.skip(f"shared data {path} is absent (set SOVEREIGN_SHARED_DATA)")
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


def get_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def free_port() -> int:
    return get_free_port()


@pytest.fixture
def sovereign_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SOVEREIGN_HOME so no test sees another's state."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SOVEREIGN_HOME", str(home))
    return home
