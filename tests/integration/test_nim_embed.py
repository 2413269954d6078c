"""The NIM backend against a local HTTP server that speaks NIM's embeddings protocol
(OpenAI-style /v1/embeddings plus `input_type` and `truncate`)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memory.embeddings import get_embedder
from memory.embeddings.nim import NIMEmbedder
from memory.errors import ServiceUnavailable, UserError
from memory.vector_store import Document, VectorMemory

pytestmark = pytest.mark.integration
KEY = "nvapi-test-key"


class FakeNIM:
    """Scriptable NIM: `script` holds (status, headers) answers to give before succeeding."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self.dim = 1024
        self.lock = threading.Lock()

    def vector(self, text: str, input_type: str) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(f"{input_type}|{text}".encode()).digest()[:4], "big")
        # not unit length on purpose: the client must normalise
        return (np.random.default_rng(seed).normal(size=self.dim) * 3.0).tolist()


@pytest.fixture
def nim(free_port: int) -> Iterator[tuple[FakeNIM, str]]:
    state = FakeNIM()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def answer(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.requests.append(body)
                scripted = state.script.pop(0) if state.script else None
            if self.path != "/v1/embeddings":
                return self.answer(404, {"error": {"message": "no such route"}}, {})
            if self.headers.get("Authorization") != f"Bearer {KEY}":
                return self.answer(401, {"error": {"message": "Unauthorized"}}, {})
            if scripted is not None and scripted[0] != 200:  # (200, {}) means "answer normally"
                return self.answer(scripted[0], {"error": {"message": "busy"}}, scripted[1])
            if body.get("input_type") not in ("passage", "query") or body.get("truncate") != "END":
                return self.answer(400, {"error": {"message": "input_type is required"}}, {})
            data = [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": state.vector(t, body["input_type"]),
                }
                for i, t in enumerate(body["input"])
            ]
            data.reverse()  # index, not position, says which text a vector belongs to
            self.answer(
                200,
                {"object": "list", "data": data, "model": body["model"], "usage": {}},
                {},
            )

    server = ThreadingHTTPServer(("127.0.0.1", free_port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{free_port}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_passages_and_queries_retry_after_429(nim: tuple[FakeNIM, str]) -> None:
    state, url = nim
    state.script = [(429, {"Retry-After": "1"})]
    emb = get_embedder("nim", nim_base_url=url, nim_api_key=KEY, batch_size=2)
    assert isinstance(emb, NIMEmbedder) and emb.dim == 1024
    texts = [f"passage {i} about embeddings" for i in range(5)]
    vecs = np.asarray(emb.embed_passages(texts))
    assert vecs.shape == (5, 1024)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0)
    assert emb.retries == 1 and len(state.requests) == 4  # 429, then 3 batches of <= 2
    assert [len(r["input"]) for r in state.requests[1:]] == [2, 2, 1]
    assert {r["input_type"] for r in state.requests} == {"passage"}
    expected = np.asarray(state.vector(texts[3], "passage"))
    assert np.allclose(vecs[3], expected / np.linalg.norm(expected))
    (q,) = emb.embed_queries([texts[0]])
    assert state.requests[-1]["input_type"] == "query"
    assert state.requests[-1]["model"] == "nvidia/nv-embedqa-e5-v5"
    assert not np.allclose(q, vecs[0])  # asymmetric model: the query path is its own


def test_retry_after_is_honoured_and_5xx_retried(nim: tuple[FakeNIM, str]) -> None:
    state, url = nim
    state.script = [(503, {"Retry-After": "7"}), (429, {"retry-after-ms": "250"})]
    slept: list[float] = []
    emb = NIMEmbedder(base_url=url, api_key=KEY, rpm=600_000, sleep=slept.append)
    assert len(emb.embed_passages(["x"])) == 1
    assert [s for s in slept if s > 0.01] == [7.0, 0.25] and emb.retries == 2  # not pacing


def test_persistent_failure_is_service_unavailable(nim: tuple[FakeNIM, str]) -> None:
    state, url = nim
    state.script = [(500, {})] * 3
    emb = NIMEmbedder(base_url=url, api_key=KEY, max_attempts=3, sleep=lambda s: None)
    with pytest.raises(ServiceUnavailable, match="after 3 attempts"):
        emb.embed_passages(["x"])


def test_wrong_key_is_one_clear_error(nim: tuple[FakeNIM, str]) -> None:
    _, url = nim
    emb = NIMEmbedder(base_url=url, api_key="wrong", sleep=lambda s: None)
    with pytest.raises(UserError, match="rejected the API key"):
        emb.embed_queries(["x"])


def test_wrong_dimension_is_refused(nim: tuple[FakeNIM, str]) -> None:
    state, url = nim
    state.dim = 768
    emb = NIMEmbedder(base_url=url, api_key=KEY)
    with pytest.raises(ServiceUnavailable, match="768-d vectors .* expected 1024"):
        emb.embed_passages(["x"])


def test_endpoint_down(free_port: int) -> None:
    emb = NIMEmbedder(
        base_url=f"http://127.0.0.1:{free_port}/v1",
        api_key=KEY,
        max_attempts=2,
        sleep=lambda s: None,
        timeout_s=2,
    )
    with pytest.raises(ServiceUnavailable, match="APIConnectionError"):
        emb.embed_passages(["x"])


def test_vector_memory_on_nim_and_no_partial_write(
    nim: tuple[FakeNIM, str], tmp_path: Path
) -> None:
    state, url = nim
    emb = NIMEmbedder(base_url=url, api_key=KEY, max_attempts=1, batch_size=2)
    mem = VectorMemory(emb, path=tmp_path)
    assert "nv-embedqa-e5-v5__1024" in mem.collection_name
    docs = [
        Document(id=f"d{i}", title=f"T{i}", sentences=[f"s{i} a.", f"s{i} b."]) for i in range(3)
    ]
    state.script = [(200, {}), (503, {})]  # batch 1 embeds, batch 2 of 5 fails
    with pytest.raises(ServiceUnavailable):
        mem.upsert_documents(docs)
    assert mem.count()["total"] == 0
    stats = mem.upsert_documents(docs)
    assert stats.embedded == 9 and mem.count()["total"] == 9
    hit = mem.query("s1 b.", k=1)[0]
    assert state.requests[-1]["input_type"] == "query"
    assert hit.source_id in {"d0", "d1", "d2"}
