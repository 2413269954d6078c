"""Issue 18.4: one abstract over the embedding limit (50,000 characters) used to raise in the
embedder and halt `index_memory` for every question that retrieved it. It is now embedded from
its first 50,000 characters (counted as truncated) and stored whole."""

from __future__ import annotations

from pathlib import Path

from memory.embeddings import MAX_TEXT_CHARS, HashingEmbedder
from memory.models import Paper
from memory.vector_store import VectorMemory

FILLER = "Appendix table of hyper-parameters for every ablation we ran. "


def giant_paper() -> Paper:
    body = FILLER * (MAX_TEXT_CHARS // len(FILLER) + 200)  # about 62,000 characters, one field
    abstract = f"FlexMoE reaches 78.4% accuracy on MMMU. {body}The end of the dump."
    return Paper(arxiv_id="2601.09999", title="FlexMoE, the whole PDF", abstract=abstract)


def test_an_over_long_abstract_is_indexed_and_stored_whole(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    memory = VectorMemory(embedder, path=tmp_path / "chroma")
    paper = giant_paper()
    assert len(paper.abstract) > MAX_TEXT_CHARS
    stats = memory.upsert_papers([paper, Paper(arxiv_id="2601.00002", title="t", abstract="a b")])
    assert stats.documents == 2 and stats.truncated >= 1
    stored = memory.get_paper("2601.09999")
    assert stored is not None and stored.text.endswith("The end of the dump.")
    assert len(stored.text) == len(paper.abstract)
    hits = memory.query("FlexMoE MMMU accuracy hyper-parameters ablation", k=1)
    assert hits[0].source_id == "2601.09999"


def test_a_long_query_is_embedded_too() -> None:
    vectors = HashingEmbedder().embed_queries(["accuracy " * (MAX_TEXT_CHARS // 4)])
    assert len(vectors) == 1 and any(vectors[0])
