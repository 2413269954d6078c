"""Chroma-specific behaviour of the embedded store: registered embedding function, a server that
is down, settings wiring."""

from __future__ import annotations

from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from memory.embeddings import HashingEmbedder
from memory.errors import ServiceUnavailable
from memory.vector_store import Document, VectorMemory


def test_collection_reopens_through_the_registered_embedding_function(tmp_path: Path) -> None:
    mem = VectorMemory(HashingEmbedder(), path=tmp_path)
    mem.upsert_documents([Document(id="d1", title="Graphs", sentences=["Graph networks work."])])
    client = chromadb.PersistentClient(
        path=str(tmp_path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    col = client.get_collection(mem.collection_name)  # no embedding function passed
    ef = col.configuration["embedding_function"]
    assert ef is not None and ef.name() == "sovereign"
    assert ef.get_config()["model_id"] == "sovereign/hashing-bow-256"
    assert col.metadata["dim"] == 256
    # Chroma embeds the query itself through the function rebuilt from the stored config
    res = col.query(query_texts=["graph networks"], n_results=1, where={"kind": "sentence"})
    assert res["ids"] == [["d1v1#s0"]]


def test_server_down_is_service_unavailable(free_port: int) -> None:
    with pytest.raises(ServiceUnavailable, match=f"127.0.0.1:{free_port}"):
        VectorMemory(HashingEmbedder(), url=f"http://127.0.0.1:{free_port}")


def test_from_settings_uses_home_chroma(sovereign_home: Path) -> None:
    from graph.settings import load_settings

    mem = VectorMemory.from_settings(load_settings(), HashingEmbedder())
    assert mem.location == str(sovereign_home / "chroma")
    assert (sovereign_home / "chroma").is_dir()
