"""The full-text fetcher against the real mirror server (loopback) and against a fault-injecting
stdlib server: HTML first, PDF on 404 / unparseable / bodiless pages, transient errors retried
and 404 not, degradation recorded as a reason (never a library traceback), the shared limiter
paying for every request, and a cache hit making no request at all."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from memory.arxiv_client import ArxivSearch
from memory.fulltext.fetch import FullTextFetcher
from memory.fulltext.unarxive import read_unarxive
from memory.mirror.fulltext_ingest import ingest_fulltext
from memory.mirror.server import start_background
from memory.net import RateLimiter, RetryPolicy
from tests.conftest import get_free_port, shared_file

pytestmark = pytest.mark.integration

UNARXIVE = "fulltext/unarxive/arXiv_src_2212_086_part.jsonl"
SMALL_PDF = "fulltext/pdf/2304.02623v1.pdf"
HTML = "fulltext/arxiv_html/1803.07574.html"


class CountingLimiter(RateLimiter):
    """A zero-interval limiter that counts the requests it let through."""

    def __init__(self) -> None:
        super().__init__(0.0)
        self.calls = 0
        self._count_lock = threading.Lock()

    def wait(self) -> float:
        with self._count_lock:
            self.calls += 1
        return 0.0


def _no_sleep_retry(attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, backoff_s=0.0, sleep=lambda s: None)


# --- against the mirror server ---------------------------------------------------------------


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    unarxive = shared_file(UNARXIVE)
    folder = tmp_path_factory.mktemp("docs")
    docs = [shared_file(SMALL_PDF), shared_file(HTML)]
    db = folder / "mirror.db"
    report = ingest_fulltext(db, [unarxive], docs, progress=False)
    assert report.inserted == 36, report.summary()
    with start_background(db) as handle:
        yield {"base": handle.base_url, "query": handle.query_url, "unarxive": unarxive}


def test_fetch_unarxive_paper_from_the_mirror_html(mirror: dict[str, Any], tmp_path: Path) -> None:
    limiter = CountingLimiter()
    fetcher = FullTextFetcher(mirror["base"], limiter, 10.0, tmp_path / "cache", _no_sleep_retry())
    papers, _ = read_unarxive(mirror["unarxive"])
    for paper in papers[:5]:
        result = fetcher.fetch(paper.paper_id)
        assert result.ok and result.format == "latexml" and result.reason is None
        assert result.fulltext is not None
        assert [(p.id, p.text) for p in result.fulltext.paragraphs] == [
            (p.id, p.text) for p in paper.paragraphs
        ]
        assert [(s.number, s.title) for s in result.fulltext.sections] == [
            (s.number, s.title) for s in paper.sections
        ]
    assert limiter.calls == 5


def test_pdf_only_paper_falls_back_to_the_pdf(mirror: dict[str, Any]) -> None:
    limiter = CountingLimiter()
    fetcher = FullTextFetcher(mirror["base"], limiter, 30.0, None, _no_sleep_retry())
    result = fetcher.fetch("2304.02623v1")
    assert result.ok and result.format == "pdf" and result.version == 1
    assert result.tried == ("html: HTTP 404",) and limiter.calls == 2
    html = fetcher.fetch("1803.07574")
    assert html.ok and html.format == "latexml" and html.fulltext is not None
    assert len(html.fulltext.sections) > 5


def test_absent_paper_degrades_with_both_reasons(mirror: dict[str, Any]) -> None:
    fetcher = FullTextFetcher(mirror["base"], CountingLimiter(), 10.0, None, _no_sleep_retry())
    result = fetcher.fetch("2401.99999")
    assert not result.ok and result.fulltext is None
    assert result.reason == "no full text: html: HTTP 404; pdf: HTTP 404"
    bad = fetcher.fetch("not an id")
    assert not bad.ok and bad.reason is not None and "not an arXiv id" in bad.reason


def test_arxiv_client_and_fetcher_share_one_limiter(mirror: dict[str, Any]) -> None:
    limiter = CountingLimiter()
    search = ArxivSearch(mirror["query"], delay_s=3.0, timeout_s=10.0, limiter=limiter)
    assert search.limiter is limiter
    fetcher = FullTextFetcher(mirror["base"], search.limiter, 10.0, None, _no_sleep_retry())
    assert search.fetch(["2212.11808"])[0].arxiv_id == "2212.11808"
    after_search = limiter.calls
    assert fetcher.fetch("2212.11808").ok
    assert after_search >= 1 and limiter.calls == after_search + 1


# --- against a fault-injecting server --------------------------------------------------------


Reply = tuple[int, bytes]


class _Faults(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, routes: dict[str, Callable[[int], Reply]]) -> None:
        super().__init__(("127.0.0.1", 0), _FaultHandler)
        self.routes = routes
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (the timeout test) closed the socket: not worth a trace."""


class _FaultHandler(BaseHTTPRequestHandler):
    server: _Faults
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        with self.server.lock:
            self.server.hits[self.path] += 1
            n = self.server.hits[self.path]
        route = self.server.routes.get(self.path)
        status, body = route(n) if route else (404, b"not found\n")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def faults() -> Iterator[_Faults]:
    pdf = shared_file(SMALL_PDF).read_bytes()
    html = shared_file(HTML).read_bytes()

    def slow(n: int) -> Reply:
        time.sleep(1.5)
        return 200, html

    routes: dict[str, Callable[[int], Reply]] = {
        # 404 on HTML, the PDF serves
        "/pdf/2401.00001": lambda n: (200, pdf),
        # 500 then 200: retried, then read
        "/html/2401.00002": lambda n: (500, b"oops") if n == 1 else (200, html),
        # HTML without a body, then a truncated PDF: degraded with both reasons
        "/html/2401.00003": lambda n: (200, b"<html><head><title>x</title></head></html>"),
        "/pdf/2401.00003": lambda n: (200, pdf[: len(pdf) // 2]),
        # always 500 (given up after the policy's attempts), then a page that is no paper
        "/html/2401.00004": lambda n: (500, b"down"),
        "/pdf/2401.00004": lambda n: (200, b"<html><body>Please log in</body></html>"),
        # a page of plain <p> text with no LaTeXML sections: not taken as the paper
        "/html/2401.00005": lambda n: (200, b"<html><body><p>No HTML for this paper.</p></body>"),
        "/pdf/2401.00005": lambda n: (200, pdf),
        # slower than the timeout
        "/html/2401.00006": slow,
        "/pdf/2401.00006": lambda n: (404, b""),
        # an empty 200
        "/html/2401.00007": lambda n: (200, b""),
        "/pdf/2401.00007": lambda n: (200, pdf),
    }
    server = _Faults(routes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _fetcher(server: _Faults, cache: Path | None = None, timeout: float = 10.0) -> FullTextFetcher:
    host, port = server.server_address[:2]
    base = f"http://{host!s}:{port}"
    return FullTextFetcher(base, CountingLimiter(), timeout, cache, _no_sleep_retry())


def test_html_404_falls_back_to_pdf_and_404_is_not_retried(faults: _Faults) -> None:
    result = _fetcher(faults).fetch("2401.00001")
    assert result.ok and result.format == "pdf" and result.tried == ("html: HTTP 404",)
    assert faults.hits["/html/2401.00001"] == 1


def test_500_then_200_is_retried_and_read(faults: _Faults) -> None:
    result = _fetcher(faults).fetch("2401.00002")
    assert result.ok and result.format == "latexml" and result.tried == ()
    assert faults.hits["/html/2401.00002"] == 2 and faults.hits["/pdf/2401.00002"] == 0


def test_bodiless_html_and_truncated_pdf_degrade_with_reasons(faults: _Faults) -> None:
    result = _fetcher(faults).fetch("2401.00003")
    assert not result.ok and result.reason is not None
    html_reason, pdf_reason = result.tried
    assert html_reason.startswith("html: unreadable (HTML has no paragraphs")
    assert pdf_reason.startswith("pdf: unreadable (") and "truncated" in pdf_reason
    assert "Traceback" not in result.reason and "\n" not in result.reason


def test_persistent_500_gives_up_then_non_pdf_is_refused(faults: _Faults) -> None:
    result = _fetcher(faults).fetch("2401.00004")
    assert result.reason == "no full text: html: HTTP 500 after 3 attempts; pdf: not a PDF"
    assert faults.hits["/html/2401.00004"] == 3


def test_page_without_latexml_sections_is_not_the_paper(faults: _Faults) -> None:
    result = _fetcher(faults).fetch("2401.00005")
    assert result.ok and result.format == "pdf"
    assert result.tried == ("html: no LaTeXML sections in the page",)


def test_timeout_and_empty_body_are_reasons(faults: _Faults) -> None:
    fetcher = _fetcher(faults, timeout=0.5)
    fetcher.retry = _no_sleep_retry(attempts=1)
    slow = fetcher.fetch("2401.00006")
    assert (
        slow.reason == "no full text: html: no answer within 0.5 s after 1 attempts; pdf: HTTP 404"
    )
    empty = _fetcher(faults).fetch("2401.00007")
    assert empty.ok and empty.tried == ("html: empty body",)


def test_unreachable_host_and_oversized_body_are_reasons(faults: _Faults) -> None:
    port = get_free_port()  # nothing listens there
    fetcher = FullTextFetcher(
        f"http://127.0.0.1:{port}", CountingLimiter(), 2.0, None, _no_sleep_retry(2)
    )
    result = fetcher.fetch("2401.00001")
    assert result.reason is not None and result.reason.count("unreachable") == 2
    small = _fetcher(faults)
    small.max_bytes = 1000
    big = small.fetch("2401.00001")
    assert big.reason == ("no full text: html: HTTP 404; pdf: larger than 1,000 bytes")


def test_cache_hit_makes_no_request(faults: _Faults, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _fetcher(faults, cache).fetch("2401.00001")  # HTML 404, then the PDF
    before = sum(faults.hits.values())
    again = _fetcher(faults, cache)
    second = again.fetch("2401.00001")
    assert second.ok and second.from_cache and second.format == "pdf"
    assert sum(faults.hits.values()) == before  # not even the HTML is asked again
    assert isinstance(again.limiter, CountingLimiter) and again.limiter.calls == 0
    assert first.fulltext is not None and second.fulltext is not None
    assert [p.text for p in second.fulltext.paragraphs] == [
        p.text for p in first.fulltext.paragraphs
    ]
    # a damaged cache file is a miss, not an error
    for path in cache.iterdir():
        path.write_bytes(b"not gzip")
    third = _fetcher(faults, cache).fetch("2401.00001")
    assert third.ok and not third.from_cache
