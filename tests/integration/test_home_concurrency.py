"""Many processes on one SOVEREIGN_HOME (issue 18, item 1): four `sovereign research` runs at
once over one home must leave the embedded Chroma memory exactly as four runs one after
another do, every record's vector readable. Before the home lock, processes writing the same
embedded Chroma lost vectors ("Error finding id") and every later search failed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from memory import homelock
from tests.conftest import REPO, run_cli, shared_file

pytestmark = pytest.mark.integration

QUESTIONS = (
    "How do mixture-of-experts vision-language models route tokens to experts?",
    "Does retrieval augmentation reduce hallucination in large language models?",
    "How well do diffusion models generate images from text prompts?",
    "Do vision transformers outperform convolutional networks on image classification?",
)


WRITER = """
import random, sys, time
from pathlib import Path
from memory.embeddings import HashingEmbedder
from memory.vector_store import Document, VectorMemory
path, me = Path(sys.argv[1]), int(sys.argv[2])
rng = random.Random(me)
mem = VectorMemory(HashingEmbedder(), path=path)
for r in range(3):  # several writes with pauses, as a run indexes round after round
    mem.upsert_documents([
        Document(id=f"p{me}-{r}-{i}", title=f"paper {me} {r} {i}",
                 sentences=[f"sentence {j} of paper {me} {r} {i}" for j in range(5)])
        for i in range(60)
    ])
    time.sleep(rng.random() * 0.3)
"""


def _env(home: Path, mirror_db: Path) -> dict[str, str]:
    env = {**os.environ, "SOVEREIGN_HOME": str(home), "SOVEREIGN_MIRROR_DB": str(mirror_db)}
    env.update({"SOVEREIGN_VERIFIER": "tfidf", "SOVEREIGN_ARXIV_MODE": "mirror"})
    for name in ("SOVEREIGN_NODE_DELAY", "SOVEREIGN_HOME_WAIT_S", "SOVEREIGN_CHROMA_URL"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def mirror_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real 5,000-paper arXiv sample, ingested once for every home of this module."""
    sample = shared_file("arxiv/arxiv_cs_daily_sample_5000.jsonl")
    db = tmp_path_factory.mktemp("mirror") / "mirror.db"
    home = db.parent / "ingest-home"
    done = run_cli("mirror", "ingest", str(sample), env=_env(home, db))
    assert done.returncode == 0, done.stderr
    return db


def _research(home: Path, mirror_db: Path, i: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "research", QUESTIONS[i], "--run-id", f"r{i}",
         "--no-owner-review"],
        cwd=REPO, env=_env(home, mirror_db), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _records(home: Path) -> dict[str, Any]:
    """Every record of the home's memory with its kind, read back with its vector (a record
    whose vector is lost makes Chroma raise), and a search over the whole index."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    store = home / "chroma"
    with homelock.Held(store, wait_s=0):  # the runs are over: nobody else may hold it
        settings = ChromaSettings(anonymized_telemetry=False)
        client: Any = chromadb.PersistentClient(str(store), settings)
        try:
            (listed,) = client.list_collections()
            col: Any = client.get_collection(listed.name)
            ids = col.get(include=[])["ids"]
            kinds: dict[str, str] = {}
            for start in range(0, len(ids), 200):
                got = col.get(ids=ids[start : start + 200], include=["embeddings", "metadatas"])
                for rid, vec, meta in zip(
                    got["ids"], got["embeddings"], got["metadatas"], strict=True
                ):
                    assert vec is not None and len(vec) == col.metadata["dim"], rid
                    kinds[rid] = str(meta["kind"])
            hits = col.query(query_embeddings=[list(got["embeddings"][0])], n_results=len(ids))
            assert len(hits["ids"][0]) > 0.9 * len(ids)  # HNSW is approximate, not lossy
        finally:
            client.close()
    return kinds


def test_four_runs_at_once_match_four_in_a_row(mirror_db: Path, tmp_path: Path) -> None:
    control = tmp_path / "control"
    for i in range(len(QUESTIONS)):
        proc = _research(control, mirror_db, i)
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, out + err
        assert "home busy" not in err
    expected = _records(control)
    assert len(expected) > 500, "too few records to exercise concurrent writers"

    home = tmp_path / "home"
    home.mkdir()
    # hold the home until all four reach their first write, so all four contend for it
    homelock.acquire(home / "chroma")
    procs = [_research(home, mirror_db, i) for i in range(len(QUESTIONS))]
    try:
        for proc in procs:
            assert proc.stderr is not None
            for line in proc.stderr:  # progress lines until the run meets the lock
                if line.startswith("home busy:"):
                    assert f"pid {os.getpid()}" in line
                    break
            else:
                pytest.fail(f"run exited before it waited for the home: {proc.communicate()}")
    finally:
        homelock.release(home / "chroma")
    results = [proc.communicate(timeout=900) for proc in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, out + err
    got = _records(home)
    assert sorted(got) == sorted(expected)
    assert got == expected  # same kind for every id: papers, sentences
    search = run_cli("memory", "search", "expert routing", env=_env(home, mirror_db))
    assert search.returncode == 0 and search.stdout.strip(), search.stderr


def test_four_writers_at_once_lose_no_vector(tmp_path: Path) -> None:
    """The same failure without the research pipeline around it: four processes writing the
    embedded store of one home in rounds. Without the lock this lost most vectors here."""
    store = tmp_path / "home" / "chroma"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SOVEREIGN_HOME_WAIT_S", None)
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(store), str(me)], cwd=REPO, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for me in range(4)
    ]  # fmt: skip
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, out + err
    kinds = _records(tmp_path / "home")
    assert len(kinds) == 4 * 3 * 60 * 6  # each paper: its record and five sentences
    assert sum(k == "paper" for k in kinds.values()) == 4 * 3 * 60
