"""VectorMemory on embedded Chroma. The same test functions run against a `chroma run` server in
tests/integration/test_vector_server.py, which only swaps the `make_memory` fixture."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from memory import vector_store
from memory.embeddings import HashingEmbedder
from memory.errors import ServiceUnavailable, UserError
from memory.models import Paper
from memory.vector_store import Document, VectorMemory

MakeMemory = Callable[..., VectorMemory]


@pytest.fixture
def make_memory(tmp_path: Path) -> MakeMemory:
    """Opens (or reopens) this test's store; extra kwargs go to VectorMemory."""

    def make(embedder: Any = None, **kw: Any) -> VectorMemory:
        return VectorMemory(embedder or HashingEmbedder(), path=tmp_path / "chroma", **kw)

    return make


class FailingEmbedder(HashingEmbedder):
    """Embeds `ok_calls` batches, then fails like an endpoint going down."""

    def __init__(self, ok_calls: int) -> None:
        super().__init__()
        self.ok_calls = ok_calls

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        if self.calls >= self.ok_calls:
            raise ServiceUnavailable("embedding endpoint down")
        return super().embed_passages(texts)


def papers() -> list[Paper]:
    return [
        Paper(
            arxiv_id="2401.00001",
            title="Graph neural networks for molecules",
            abstract="We train graph neural networks on molecules. "
            "They predict solubility better than fingerprints. Code is public.",
            categories=["cs.LG", "q-bio.BM"],
        ),
        Paper(
            arxiv_id="2401.00002",
            version=2,
            title="Attention for translation",
            abstract="Self attention replaces recurrence in translation. "
            "BLEU improves on English German news.",
            categories=["cs.CL"],
        ),
        Paper(
            arxiv_id="2401.00003",
            title="Molecules again",
            abstract="Graph neural networks predict molecular solubility. "
            "We report a new benchmark.",
            categories=["cs.LG"],
        ),
    ]


def test_upsert_and_query_sentences(make_memory: MakeMemory) -> None:
    mem = make_memory()
    stats = mem.upsert_papers(papers())
    assert (stats.documents, stats.sentences, stats.embedded, stats.unchanged) == (3, 7, 10, 0)
    assert mem.count() == {"papers": 3, "sentences": 7, "total": 10}
    hits = mem.query("graph neural networks predict solubility of molecules", k=3)
    assert len(hits) == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    top = hits[0]
    assert top.sentence_index is not None
    assert top.text == papers()[int(top.source_id[-1]) - 1].sentences()[top.sentence_index]
    assert top.source_id in {"2401.00001", "2401.00003"}
    assert top.categories and all(c.startswith(("cs.", "q-bio.")) for c in top.categories)
    assert top.year == 2024
    assert -1.0 <= hits[-1].score <= top.score <= 1.0 + 1e-6


def test_paper_records_carry_title_and_whole_abstract(make_memory: MakeMemory) -> None:
    mem = make_memory()
    mem.upsert_papers(papers())
    (hit,) = mem.query("attention translation", k=1, kind="paper")
    assert hit.id == "2401.00002v2" and hit.version == 2 and hit.sentence_index is None
    assert hit.text == papers()[1].abstract and hit.title == "Attention for translation"
    assert hit.categories == ["cs.CL"]


def test_upsert_is_idempotent_and_does_not_embed_again(make_memory: MakeMemory) -> None:
    emb = HashingEmbedder()
    mem = make_memory(emb)
    mem.upsert_papers(papers())
    embedded_once = emb.texts_embedded
    again = mem.upsert_papers(papers())
    assert again.embedded == 0 and again.unchanged == 10 and again.removed == 0
    assert emb.texts_embedded == embedded_once
    assert mem.count()["total"] == 10


def test_changed_text_reembeds_only_what_changed(make_memory: MakeMemory) -> None:
    emb = HashingEmbedder()
    mem = make_memory(emb)
    mem.upsert_papers(papers())
    edited = papers()
    edited[0] = edited[0].model_copy(
        update={"abstract": "We train graph neural networks on molecules. Code is public."}
    )
    stats = mem.upsert_papers(edited)
    # paper record + sentence 1 changed; old sentence 2 vanished and is removed
    assert stats.embedded == 2 and stats.removed == 1
    assert mem.get_sentences("2401.00001") == [
        "We train graph neural networks on molecules.",
        "Code is public.",
    ]


def test_newer_version_replaces_older_and_older_is_ignored(make_memory: MakeMemory) -> None:
    mem = make_memory()
    mem.upsert_papers(papers())
    v3 = papers()[1].model_copy(
        update={"version": 3, "abstract": "Self attention replaces recurrence. It is fast."}
    )
    stats = mem.upsert_papers([v3])
    assert stats.removed == 3  # v2 paper + its two sentences
    assert mem.get_sentences("2401.00002v3") == [
        "Self attention replaces recurrence.",
        "It is fast.",
    ]
    paper = mem.get_paper("2401.00002")
    assert paper is not None and paper.version == 3
    stale = mem.upsert_papers([papers()[1]])  # v2 again, after v3
    assert stale.superseded == 1 and stale.embedded == 0
    assert {h.version for h in mem.query("attention", k=10) if h.source_id == "2401.00002"} == {3}


def test_exclusion_and_restriction_filters(make_memory: MakeMemory) -> None:
    mem = make_memory()
    mem.upsert_papers(papers())
    text = papers()[0].sentences()[1]
    assert mem.query(text, k=1)[0].source_id == "2401.00001"
    excluded = mem.query(text, k=10, exclude_sources=["2401.00001v1"])
    assert excluded and all(h.source_id != "2401.00001" for h in excluded)
    only = mem.query(text, k=10, restrict_to=["2401.00002", "2401.00003"])
    assert only and {h.source_id for h in only} <= {"2401.00002", "2401.00003"}
    both = mem.query(text, k=10, restrict_to=["2401.00003"], exclude_sources=["2401.00003"])
    assert both == []
    papers_only = mem.query(text, k=10, kind="paper", exclude_sources=["2401.00001"])
    assert {h.source_id for h in papers_only} == {"2401.00002", "2401.00003"}


def test_query_many_equals_single_queries(make_memory: MakeMemory) -> None:
    mem = make_memory()
    mem.upsert_papers(papers())
    texts = ["solubility of molecules", "translation BLEU news"]
    many = mem.query_many(texts, k=2, exclude_sources=["2401.00003"])
    singles = [mem.query(t, k=2, exclude_sources=["2401.00003"]) for t in texts]
    assert [[h.id for h in hs] for hs in many] == [[h.id for h in hs] for hs in singles]
    assert mem.query_many([], k=2) == []


def test_documents_keep_given_sentence_indices(make_memory: MakeMemory) -> None:
    mem = make_memory()
    sentences = ["Mice lacking Foxp3 develop autoimmunity, cf. Fig. 2.", "Treg cells suppress it."]
    mem.upsert_documents([Document(id="4983", title="Tregs", sentences=sentences, year=2010)])
    assert mem.get_sentences("4983") == sentences
    hit = mem.query("Treg cells suppress autoimmunity", k=1, restrict_to=["4983"])[0]
    assert hit.sentence_index == 1 and hit.year == 2010


def test_store_reopens_with_its_records(make_memory: MakeMemory) -> None:
    make_memory().upsert_papers(papers())
    again = make_memory()
    assert again.count() == {"papers": 3, "sentences": 7, "total": 10}
    assert again.get_sentences("2401.00003") == papers()[2].sentences()


def test_models_get_separate_collections_and_mismatch_is_an_error(
    make_memory: MakeMemory,
) -> None:
    a = make_memory(HashingEmbedder(dim=256))
    a.upsert_papers(papers())
    b = make_memory(HashingEmbedder(dim=64))
    assert b.collection_name != a.collection_name and b.count()["total"] == 0
    with pytest.raises(UserError, match="holds 256-d vectors"):
        make_memory(HashingEmbedder(dim=64), collection=a.collection_name)


def test_bad_input_writes_nothing(make_memory: MakeMemory) -> None:
    mem = make_memory()
    bad = [*papers(), Paper(arxiv_id="2401.00009", title=" ", abstract="")]
    with pytest.raises(UserError, match="2401.00009"):
        mem.upsert_papers(bad)
    with pytest.raises(UserError, match="sentence 1 is empty"):
        mem.upsert_documents([Document(id="d", title="t", sentences=["fine.", "  "])])
    with pytest.raises(UserError, match="empty text"):
        mem.query("   ")
    assert mem.count()["total"] == 0


def test_failed_embedding_midway_writes_nothing(
    make_memory: MakeMemory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_store, "EMBED_CHUNK", 3)
    mem = make_memory(FailingEmbedder(ok_calls=2))
    with pytest.raises(ServiceUnavailable, match="endpoint down"):
        mem.upsert_papers(papers())  # 10 texts: batches 1 and 2 embed, batch 3 fails
    assert mem.count()["total"] == 0


def test_get_sentences_of_unknown_source_is_empty(make_memory: MakeMemory) -> None:
    mem = make_memory()
    assert mem.get_sentences("9999.99999") == [] and mem.get_paper("9999.99999") is None


class TruncatingEmbedder(HashingEmbedder):
    """Counts texts over 40 characters as cut, like the local model past 256 tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.truncated = 0

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        self.truncated += sum(len(t) > 40 for t in texts)
        return super().embed_passages(texts)


def test_truncation_is_reported_and_text_kept_whole(make_memory: MakeMemory) -> None:
    mem = make_memory(TruncatingEmbedder())
    stats = mem.upsert_papers(papers()[:1])
    assert stats.truncated == 3  # the paper text and two sentences longer than 40 characters
    assert mem.get_sentences("2401.00001") == papers()[0].sentences()


def test_empty_store_and_ids_that_look_versioned(make_memory: MakeMemory) -> None:
    mem = make_memory()
    assert mem.query("anything at all", k=3) == []
    mem.upsert_documents([Document(id="run_v1", title="t", sentences=["Alpha beta."])])
    assert mem.get_sentences("run_v1") == ["Alpha beta."]
    assert mem.query("alpha", k=3, exclude_sources=["run_v1"]) == []
    assert [h.source_id for h in mem.query("alpha", k=3, restrict_to=["run_v1"])] == ["run_v1"]
