"""Issue 17, scale-out: two homes (two machines) share one event log in PostgreSQL. A paper
ingested into home A's mirror reaches the watch of home B, which has no mirror at all, and
corrects the report B published: exactly one correction; rerunning both watches changes
nothing. Each watch relays its home's local logs into the shared log on every poll."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.settings import Settings
from graph.watch.shared import event_sources
from memory.events_postgres import PostgresEventLog
from memory.mirror import db
from memory.publication import store_for
from memory.publication.notices import WATCH
from tests.conftest import get_free_port, run_cli
from tests.postgres import postgres_cluster, postgres_url  # noqa: F401  (fixtures)
from tests.unit.test_events import _rec
from tests.watch_fixtures import end_state, home_env, ingest_later_paper, publish, watch

pytestmark = pytest.mark.integration


def _homes(tmp_path: Path) -> tuple[Path, Path, str]:
    """Home A holds the later paper in its mirror and publishes nothing; home B published the
    report and has no mirror."""
    home_a, home_b = tmp_path / "a", tmp_path / "b"
    home_a.mkdir()
    home_b.mkdir()
    report_id = publish(tmp_path, home_b).report_id
    ingest_later_paper(tmp_path, home_a)
    assert not (home_b / "mirror.db").exists()
    return home_a, home_b, report_id


def test_a_paper_ingested_on_a_corrects_the_report_published_on_b(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811  (the fixture imported above)
) -> None:
    home_a, home_b, report_id = _homes(tmp_path)
    url = {"SOVEREIGN_DATABASE_URL": postgres_url}
    site = ("--site", str(home_b / "site"))
    first_a = watch(home_a, "--once", extra=url)  # relays the paper event; A has no reports
    assert "relayed 1 local event(s), consumed 1 event(s): 0 claim" in first_a.stderr
    # B relays its 2 publication events, consumes them and A's paper: a correction and a
    # version in its store, whose 2 events it relays and consumes in the same drain
    first_b = watch(home_b, "--once", *site, extra=url)
    assert "relayed 4 local event(s), consumed 5 event(s): 1 claim status change(s) in 1 " \
        "report(s), site rebuilt 2 time(s)" in first_b.stderr  # fmt: skip

    after = end_state(home_b, report_id, key="shared#1")
    assert after["version"] == 2 and after["page_says_contradicted"]
    ((who, kind, what, why),) = after["corrections"]  # exactly one
    assert (who, kind, what) == (WATCH, "correction", "claim C1 (shared#1)")
    assert "2607.01234v1" in why and "unverified -> contradicted" in why
    assert "SMoES increases TTFT by 4% on MMMU" in why  # read from the relayed paper record
    assert after["claims"] == {"C1": "contradicted", "C2": "verified", "C3": "verified"}
    assert any("2607.01234" in s["id"] for s in after["sources"])

    assert "relayed 0 local" not in watch(home_a, "--once", extra=url).stderr  # B's 4 events
    for _ in range(2):  # reruns change nothing
        assert "consumed 0 event(s)" in watch(home_a, "--once", extra=url).stderr
        assert "consumed 0 event(s)" in watch(home_b, "--once", *site, extra=url).stderr
        assert end_state(home_b, report_id, key="shared#1") == after
    shared = PostgresEventLog(postgres_url, "shared")
    try:
        events = shared.read_after(0)
    finally:
        shared.close()
    assert [e.kind for e in events] == ["paper.new", "run.finished", "report.status",
                                        "report.correction", "report.version"]  # fmt: skip
    assert events[0].payload["paper"]["title"] == "SMoES revisited: latency of soft expert routing"
    assert len({e.origin for e in events}) == 2  # A's mirror, B's publication store

    status_b = watch(home_b, "--status", extra=url).stdout
    assert "shared: cursor 5, head 5, lag 0" in status_b
    assert status_b.count("lag 0") == 3  # the shared log and B's two local logs, all relayed
    assert "pending notifications: 1" in status_b
    status_a = watch(home_a, "--status", extra=url).stdout
    assert "shared: cursor 5, head 5, lag 0" in status_a  # A consumed B's events (no effect)
    assert store_for(home_a / "publications.sqlite").report_ids("published") == []


def _ingest(mirror: Path, arxiv_id: str) -> None:
    conn = db.connect(mirror, create=True)
    db.upsert(conn, [db.prepare(_rec(arxiv_id, title=f"Paper {arxiv_id}"))])
    conn.commit()
    conn.close()


def test_a_recreated_local_log_is_relayed_afresh_not_taken_as_relayed(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811  (the fixture imported above)
) -> None:
    """A rebuilt mirror numbers its events from 1 again; its new file id makes it a new
    origin, so its events are not mistaken for the old file's, already relayed."""
    settings = Settings(home=tmp_path / "a", database_url=postgres_url)
    sources = event_sources(settings)
    assert sources.relay is not None
    try:
        _ingest(settings.mirror_path, "2607.00001")
        assert (sources.relay.run(), sources.relay.run()) == (1, 0)
        for leftover in settings.mirror_path.parent.glob("mirror.db*"):
            leftover.unlink()
        _ingest(settings.mirror_path, "2607.00002")
        assert sources.relay.run() == 1
        got = sources.logs["shared"].read_after(0)
        assert [(e.cursor, e.subject) for e in got] == [(1, "2607.00001"), (2, "2607.00002")]
        assert got[1].payload["paper"]["title"] == "Paper 2607.00002"
        assert got[0].origin != got[1].origin
        assert got[0].origin.rpartition("#")[0] == got[1].origin.rpartition("#")[0]  # one place
    finally:
        sources.close()


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{get_free_port()}/nothing"
    done = run_cli("watch", "--once", env=home_env(tmp_path, {"SOVEREIGN_DATABASE_URL": url}))
    assert done.returncode == 2
    assert done.stderr.startswith("sovereign: cannot reach PostgreSQL at postgresql://")
    assert len(done.stderr.strip().splitlines()) == 1
