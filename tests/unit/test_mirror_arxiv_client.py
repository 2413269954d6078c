"""ArxivSearch without a live peer: the shared rate limiter, unreachable endpoints, and the
conversion of arxiv.Result into Paper."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import arxiv
import pytest

from memory.arxiv_client import ArxivSearch, RateLimiter, is_arxiv_id, result_to_paper
from memory.errors import ServiceUnavailable, UserError
from tests.conftest import get_free_port


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)


def test_rate_limiter_gives_each_thread_its_own_slot() -> None:
    fake = FakeClock()
    limiter = RateLimiter(3.0, clock=fake.clock, sleep=fake.sleep)
    delays: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        d = limiter.wait()
        with lock:
            delays.append(d)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # all eight arrive at the same instant: they are spread 3 s apart, none shares a slot
    assert sorted(delays) == [3.0 * i for i in range(8)]
    assert sorted(fake.slept) == [3.0 * i for i in range(1, 8)]


def test_rate_limiter_does_not_sleep_after_a_long_pause() -> None:
    fake = FakeClock()
    limiter = RateLimiter(3.0, clock=fake.clock, sleep=fake.sleep)
    assert limiter.wait() == 0.0
    fake.now += 1.0
    assert limiter.wait() == pytest.approx(2.0)
    fake.now += 60.0
    assert limiter.wait() == 0.0


def test_zero_interval_never_sleeps() -> None:
    fake = FakeClock()
    limiter = RateLimiter(0.0, clock=fake.clock, sleep=fake.sleep)
    assert [limiter.wait() for _ in range(5)] == [0.0] * 5 and fake.slept == []


def test_unreachable_endpoint_is_service_unavailable() -> None:
    port = get_free_port()  # nothing listens there
    client = ArxivSearch(f"http://127.0.0.1:{port}/api/query", delay_s=0, timeout_s=2)
    with pytest.raises(ServiceUnavailable) as info:
        client.search("all:routing", max_results=5)
    assert "unreachable" in str(info.value) and "\n" not in str(info.value)


def test_bad_arguments_are_user_errors() -> None:
    client = ArxivSearch("http://127.0.0.1:9/api/query", delay_s=0, timeout_s=1)
    with pytest.raises(UserError, match="sort_by"):
        client.search("x", 5, sort_by="random")
    with pytest.raises(UserError, match="empty"):
        client.search("  ", 5)
    assert client.search("x", 0) == []
    assert client.fetch(["not an id", "???"]) == []  # malformed ids never reach the wire


def test_id_patterns() -> None:
    assert is_arxiv_id("2311.03057") and is_arxiv_id("2311.03057v2")
    assert is_arxiv_id("hep-th/9901001") and is_arxiv_id("math.GT/0309136v1")
    assert not is_arxiv_id("2311.3057x") and not is_arxiv_id("cs.CV")


def test_result_to_paper_keeps_text_whole_and_splits_version() -> None:
    long_abstract = "First sentence.\n  Second   sentence " + "word " * 500
    result = arxiv.Result(
        entry_id="http://arxiv.org/abs/2311.03057v3",
        updated=datetime(2024, 1, 2, tzinfo=UTC),
        published=datetime(2023, 11, 6, tzinfo=UTC),
        title="GLEN:\n  Generative Retrieval",
        authors=[arxiv.Result.Author("Sunkyung Lee")],
        summary=long_abstract,
        comment="EMNLP 2023",
        journal_ref=None,
        doi="10.1/x",
        primary_category="cs.IR",
        categories=["cs.IR", "cs.CL"],
        links=[arxiv.Result.Link("https://arxiv.org/pdf/2311.03057v3", title="pdf")],
    )
    when = datetime(2026, 1, 1, tzinfo=UTC)
    paper = result_to_paper(result, "all:glen", when)
    assert (paper.arxiv_id, paper.version) == ("2311.03057", 3)
    assert paper.title == "GLEN: Generative Retrieval"
    assert paper.abstract == " ".join(long_abstract.split())  # whitespace folded, nothing cut
    assert paper.categories == ["cs.IR", "cs.CL"] and paper.primary_category == "cs.IR"
    assert paper.pdf_url == "https://arxiv.org/pdf/2311.03057v3"
    assert paper.journal_ref is None and paper.doi == "10.1/x"
    assert paper.query == "all:glen" and paper.retrieved_at == when
