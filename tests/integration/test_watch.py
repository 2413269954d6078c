"""Issue 17 acceptance: a published report, a later paper ingested into the mirror that
contradicts one of its claims, and `sovereign watch --once`: exactly one correction, the
version bumped (tier and level re-derived), the site page rebuilt; a second `--once` changes
nothing; a watch SIGKILLed mid-way and restarted reaches the same end state.

The contradiction is real (tests/watch_fixtures.py): the shipped verifier reads the later
paper and answers CONTRADICT; nothing in the fixture sets a status."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from memory.events import SqliteEventLog, SqliteOffsets
from memory.publication import store_for
from memory.publication.notices import WATCH
from tests.conftest import REPO, run_cli
from tests.watch_fixtures import LATER_PAPER, end_state, ingest_later_paper
from tests.watch_fixtures import home_env as _env
from tests.watch_fixtures import publish as _publish
from tests.watch_fixtures import watch as _watch

pytestmark = pytest.mark.integration


def _setup(tmp_path: Path) -> tuple[Path, str]:
    """A published report (its claim C1 not verified by any source), then the later paper
    ingested into the mirror with `sovereign mirror ingest`."""
    home = tmp_path / "home"
    home.mkdir(parents=True)
    rec = _publish(tmp_path, home)
    ingest_later_paper(tmp_path, home)
    return home, rec.report_id


def test_watch_once_corrects_the_contradicted_claim_once(tmp_path: Path) -> None:
    home, report_id = _setup(tmp_path)
    before = store_for(home / "publications.sqlite").get(report_id)
    log = tmp_path / "watch.jsonl"
    _watch(home, "--once", "--site", str(home / "site"), log=log)
    after = end_state(home, report_id)
    assert after["version"] == before.version + 1
    assert len(after["corrections"]) == 1
    who, kind, what, why = after["corrections"][0]
    assert (who, kind, what) == (WATCH, "correction", "claim C1 (mirror#1)")
    assert "2607.01234v1" in why and "unverified -> contradicted" in why
    assert "SMoES increases TTFT by 4% on MMMU" in why  # the verifier's rationale sentence
    assert after["claims"] == {"C1": "contradicted", "C2": "verified", "C3": "verified"}
    assert after["manifest"]["counts"]["contradicted"] == 1
    old_q, new_q = before.manifest["quality"], after["manifest"]["quality"]
    # re-derived: a contradicted claim keeps the report out of the top tier and level
    assert (old_q["tier"], new_q["tier"]) == ("Source-grounded", "Reviewed synthesis")
    assert old_q["verification_level"]["code"] != new_q["verification_level"]["code"]
    assert after["page_says_contradicted"]
    # one structlog event per consumed event: 1 mirror event, 4 publication events
    consumed = [json.loads(line) for line in log.read_text().splitlines()]
    consumed = [e for e in consumed if e["event"] == "watch.event"]
    assert [(e["log"], e["cursor"]) for e in consumed] == [
        ("mirror", 1),
        *(("publication", i) for i in range(1, 5)),
    ]
    assert any(json.loads(x)["event"] == "watch.notification" for x in log.read_text().splitlines())
    listed = run_cli("review", "list", env=_env(home)).stdout
    assert f"{report_id}  notification  correction #1 claim C1 (mirror#1)" in listed
    status = _watch(home, "--status").stdout
    assert "mirror: cursor 1, head 1, lag 0" in status and "pending notifications: 1" in status

    page = next((home / "site" / "reports").glob("*.html"))
    stamp = page.stat().st_mtime_ns
    _watch(home, "--once", "--site", str(home / "site"))
    assert end_state(home, report_id) == after  # a second drain changes nothing
    assert page.stat().st_mtime_ns == stamp


def _killed_at(home: Path, point: str) -> None:
    """Start `watch --once` paused at `point`, SIGKILL it there."""
    env = {**_env(home), "SOVEREIGN_WATCH_PAUSE_AT": f"{point}:120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "watch", "--once", "--site", str(home / "site")],
        cwd=REPO, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    deadline = time.monotonic() + 240
    for line in proc.stderr:
        if f"paused at {point}" in line:
            break
        if time.monotonic() > deadline:
            break
    assert proc.poll() is None, f"watch ended before reaching {point}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()


# what the killed watch had written: (corrections, version); no offset was committed yet
KILLED_WITH = {"after_correction": (1, 1), "after_version": (1, 2), "before_commit": (1, 2)}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The end state of one watch that ran undisturbed."""
    home, report_id = _setup(tmp_path_factory.mktemp("reference"))
    _watch(home, "--once", "--site", str(home / "site"))
    return end_state(home, report_id)


@pytest.mark.parametrize("point", ["after_correction", "after_version", "before_commit"])
def test_sigkill_then_restart_reaches_the_same_end_state(
    tmp_path: Path, point: str, uninterrupted: dict[str, Any]
) -> None:
    home, report_id = _setup(tmp_path)
    _killed_at(home, point)
    killed = store_for(home / "publications.sqlite").get(report_id)
    assert (len(killed.corrections), killed.version) == KILLED_WITH[point]
    assert SqliteOffsets(home / "publications.sqlite").get("watch", "mirror") == 0
    _watch(home, "--once", "--site", str(home / "site"))
    assert end_state(home, report_id) == uninterrupted


def test_online_polling_brings_the_newest_submissions_to_the_watch(tmp_path: Path) -> None:
    """`--category` polls arXiv's newest submissions (here the mirror's HTTP stand-in speaking
    the arXiv API) into the local mirror; the polled later paper then corrects the report."""
    from memory.mirror.ingest import ingest
    from memory.mirror.server import start_background

    upstream = tmp_path / "arxiv.db"
    feed = tmp_path / "newest.jsonl"
    feed.write_text(json.dumps(LATER_PAPER) + "\n", encoding="utf-8")
    fixtures = REPO / "tests" / "fixtures" / "mirror" / "listing_small.jsonl"
    ingest(upstream, [fixtures, feed], progress=False)
    home = tmp_path / "home"
    report_id = _publish(tmp_path, home).report_id
    handle = start_background(upstream)
    try:
        env = {**_env(home), "SOVEREIGN_ARXIV_ONLINE_URL": handle.query_url,
               "SOVEREIGN_ARXIV_DELAY_S": "0"}  # fmt: skip
        done = run_cli("watch", "--once", "--category", "cs.CL", "--max-results", "3", env=env)
    finally:
        handle.close()
    assert done.returncode == 0, done.stderr
    assert "new or updated paper(s) from arXiv's newest submissions" in done.stderr
    polled = SqliteEventLog(home / "mirror.db", "mirror").read_after(0)
    assert "2607.01234" in {e.subject for e in polled} and len(polled) <= 3
    rep = store_for(home / "publications.sqlite").get(report_id)
    assert [c["what"] for c in rep.corrections] == [
        f"claim C1 (mirror#{next(e.cursor for e in polled if e.subject == '2607.01234')})"
    ]


def test_long_running_watch_picks_up_a_later_ingest_and_stops_on_sigterm(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    report_id = _publish(tmp_path, home).report_id
    proc = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "watch", "--interval", "1"],
        cwd=REPO, env=_env(home), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        assert "watch: consumed 2 event(s)" in proc.stderr.readline()  # the publication events
        feed = tmp_path / "later.jsonl"
        feed.write_text(json.dumps(LATER_PAPER) + "\n", encoding="utf-8")
        assert run_cli("mirror", "ingest", str(feed), env=_env(home)).returncode == 0
        lines = []
        for line in proc.stderr:  # one line per poll; the ingest's paper arrives in one of them
            lines.append(line)
            if "1 claim status change(s)" in line or len(lines) > 300:
                break  # (300 polls: the watch never saw the paper; fail below, do not hang)
        assert "1 claim status change(s) in 1 report(s)" in lines[-1]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert len(store_for(home / "publications.sqlite").get(report_id).corrections) == 1
