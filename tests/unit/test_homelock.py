"""One process at a time owns a home's embedded vector memory (memory.homelock): a second
process waits with one line naming the holder, or fails at once when told not to wait; the
lock is re-entrant across threads of one process and released when its holder is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from memory import homelock
from memory.errors import UserError
from tests.conftest import REPO, run_cli

HOLD = """
import sys, time
from memory import homelock
homelock.set_label("run holder-run")
homelock.acquire(__import__("pathlib").Path(sys.argv[1]))
print("held", flush=True)
sys.stdin.read()
"""

TRY = (  # take the lock without waiting, then exit (releasing it)
    "import sys, pathlib; from memory import homelock; "
    "homelock.acquire(pathlib.Path(sys.argv[1]), wait_s=0)"
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock of tmp_path/home/chroma until killed."""
    store = tmp_path / "home" / "chroma"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_no_wait_names_the_holder(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    store = tmp_path / "home" / "chroma"
    with pytest.raises(UserError) as err:
        homelock.acquire(store, wait_s=0)
    line = str(err.value)
    assert "home busy" in line and "run holder-run" in line and f"pid {holder.pid}" in line
    assert "\n" not in line
    assert not homelock.held_here(store)


def test_timeout_gives_up_with_one_line(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    said: list[str] = []
    with pytest.raises(UserError, match="still holds"):
        homelock.acquire(tmp_path / "home" / "chroma", wait_s=0.5, say=said.append)
    assert len(said) == 1 and said[0].startswith("home busy: run holder-run")


def test_waiter_gets_the_home_when_the_holder_is_killed(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    store = tmp_path / "home" / "chroma"
    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        if line.startswith("home busy"):
            os.kill(holder.pid, signal.SIGKILL)  # a crashed run must not keep the home

    homelock.acquire(store, wait_s=60, say=say)
    try:
        assert homelock.held_here(store)
        assert said[0].startswith("home busy") and said[-1].startswith("home free")
        assert f'"pid": {os.getpid()}' in homelock.lock_path_for(store).read_text()
    finally:
        homelock.release(store)


def test_reentrant_across_threads_and_released_by_the_last(tmp_path: Path) -> None:
    store = tmp_path / "home" / "chroma"
    homelock.acquire(store, wait_s=0)
    errors: list[BaseException] = []

    def second() -> None:  # another thread of the same process (a worker's run)
        try:
            homelock.acquire(store, wait_s=0)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t = threading.Thread(target=second)
    t.start()
    t.join()
    assert errors == []
    homelock.release(store)
    assert homelock.held_here(store)  # one acquisition still open
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    probe = [sys.executable, "-c", TRY, str(store)]
    busy = subprocess.run(probe, capture_output=True, text=True, env=env, cwd=REPO)
    assert busy.returncode != 0 and "home busy" in busy.stderr
    homelock.release(store)
    assert not homelock.held_here(store)
    free = subprocess.run(probe, capture_output=True, text=True, env=env, cwd=REPO)
    assert free.returncode == 0, free.stderr


def test_memory_search_on_a_busy_home_fails_with_one_line(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    """A read-only command opens the client too, so it waits as well; --no-wait: one line."""
    env = {**os.environ, "SOVEREIGN_HOME": str(tmp_path / "home")}
    done = run_cli("--no-wait", "memory", "search", "expert routing", env=env, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sovereign: home busy: run holder-run")
    assert f"pid {holder.pid}" in lines[0] and "Traceback" not in done.stderr
