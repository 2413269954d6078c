"""Issue 18.7: a peer that answers 200 with something other than an Atom feed is a failure
naming the URL, raised at once; it is not "no results". A genuine empty feed still is."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agents.searcher import run_search
from memory.arxiv_client import ArxivSearch, is_atom_feed
from memory.errors import ServiceUnavailable

EMPTY_FEED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
    b'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
    b"<opensearch:totalResults>0</opensearch:totalResults></feed>\n"
)
GARBAGE = {
    "html": (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    "json": (b'{"results": []}', "application/json"),
    "text": (b"service temporarily down", "text/plain"),
    "empty": (b"", "application/atom+xml"),
    "rss": (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "application/xml"),
}


class _StandIn(BaseHTTPRequestHandler):
    """Answers every GET with the body and type the test put on the server."""

    def do_GET(self) -> None:  # noqa: N802
        body, ctype = self.server.answer  # type: ignore[attr-defined]
        self.server.hits += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    server.hits = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/api/query"


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_garbage_is_a_one_line_failure_naming_the_url(
    stand_in: ThreadingHTTPServer, kind: str
) -> None:
    stand_in.answer = GARBAGE[kind]  # type: ignore[attr-defined]
    waits: list[float] = []
    client = ArxivSearch(_url(stand_in), delay_s=0, timeout_s=5, sleep=waits.append)
    with pytest.raises(ServiceUnavailable) as info:
        client.search("all:routing", max_results=5)
    message = str(info.value)
    assert "\n" not in message and _url(stand_in) in message
    assert "answered something that is not an Atom feed" in message
    assert stand_in.hits == 1 and waits == []  # type: ignore[attr-defined]  # no retry


def test_search_log_names_the_failure_not_an_empty_result(stand_in: ThreadingHTTPServer) -> None:
    stand_in.answer = GARBAGE["html"]  # type: ignore[attr-defined]
    client = ArxivSearch(_url(stand_in), delay_s=0, timeout_s=5)
    papers, entry = run_search(client, {"text": "mixture of experts routing"}, 5)
    assert papers == [] and entry["n"] == 0
    assert "not an Atom feed" in entry["error"] and _url(stand_in) in entry["error"]


def test_an_empty_atom_feed_is_still_no_results(stand_in: ThreadingHTTPServer) -> None:
    stand_in.answer = (EMPTY_FEED, "application/atom+xml")  # type: ignore[attr-defined]
    client = ArxivSearch(_url(stand_in), delay_s=0, timeout_s=5)
    assert client.search("all:routing", max_results=5) == []
    assert is_atom_feed(EMPTY_FEED) and not is_atom_feed(GARBAGE["html"][0])
