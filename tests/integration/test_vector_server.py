"""The store tests of tests/unit/test_vector_store.py, run against Chroma's own server
(`chroma run`) on a free loopback port instead of embedded Chroma."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from memory.embeddings import HashingEmbedder
from memory.vector_store import VectorMemory
from tests.conftest import console_script, get_free_port
from tests.unit.test_vector_store import (  # noqa: F401  (collected here against the server)
    MakeMemory,
    test_bad_input_writes_nothing,
    test_changed_text_reembeds_only_what_changed,
    test_documents_keep_given_sentence_indices,
    test_empty_store_and_ids_that_look_versioned,
    test_exclusion_and_restriction_filters,
    test_failed_embedding_midway_writes_nothing,
    test_get_sentences_of_unknown_source_is_empty,
    test_models_get_separate_collections_and_mismatch_is_an_error,
    test_newer_version_replaces_older_and_older_is_ignored,
    test_paper_records_carry_title_and_whole_abstract,
    test_query_many_equals_single_queries,
    test_store_reopens_with_its_records,
    test_truncation_is_reported_and_text_kept_whole,
    test_upsert_and_query_sentences,
    test_upsert_is_idempotent_and_does_not_embed_again,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = console_script("chroma", hint="installed with chromadb: pip install -e .")
    data = tmp_path_factory.mktemp("chroma-server")
    port = get_free_port()
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited: {(data / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("chroma run did not answer its heartbeat within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def make_memory(chroma_url: str) -> MakeMemory:
    """Same contract as the embedded fixture; a namespace per test keeps tests apart."""
    namespace = f"t{uuid.uuid4().hex[:10]}"

    def make(embedder: Any = None, **kw: Any) -> VectorMemory:
        kw.setdefault("namespace", namespace)
        return VectorMemory(embedder or HashingEmbedder(), url=chroma_url, **kw)

    return make


def test_server_collection_survives_a_new_client(chroma_url: str) -> None:
    first = VectorMemory(HashingEmbedder(), url=chroma_url, namespace="persist")
    from memory.vector_store import Document

    first.upsert_documents([Document(id="x1", title="T", sentences=["One.", "Two."])])
    second = VectorMemory(HashingEmbedder(), url=chroma_url, namespace="persist")
    assert second.get_sentences("x1") == ["One.", "Two."]
