"""What the watch tests share (tests/integration/test_watch.py on one home,
tests/integration/test_watch_shared.py on two homes over one PostgreSQL log): a published
report whose claim C1 no source confirmed, the later paper that contradicts it (a real
contradiction: its abstract says SMoES *increases* TTFT on MMMU, the shipped verifier reads it
and answers CONTRADICT), and running the CLI on a home."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from memory.publication import PublicationRecord, record_run, store_for
from memory.run import RunRecord
from tests.conftest import REPO, run_cli
from tests.pub_samples import sample_state

LATER_PAPER = {
    "id": "2607.01234",
    "title": "SMoES revisited: latency of soft expert routing",
    "summary": "We reproduce SMoES on three benchmarks. We re-run SMoES and find that SMoES "
    "increases TTFT by 4% on MMMU.",
    "authors": ["C. Reviewer"],
    "categories": ["cs.CL"],
    "listing_date": "2026-07-15",
}


def home_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The home's environment (no shared database unless `extra` names one)."""
    env = {**os.environ, "SOVEREIGN_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("SOVEREIGN_WATCH_PAUSE_AT", None)
    env.pop("SOVEREIGN_DATABASE_URL", None)
    return {**env, **(extra or {})}


def publish(tmp_path: Path, home: Path, c1_verified: bool = False) -> PublicationRecord:
    """The published report: C1 (SMoES's own TTFT result) was not confirmed by another
    source (`c1_verified`: 2605.00002 supports it); C2 and C3 were."""
    state = sample_state(tmp_path)  # AUTO_APPROVE: published directly
    if not c1_verified:
        state["verifications"][0] = sample_state(tmp_path, verified=0)["verifications"][0]
    rec = record_run(RunRecord.from_state(state), home / "publications.sqlite")
    assert rec.status == "published" and rec.version == 1
    return rec


def ingest_later_paper(tmp_path: Path, home: Path) -> None:
    """The later paper into the home's mirror with `sovereign mirror ingest`."""
    feed = tmp_path / "later.jsonl"
    feed.write_text(json.dumps(LATER_PAPER) + "\n", encoding="utf-8")
    done = run_cli("mirror", "ingest", str(feed), env=home_env(home))
    assert done.returncode == 0, done.stderr


def watch(
    home: Path, *args: str, log: Path | None = None, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    logging = ("--log-file", str(log)) if log else ()
    done = run_cli(*logging, "watch", *args, env=home_env(home, extra))
    assert done.returncode == 0, done.stderr
    return done


def end_state(home: Path, report_id: str, key: str = "mirror#1") -> dict[str, Any]:
    """What the watch changed, without the wall-clock times of its writes; `key` is the event
    the correction names."""
    rep = store_for(home / "publications.sqlite").get(report_id)
    page = next((home / "site" / "reports").glob("*.html")).read_text(encoding="utf-8")
    return {
        "version": rep.version,
        "status": rep.status,
        "corrections": [(c["who"], c["kind"], c["what"], c["why"]) for c in rep.corrections],
        # the artifacts' hashes cover the later paper's retrieval time (its ingest's time)
        "manifest": {**rep.manifest, "submitted_at": None, "artifacts": None},
        "sources": [{**s, "retrieved_at": None} for s in rep.provenance["sources"]],
        "claims": {c["claim_id"]: c["status"] for c in rep.provenance["claims"]},
        "page_says_contradicted": "contradicted" in page and f"claim C1 ({key})" in page,
        # the amended report.md, without its corrections' wall-clock times
        "markdown": re.sub(r"(?m)^- [^,]+, correction #", "- AT, correction #", rep.markdown or ""),
    }
