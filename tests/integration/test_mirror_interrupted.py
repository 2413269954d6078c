"""Issue 18.10: an ingest killed with SIGKILL is cleaned up or resumed by the next run, which
says so in one line: no stale `.partial` from a first ingest, and FTS5's bulk-load settings of
a re-ingest restored (by the next ingest, or already by the next server start)."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memory.errors import UserError
from memory.mirror import db as mirror_db
from memory.mirror import interrupted
from memory.mirror.ingest import ingest
from memory.mirror.search import MirrorIndex
from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mirror"
RESTORED = {"automerge": 4, "crisismerge": 16, "hashsize": mirror_db.DEFAULT_HASH_BYTES}


def _big_input(path: Path, n: int = 60_000) -> Path:
    """n listing records: enough that an ingest is still running when it is killed."""
    template = json.loads((FIXTURES / "listing_small.jsonl").read_text().splitlines()[0])
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            rec = dict(template, id=f"2601.{i + 1:05d}", title=f"Paper {i} on routing")
            fh.write(json.dumps(rec) + "\n")
    return path


def _fts_config(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT k, v FROM papers_fts_config").fetchall()
    finally:
        conn.close()
    return {k: int(v) for k, v in rows if k in RESTORED}


def _kill_ingest_when(source: Path, db: Path, ready: object) -> None:
    """Run `sovereign mirror ingest` in a child and SIGKILL it once ready() holds."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "graph.cli", "mirror", "ingest", str(source), "--db", str(db)]
    proc = subprocess.Popen([*cmd, "--quiet"], cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    try:
        while not ready():  # type: ignore[operator]
            if proc.poll() is not None:
                pytest.fail(f"the ingest ended (exit {proc.returncode}) before it was killed")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()


def _bulk_loading(db: Path) -> bool:
    try:
        return _fts_config(db).get("automerge") == 0
    except sqlite3.Error:
        return False  # busy: look again


def test_killed_first_ingest_leaves_nothing_after_the_next_run(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    partial = tmp_path / "m.db.partial"
    source = _big_input(tmp_path / "big.jsonl")
    _kill_ingest_when(source, db, lambda: partial.exists() and partial.stat().st_size > 1e6)
    assert partial.exists() and not db.exists()  # what the kill left
    done = run_cli("mirror", "ingest", str(FIXTURES / "listing_small.jsonl"), "--db", str(db))
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "m.db.partial" in line]
    assert len(said) == 1 and "left by an interrupted first ingest" in said[0], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl", "m.db"]
    assert "ingested 12 records" in done.stdout


def test_killed_reingest_is_recovered_by_the_next_ingest(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    ingest(db, [FIXTURES / "listing_small.jsonl"], progress=False)
    _kill_ingest_when(_big_input(tmp_path / "big.jsonl"), db, lambda: _bulk_loading(db))
    assert _fts_config(db)["automerge"] == 0  # the kill left bulk-load settings
    again = run_cli("mirror", "ingest", str(FIXTURES / "bulk_v1.jsonl"), "--db", str(db))
    assert again.returncode == 0, again.stderr
    said = [line for line in again.stderr.splitlines() if "interrupted ingest" in line]
    assert len(said) == 1 and "bulk-load settings: restored them" in said[0], again.stderr
    assert _fts_config(db) == RESTORED


def test_killed_reingest_is_recovered_by_the_next_server_start(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    ingest(db, [FIXTURES / "listing_small.jsonl"], progress=False)
    _kill_ingest_when(_big_input(tmp_path / "big.jsonl"), db, lambda: _bulk_loading(db))
    index = MirrorIndex(db)
    try:
        assert index.recovered is not None and "interrupted ingest" in index.recovered
        assert index.query(search_query="all:routing").total >= 1
    finally:
        index.close()
    assert _fts_config(db) == RESTORED


def test_failed_update_restores_the_settings_at_once(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    ingest(db, [FIXTURES / "listing_small.jsonl"], progress=False)
    whole = gzip.compress((FIXTURES / "listing_small.jsonl").read_bytes())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises((EOFError, OSError)):
        ingest(db, [cut], progress=False, batch_size=1, parse_process=False)
    assert _fts_config(db) == RESTORED


def test_a_running_ingest_is_not_taken_for_a_killed_one(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    ingest(db, [FIXTURES / "listing_small.jsonl"], progress=False)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        token = f"{other.pid}:{interrupted._start_time(other.pid)}"
        conn = mirror_db.connect(db)
        mirror_db.begin_bulk_load(conn, token)
        conn.close()
        with pytest.raises(UserError, match=f"process {other.pid}.* is writing to"):
            ingest(db, [FIXTURES / "bulk_v1.jsonl"], progress=False)
        index = MirrorIndex(db)  # a server start leaves a running ingest alone
        assert index.recovered is None
        index.close()
        assert _fts_config(db)["automerge"] == 0
    finally:
        other.kill()
        other.wait()
    assert interrupted.recover_quietly(db) is not None  # once it is gone, it is recovered
    assert _fts_config(db) == RESTORED


def test_a_partial_being_written_is_not_removed(tmp_path: Path) -> None:
    partial = tmp_path / "m.db.partial"
    writer = sqlite3.connect(partial, isolation_level=None)
    writer.execute("CREATE TABLE t(x)")
    writer.execute("BEGIN EXCLUSIVE")  # what a live first ingest holds while it commits
    try:
        with pytest.raises(UserError, match="another ingest is building"):
            interrupted.clear_partial(partial)
        assert partial.exists()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert "left by an interrupted first ingest" in (interrupted.clear_partial(partial) or "")
    assert not partial.exists()
