"""A loopback HTTP server speaking the OpenAI chat-completions protocol with scripted replies.

Tests (ours and the graph's) use it to drive the LLM paths that a real model produces only by
chance: malformed JSON, invented quotes, 429 with Retry-After, 5xx, slow replies."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: a completion's text, or an HTTP error, optionally after a delay."""

    content: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    finish_reason: str = "stop"
    usage: tuple[int, int] | None = (50, 20)  # (prompt, completion) tokens; None omits usage
    echo_auth: bool = False  # an error body that quotes the request's Authorization header

    @classmethod
    def json(cls, value: Any, **kw: Any) -> Reply:
        return cls(content=json.dumps(value), **kw)


Responder = Callable[[dict[str, Any]], Reply]


@dataclass
class SeenRequest:
    body: dict[str, Any]
    at: float  # time.monotonic() on arrival

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


class ScriptedOpenAIServer:
    """`with ScriptedOpenAIServer([Reply(...), ...]) as srv: srv.base_url` — replies are served
    in order (the last one repeats), or computed by a `responder(request_body)`."""

    def __init__(self, script: list[Reply] | Responder, port: int = 0) -> None:
        self._script = script
        self._index = 0
        self._lock = threading.Lock()
        self.requests: list[SeenRequest] = []
        self.model_checks = 0  # GET /models requests seen
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (stdlib name)
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                reply = server._next(body)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.status != 200:
                    message = reply.content or "scripted error"
                    if reply.echo_auth:  # as some proxies do on a 401
                        message += f"; Authorization: {self.headers.get('authorization')}"
                    payload = {"error": {"message": message}}
                else:
                    payload = server._completion(body, reply)
                self._send(reply, json.dumps(payload).encode())

            def do_GET(self) -> None:  # noqa: N802 (stdlib name)
                """/models, as a client's reachability check asks it."""
                server.model_checks += 1
                models = {"object": "list", "data": [{"id": "scripted", "object": "model"}]}
                self._send(Reply(), json.dumps(models).encode())

            def _send(self, reply: Reply, data: bytes) -> None:
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): that is the point of a delay

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(SeenRequest(body, time.monotonic()))
            if callable(self._script):
                return self._script(body)
            reply = self._script[min(self._index, len(self._script) - 1)]
            self._index += 1
            return reply

    @staticmethod
    def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content},
                    "finish_reason": reply.finish_reason,
                }
            ],
        }
        if reply.usage is not None:
            p, c = reply.usage
            out["usage"] = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
        return out

    def start(self) -> ScriptedOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
