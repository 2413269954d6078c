"""Full-text passages in vector memory: one record per paragraph with its location, replaced
as a set per source, never re-embedded when unchanged, and untouched by paper re-indexing.
The same behaviour holds for the in-process TF-IDF stand-in the graph tests use."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.embeddings import HashingEmbedder
from memory.fulltext.model import FullTextPassage
from memory.lexical import LexicalMemory
from memory.models import Paper
from memory.vector_store import VectorMemory

PAPER = Paper(
    arxiv_id="2212.11808",
    title="Fast retrosynthesis",
    abstract="We propose a retrosynthesis model. It is fast.",
)


def passage(pid: str, text: str, location: str = "§4 Results") -> FullTextPassage:
    return FullTextPassage(paper_id=PAPER.arxiv_id, paragraph_id=pid, location=location, text=text)


BODY = [
    passage("p0", "Retrosynthesis predicts reactants from a product molecule.", "§1 Introduction"),
    passage("p7", "LocalRetro reaches 53.4% top-1 accuracy on USPTO-50K in our runs."),
    passage("p8", "Our model reaches 55.1% top-1 accuracy on USPTO-50K, 1.7 points more."),
]


@pytest.fixture
def memory(tmp_path: Path) -> VectorMemory:
    return VectorMemory(HashingEmbedder(), path=tmp_path / "chroma")


def test_passages_are_stored_with_location_and_found_by_kind(memory: VectorMemory) -> None:
    memory.upsert_papers([PAPER])
    stats = memory.upsert_passages(PAPER.arxiv_id, 1, PAPER.title, BODY)
    assert (stats.embedded, stats.unchanged, stats.removed) == (3, 0, 0)
    hits = memory.query("top-1 accuracy USPTO-50K", k=2, kind="passage")
    assert {h.passage_id for h in hits} <= {"p7", "p8"}
    assert all(h.location == "§4 Results" and h.source_id == PAPER.arxiv_id for h in hits)
    assert all(h.sentence_index is None for h in hits)
    # passages are not abstract sentences
    assert all(h.passage_id is None for h in memory.query("accuracy", k=5, kind="sentence"))


def test_re_upsert_is_idempotent_and_a_new_set_replaces_the_old(memory: VectorMemory) -> None:
    memory.upsert_passages(PAPER.arxiv_id, 1, PAPER.title, BODY)
    again = memory.upsert_passages(PAPER.arxiv_id, 1, PAPER.title, BODY)
    assert (again.embedded, again.unchanged, again.removed) == (0, 3, 0)
    changed = [BODY[0], passage("p8", "Our model reaches 56.0% top-1 accuracy on USPTO-50K.")]
    stats = memory.upsert_passages(PAPER.arxiv_id, 1, PAPER.title, changed)
    assert (stats.embedded, stats.unchanged, stats.removed) == (1, 1, 1)
    ids = {h.passage_id for h in memory.query("accuracy", k=10, kind="passage")}
    assert ids == {"p0", "p8"}


def test_reindexing_the_paper_keeps_its_passages(memory: VectorMemory) -> None:
    memory.upsert_papers([PAPER])
    memory.upsert_passages(PAPER.arxiv_id, 1, PAPER.title, BODY)
    memory.upsert_papers([PAPER])
    assert len(memory.query("accuracy", k=10, kind="passage")) == 3


def test_lexical_stand_in_answers_passage_queries_the_same_way() -> None:
    lexical = LexicalMemory()
    lexical.upsert_papers([PAPER])
    lexical.upsert_passages(PAPER.arxiv_id, 1, PAPER.title, BODY)
    hits = lexical.query("top-1 accuracy USPTO-50K", k=2, kind="passage")
    assert {h.passage_id for h in hits} == {"p7", "p8"}
    assert hits[0].location == "§4 Results"
    assert lexical.query("accuracy", k=3, kind="passage", exclude_sources=[PAPER.arxiv_id]) == []
