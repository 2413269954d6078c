"""Issue 17 acceptance: a published report, a later paper ingested into the mirror that
contradicts one of its claims, and `sovereign watch --once`: exactly one correction, the
version bumped (tier and level re-derived), the site page rebuilt; a second `--once` changes
nothing; a watch SIGKILLed mid-way and restarted reaches the same end state.

The contradiction is real (tests/watch_fixtures.py): the shipped verifier reads the later
paper and answers CONTRADICT; nothing in the fixture sets a status."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
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


def _setup(tmp_path: Path, c1_verified: bool = False) -> tuple[Path, str]:
    """A published report (its claim C1 not verified by any source, or with `c1_verified`
    supported by 2605.00002), then the later paper ingested into the mirror with
    `sovereign mirror ingest`."""
    home = tmp_path / "home"
    home.mkdir(parents=True)
    rec = _publish(tmp_path, home, c1_verified)
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


def _version_markdown(home: Path, report_id: str, version: int) -> str:
    with sqlite3.connect(home / "publications.sqlite") as conn:
        row = conn.execute(
            "SELECT markdown FROM versions WHERE report_id=? AND version=?", (report_id, version)
        ).fetchone()
    return str(row[0])


def test_the_new_versions_report_md_says_what_changed(tmp_path: Path) -> None:
    """Version 2's report.md (store and site download) carries a Corrections entry with the
    claim, before -> after, the evidence quote, paper, location and correction id; version
    1's text is unchanged; the manifest hashes the amended text."""
    home, report_id = _setup(tmp_path)
    published = store_for(home / "publications.sqlite").get(report_id).markdown
    assert published is not None and "Corrections" not in published
    _watch(home, "--once", "--site", str(home / "site"))
    rep = store_for(home / "publications.sqlite").get(report_id)
    md = rep.markdown
    assert md is not None and md.startswith(published.rstrip("\n"))
    assert "\n## Corrections\n" in md
    assert (
        "correction #1, claim C1: unverified → contradicted. Evidence: arXiv 2607.01234v1 "
        '(SMoES revisited: latency of soft expert routing): "We re-run SMoES and find that '
        'SMoES increases TTFT by 4% on MMMU." (Abstract).'
    ) in md
    assert rep.corrections[0]["at"] in md
    assert _version_markdown(home, report_id, 1) == published  # never edited in place
    assert _version_markdown(home, report_id, 2) == md
    site_md = next((home / "site" / "reports").rglob("report.md")).read_text(encoding="utf-8")
    assert site_md == md
    artifact = next(a for a in rep.manifest["artifacts"] if a["name"] == "report.md")
    assert artifact["sha256"] == hashlib.sha256(md.encode("utf-8")).hexdigest()


def test_a_later_contradiction_of_a_verified_claim_is_recorded_and_notified(
    tmp_path: Path,
) -> None:
    """C1 stays verified (2605.00002 supports it; any support decides), yet the later paper
    contradicts it: one correction naming both sides, a new version, a notification in
    `review list` and `watch --status`, a `watch.contested` structlog event; once only."""
    home, report_id = _setup(tmp_path, c1_verified=True)
    log = tmp_path / "watch.jsonl"
    done = _watch(home, "--once", "--site", str(home / "site"), log=log)
    assert "0 claim status change(s) in 1 report(s), 1 verified claim(s) contested" in done.stderr
    after = end_state(home, report_id)
    assert after["version"] == 2 and after["claims"]["C1"] == "verified"
    [(who, kind, what, why)] = after["corrections"]
    assert (who, kind, what) == (WATCH, "correction", "claim C1 (mirror#1)")
    assert why.startswith(
        f"claim C1 of {report_id} is now contested: verified by 2605.00002, contradicted by "
        "later paper arXiv 2607.01234v1 (SMoES revisited: latency of soft expert routing): "
    )
    assert '"We re-run SMoES and find that SMoES increases TTFT by 4% on MMMU." (Abstract)' in why
    rep = store_for(home / "publications.sqlite").get(report_id)
    c1 = next(c for c in rep.provenance["claims"] if c["claim_id"] == "C1")
    assert ("2607.01234", "CONTRADICT") in {(e["doc_id"], e["label"]) for e in c1["evidence"]}
    assert "correction #1, claim C1: verified, now contested" in after["markdown"]
    assert after["page_says_contradicted"]  # the site page lists the correction
    records = [json.loads(line) for line in log.read_text().splitlines()]
    contested = [r for r in records if r["event"] == "watch.contested"]
    assert [(r["claim"], r["supported_by"], r["paper"]) for r in contested] == [
        ("C1", ["2605.00002"], "2607.01234v1")
    ]
    listed = run_cli("review", "list", env=_env(home)).stdout
    assert f"{report_id}  notification  correction #1 claim C1 (mirror#1): claim C1 of" in listed
    assert "pending notifications: 1" in _watch(home, "--status").stdout
    _watch(home, "--once", "--site", str(home / "site"))
    assert end_state(home, report_id) == after


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


@pytest.fixture(scope="module")
def uninterrupted_contested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same for a verified claim the later paper contests."""
    home, report_id = _setup(tmp_path_factory.mktemp("contested"), c1_verified=True)
    _watch(home, "--once", "--site", str(home / "site"))
    return end_state(home, report_id)


@pytest.mark.parametrize("c1_verified", [False, True], ids=["status-change", "contested"])
@pytest.mark.parametrize("point", ["after_correction", "after_version", "before_commit"])
def test_sigkill_then_restart_reaches_the_same_end_state(
    tmp_path: Path,
    point: str,
    c1_verified: bool,
    uninterrupted: dict[str, Any],
    uninterrupted_contested: dict[str, Any],
) -> None:
    home, report_id = _setup(tmp_path, c1_verified)
    _killed_at(home, point)
    killed = store_for(home / "publications.sqlite").get(report_id)
    assert (len(killed.corrections), killed.version) == KILLED_WITH[point]
    assert SqliteOffsets(home / "publications.sqlite").get("watch", "mirror") == 0
    _watch(home, "--once", "--site", str(home / "site"))
    assert end_state(home, report_id) == (uninterrupted_contested if c1_verified else uninterrupted)


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
