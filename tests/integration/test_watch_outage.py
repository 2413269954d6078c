"""A long-running `sovereign watch` on a shared PostgreSQL event log outlives the server going
away: it says so in one line, keeps trying with growing waits, and once the server is back
it consumes what arrived meanwhile (a paper ingested while the database was down, held in the
home's local log) and corrects the published report exactly once. It used to exit at the
first lost connection, leaving every published report unwatched until someone restarted it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, require_component
from tests.postgres import Cluster
from tests.watch_fixtures import end_state, home_env, ingest_later_paper, publish

pytestmark = pytest.mark.integration


def _wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], within_s: float) -> str:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        seen = log.read_text(encoding="utf-8") if log.exists() else ""
        if text in seen:
            return seen
        assert proc.poll() is None, f"the watch exited ({proc.returncode}):\n{seen[-3000:]}"
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} within {within_s} s:\n{seen[-3000:]}")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    c = Cluster()
    try:
        c.start()
    except RuntimeError as exc:
        require_component("a working PostgreSQL server", str(exc).splitlines()[0])
    yield c
    c.stop()


def test_a_running_watch_outlives_a_lost_database(tmp_path: Path, cluster: Cluster) -> None:
    home = tmp_path / "home"
    home.mkdir()
    report_id = publish(tmp_path, home).report_id
    env = home_env(home, {"SOVEREIGN_DATABASE_URL": cluster.new_database()})
    log = tmp_path / "watch.err"
    site = str(home / "site")
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "graph.cli", "watch", "--interval", "1", "--site", site],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    try:
        _wait_for(log, "watch: relayed", proc, within_s=120)  # its first drain
        cluster.halt()
        _wait_for(log, "retrying in 1 s", proc, within_s=60)
        ingest_later_paper(tmp_path, home)  # into the home's local log while the server is down
        _wait_for(log, "retrying in 2 s", proc, within_s=60)  # waits grow
        cluster.resume()
        seen = _wait_for(log, "1 claim status change(s)", proc, within_s=180)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0
    assert "Traceback" not in seen
    lost = [line for line in seen.splitlines() if "retrying in" in line]
    assert "shared event log" in lost[0] or "PostgreSQL" in lost[0], lost[0]
    after = end_state(home, report_id)
    assert len(after["corrections"]) == 1  # exactly once, though drains were cut short
    assert after["claims"]["C1"] == "contradicted" and after["version"] == 2


def test_a_watch_that_never_reached_arxiv_ends_in_one_line(tmp_path: Path) -> None:
    """Retrying is for outages of a watch that has worked; at start, a wrong URL or a service
    that is not up is the user's to fix, so it is one line and exit 2, not an endless retry."""
    home = tmp_path / "home"
    home.mkdir()
    env = home_env(home, {"SOVEREIGN_ARXIV_URL": "http://127.0.0.1:9/api/query"})
    done = subprocess.run(
        [sys.executable, "-m", "graph.cli", "watch", "--category", "cs.CL", "--interval", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "unreachable" in done.stderr
