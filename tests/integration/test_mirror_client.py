"""ArxivSearch against a real HTTP peer: the embedded mirror (daemon thread), a socket that
never answers (timeout), and a 400 that must not be retried."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from memory.arxiv_client import ArxivSearch, QueryRejected
from memory.errors import ServiceUnavailable
from memory.mirror.ingest import ingest
from memory.mirror.server import MirrorHandle, start_background

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mirror"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirrorHandle]:
    db = tmp_path_factory.mktemp("mirror") / "m.db"
    ingest(db, [FIXTURES / "listing_small.jsonl", FIXTURES / "bulk_v2.jsonl"], progress=False)
    handle = start_background(db)
    yield handle
    handle.close()


def test_search_returns_papers_with_provenance(mirror: MirrorHandle) -> None:
    client = ArxivSearch(mirror.query_url, delay_s=0, timeout_s=10)
    papers = client.search('all:"mixture of experts" AND all:routing', max_results=5)
    assert [p.arxiv_id for p in papers][:1] == ["2501.00001"]
    top = papers[0]
    assert top.title == "Sparse Mixture of Experts with Learned Routing"
    assert top.query == 'all:"mixture of experts" AND all:routing'
    assert top.retrieved_at is not None
    assert top.categories == ["cs.LG", "cs.AI"] and top.primary_category == "cs.LG"
    assert top.authors == ["Alice Zhang", "Bob Müller"] and top.comment == "12 pages"


def test_fetch_with_and_without_versions_and_unknown_ids(mirror: MirrorHandle) -> None:
    client = ArxivSearch(mirror.query_url, delay_s=0, timeout_s=10)
    papers = client.fetch(["2504.00008", "0704.0001v2", "2999.00001", "junk"])
    assert [(p.arxiv_id, p.version) for p in papers] == [("2504.00008", 1), ("0704.0001", 2)]
    physics = papers[1]
    assert physics.journal_ref == "Phys.Rev.D76:013009,2007"
    assert physics.doi == "10.1103/PhysRevD.76.013009"
    assert physics.published is not None and physics.published.year == 2007
    assert client.fetch(["2999.00001"]) == []


def test_malformed_query_is_rejected_once_without_retries(
    mirror: MirrorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real_query = mirror.server.index.query

    def counting(*args: object, **kw: object) -> object:
        calls.append(kw)
        return real_query(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(mirror.server.index, "query", counting)
    client = ArxivSearch(mirror.query_url, delay_s=0, timeout_s=10, num_retries=3)
    with pytest.raises(QueryRejected, match="unbalanced parentheses"):
        client.search("ti:(routing", max_results=5)
    assert len(calls) == 1


def test_parallel_searches_share_one_limiter(mirror: MirrorHandle) -> None:
    client = ArxivSearch(mirror.query_url, delay_s=0, timeout_s=10, page_size=2)
    waits = []
    real_wait = client.limiter.wait

    def counting_wait() -> float:
        waits.append(threading.get_ident())
        return real_wait()

    client.limiter.wait = counting_wait  # type: ignore[method-assign]
    queries = ["cat:cs.LG", "cat:cs.CL", "all:models", "au:wang"]
    results: dict[str, int] = {}

    def run(q: str) -> None:
        results[q] = len(client.search(q, max_results=4))

    threads = [threading.Thread(target=run, args=(q,)) for q in queries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(n > 0 for n in results.values()) and len(results) == 4
    # every page request of every thread went through the one limiter (page_size 2 -> paging)
    assert len(waits) > len(queries) and len(set(waits)) == len(queries)


def test_silent_peer_times_out_as_service_unavailable() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepts TCP connections, never answers
        port = listener.getsockname()[1]
        client = ArxivSearch(
            f"http://127.0.0.1:{port}/api/query", delay_s=0, timeout_s=0.5, num_retries=0
        )
        with pytest.raises(ServiceUnavailable, match="did not answer within 0.5 s"):
            client.search("all:x", max_results=1)


def test_connections_are_pooled_not_kept_per_server_thread(mirror: MirrorHandle) -> None:
    index = mirror.server.index
    # earlier tests in this module may have run parallel searches, leaving that many pooled
    before = max(len(index._idle), 1)
    for _ in range(12):  # a fresh ArxivSearch per call: new TCP connection, new server thread
        ArxivSearch(mirror.query_url, delay_s=0, timeout_s=10).search("cat:cs.LG", max_results=2)
    assert 1 <= len(index._idle) <= before + 1
