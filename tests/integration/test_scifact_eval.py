"""`sovereign eval scifact` and `train-verifier` end to end on a slice of the real SciFact data,
plus the hybrid retriever over a real (hash-embedded) vector memory."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from agents.verification.evaluate import corpus_namespace, dense_search, index_corpus
from agents.verification.retrieval import HybridRetriever
from agents.verification.scifact import load_claims, load_corpus
from tests.conftest import run_cli, shared_file

pytestmark = pytest.mark.integration


def _slice(tmp_path: Path, n_claims: int = 60, n_extra: int = 300) -> tuple[Path, Path]:
    claims_src = shared_file("scifact/claims_train.jsonl")
    corpus_src = shared_file("scifact/corpus.jsonl")
    rows = [json.loads(line) for line in claims_src.read_text().splitlines()[:n_claims]]
    wanted = {str(d) for r in rows for d in r["cited_doc_ids"]} | {
        d for r in rows for d in r["evidence"]
    }
    docs = []
    for i, line in enumerate(corpus_src.read_text().splitlines()):
        doc = json.loads(line)
        if str(doc["doc_id"]) in wanted or i < n_extra:
            docs.append(line)
    claims_p, corpus_p = tmp_path / "claims.jsonl", tmp_path / "corpus.jsonl"
    claims_p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    corpus_p.write_text("\n".join(docs) + "\n")
    return claims_p, corpus_p


def _sovereign(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("--home", str(home), *args)


def test_eval_scifact_cli_scores_both_verifiers(tmp_path: Path, sovereign_home: Path) -> None:
    claims_p, corpus_p = _slice(tmp_path)
    out = tmp_path / "result.json"
    proc = _sovereign(
        "eval", "scifact", "--claims", str(claims_p), "--corpus", str(corpus_p),
        "--retriever", "bm25", "--json", str(out), home=sovereign_home,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "abstract:label_only F" in proc.stdout and "recall@3" in proc.stdout
    res = {r["verifier"]: r for r in json.loads(out.read_text())}
    assert set(res) == {"tfidf", "default"}
    for r in res.values():
        assert r["n_claims"] == 60
        assert 0.0 <= r["metrics"]["abstract:label_only"]["f1"] <= 1.0
        assert 0.0 <= r["ece"] <= 1.0
        assert all(len(docs) == 3 for docs in r["predictions"].values())
    labels = {p["label"] for docs in res["tfidf"]["predictions"].values() for p in docs.values()}
    assert "CONTRADICT" not in labels


def test_eval_rejects_bad_input_in_one_line(tmp_path: Path, sovereign_home: Path) -> None:
    proc = _sovereign("eval", "scifact", "--claims", str(tmp_path / "none.jsonl"),
                      "--corpus", str(tmp_path / "none.jsonl"), home=sovereign_home)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "not found" in proc.stderr
    proc = _sovereign("eval", "scifact", "--verifier", "nope", home=sovereign_home)
    assert proc.returncode == 2 and "choose one of default, llm-judge, tfidf" in proc.stderr


def test_train_verifier_builds_a_loadable_artifact(tmp_path: Path, sovereign_home: Path) -> None:
    claims_p, corpus_p = _slice(tmp_path, n_claims=200, n_extra=100)
    art = tmp_path / "v.joblib"
    args = ("eval", "train-verifier", "--claims", str(claims_p), "--corpus", str(corpus_p),
            "--output", str(art))  # fmt: skip
    # the stance head's cross-fitted fold heads are trained on the fly for any claims file
    proc = _sovereign(*args, home=sovereign_home)
    assert proc.returncode == 0, proc.stderr
    from agents.verification import get_verifier
    from memory.models import EvidenceDoc

    v = get_verifier("default", path=art)
    assert [d["kind"] for d in v.pair_models] == ["head"] and v.decisive_head is not None
    out = v.verify("Anything at all.", [EvidenceDoc(doc_id="x", sentences=["A sentence."])])
    assert len(out) == 1 and out[0].doc_id == "x"
    assert art.stat().st_size < 1_000_000


def test_hybrid_retrieval_over_vector_memory(tmp_path: Path) -> None:
    from memory.embeddings import HashingEmbedder
    from memory.vector_store import VectorMemory

    claims_p, corpus_p = _slice(tmp_path, n_claims=20, n_extra=50)
    corpus = load_corpus(corpus_p)
    claims = [c for c in load_claims(claims_p) if c.evidence]
    memory = VectorMemory(HashingEmbedder(), path=tmp_path / "chroma", namespace="scifact")
    index_corpus(memory, corpus, say=lambda _m: None)
    assert memory.count()["papers"] == len(corpus)
    index_corpus(memory, corpus, say=lambda _m: None)  # second run: nothing re-embedded
    hybrid = HybridRetriever(corpus, dense=dense_search(memory))
    for c in claims[:5]:
        hits = hybrid.search(c.claim, 5)
        assert len({h.doc_id for h in hits}) == len(hits) == 5
        assert any(h.dense_rank is not None for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_second_corpus_in_the_same_home_gets_its_own_namespace(
    tmp_path: Path, sovereign_home: Path
) -> None:
    """SciFact then another corpus, hybrid retrieval, one home: each corpus is indexed in its
    own vector-memory namespace, so dense hits are always ids of the corpus being evaluated
    (with one shared namespace the second run looked up the first corpus's ids: KeyError)."""
    (tmp_path / "a").mkdir()
    first_c, first = _slice(tmp_path / "a", n_claims=8, n_extra=20)
    rows = [json.loads(line) for line in first.read_text().splitlines()]
    other = tmp_path / "other.jsonl"  # the same claims against renamed, fewer abstracts
    other.write_text("\n".join(json.dumps({**r, "doc_id": f"x{r['doc_id']}"}) for r in rows[:15]))
    assert corpus_namespace(load_corpus(first)) != corpus_namespace(load_corpus(other))
    for corpus in (first, other, first):
        proc = _sovereign(
            "eval", "scifact", "--claims", str(first_c), "--corpus", str(corpus),
            "--verifier", "tfidf", "--retriever", "hybrid", home=sovereign_home,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "recall@3" in proc.stdout


def test_dense_search_keeps_to_its_corpus(tmp_path: Path) -> None:
    from memory.embeddings import HashingEmbedder
    from memory.vector_store import VectorMemory

    _, corpus_p = _slice(tmp_path, n_claims=5, n_extra=30)
    corpus = load_corpus(corpus_p)
    memory = VectorMemory(HashingEmbedder(), path=tmp_path / "chroma", namespace="shared")
    index_corpus(memory, corpus, say=lambda _m: None)
    half = dict(list(corpus.items())[: len(corpus) // 2])
    hits = dense_search(memory, half)("a claim about cells", 20)
    assert hits and {h[0] for h in hits} <= set(half)
