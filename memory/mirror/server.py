"""HTTP server speaking arXiv's /api/query over a mirror DB, and serving stored full texts at
`/html/<id>` and `/pdf/<id>` like arxiv.org (`memory.mirror.documents`). Stdlib only: a
threading HTTP server (one daemon thread per connection, a listen backlog of 1,024) answers 200
simultaneous clients without a reset (bench/mirror.py measures 1, 20 and 200), and the research
graph can embed one in a daemon thread on a free port."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from memory.mirror import atom
from memory.mirror.documents import answer_document, is_document_path
from memory.mirror.query_parser import QuerySyntaxError
from memory.mirror.search import MirrorIndex

API_PATH = "/api/query"
_PARAMS = ("search_query", "id_list", "start", "max_results", "sortBy", "sortOrder")


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QuerySyntaxError(f"{name} must be an integer") from None
    if value < 0:
        raise QuerySyntaxError(f"{name} must be non-negative")
    return value


def answer(index: MirrorIndex, params: dict[str, str], base_url: str) -> tuple[int, bytes]:
    """(HTTP status, Atom body) for one API call."""
    shown = {k: params.get(k, "") for k in _PARAMS if k in params}
    try:
        page = index.query(
            search_query=params.get("search_query", ""),
            id_list=params.get("id_list", ""),
            start=_int_param(params, "start", 0),
            max_results=_int_param(params, "max_results", 10),
            sort_by=params.get("sortBy") or "relevance",
            sort_order=params.get("sortOrder") or "descending",
        )
    except QuerySyntaxError as exc:
        return 400, atom.error_feed(str(exc), shown, base_url)
    except Exception as exc:  # an answer, not a dropped connection the client would retry
        return 500, atom.error_feed(f"internal error: {type(exc).__name__}", shown, base_url)
    return 200, atom.feed(page, shown, base_url)


class _Handler(BaseHTTPRequestHandler):
    server: _MirrorServer
    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self, query: str) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        if is_document_path(path):
            with self.server.index.connection() as conn:
                doc = answer_document(conn, path)
            self._reply(doc.status, doc.body, doc.content_type)
            return
        if path != API_PATH:
            text = f"arXiv API mirror: GET {API_PATH}?search_query=...\n".encode()
            self._reply(404 if path else 200, text, "text/plain; charset=utf-8")
            return
        parsed = parse_qs(query, keep_blank_values=True)
        params = {k: v[-1] for k, v in parsed.items()}
        base = f"http://{self.headers.get('Host') or self.server.address}{API_PATH}"
        status, body = answer(self.server.index, params, base)
        self._reply(status, body, "application/atom+xml; charset=utf-8")

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._handle(urlsplit(self.path).query)

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle(urlsplit(self.path).query)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(length).decode("utf-8", "replace"))

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"mirror: {self.address_string()} {format % args}\n")


class _MirrorServer(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog. Connections beyond it are refused or reset by the kernel before any
    # thread sees them: with 5, 200 simultaneous clients saw 36% resets and a p95 of 53 s
    # (SYN retries). The kernel caps it at net.core.somaxconn (4096 on current Linux).
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a reset kept-alive connection) is routine, not an error to
        print as a traceback into the user's terminal; anything else still is."""
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)

    def __init__(self, address: tuple[str, int], index: MirrorIndex, verbose: bool) -> None:
        super().__init__(address, _Handler)
        self.index = index
        self.verbose = verbose

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        return f"{host}:{port}"


@dataclass
class MirrorHandle:
    """An embedded mirror running in a daemon thread."""

    server: _MirrorServer
    thread: threading.Thread

    @property
    def query_url(self) -> str:
        return f"http://{self.server.address}{API_PATH}"

    @property
    def base_url(self) -> str:
        """The root (like https://arxiv.org) under which /html/<id> and /pdf/<id> are served."""
        return f"http://{self.server.address}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        self.server.index.close()

    def __enter__(self) -> MirrorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _make(db_path: Path, host: str, port: int, verbose: bool) -> _MirrorServer:
    index = MirrorIndex(Path(db_path))  # one clear UserError when missing or empty
    try:
        return _MirrorServer((host, port), index, verbose)
    except OSError as exc:
        index.close()
        from memory.errors import UserError

        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def start_background(
    db_path: Path, host: str = "127.0.0.1", port: int = 0, verbose: bool = False
) -> MirrorHandle:
    """Start the mirror in a daemon thread (port 0 picks a free port) and return at once."""
    server = _make(db_path, host, port, verbose)
    thread = threading.Thread(target=server.serve_forever, name="arxiv-mirror", daemon=True)
    thread.start()
    return MirrorHandle(server, thread)


def serve(db_path: Path, host: str = "127.0.0.1", port: int = 0, verbose: bool = True) -> None:
    """Serve until interrupted; prints the query URL first (port 0 picks a free port)."""
    server = _make(db_path, host, port, verbose)
    papers = server.index.stats()["papers"]
    if server.index.recovered:
        print(f"mirror: {server.index.recovered}", file=sys.stderr, flush=True)
    print(
        f"serving {papers:,} papers at http://{server.address}{API_PATH} (Ctrl-C stops)",
        flush=True,
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()
        server.index.close()
