"""Agent transcripts: structlog JSON events (one line each, flushed as they happen) to stderr or
a log file, every event carrying run_id, node, role and round, secrets redacted."""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import IO, Any

import structlog

_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|authorization|bearer)", re.I)
_SECRET_VALUE = re.compile(r"\b(nvapi-[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{8,}|Bearer\s+\S+)")
REDACTED = "[REDACTED]"
_lock = threading.Lock()
_configured: dict[str, Any] = {}


def redact(value: Any, key: str = "") -> Any:
    """Mask values under secret-looking keys and key-shaped substrings anywhere."""
    if key and _SECRET_KEY.search(key) and value not in (None, "", 0):
        return REDACTED
    if isinstance(value, str):
        return _SECRET_VALUE.sub(REDACTED, value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _redact_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
    return {k: redact(v, k) for k, v in event_dict.items()}


def _ensure_fields(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
    for key in ("run_id", "node", "role", "round"):
        event_dict.setdefault(key, None)
    return event_dict


class _LineSink:
    """Writes each rendered event as one flushed line to every stream (thread-safe).
    stderr is looked up at write time: pytest and embedding apps swap `sys.stderr`."""

    def __init__(self, streams: list[IO[str]], to_stderr: bool) -> None:
        self.streams = streams
        self.to_stderr = to_stderr

    def msg(self, message: str) -> None:
        with _lock:
            targets = [*self.streams, sys.stderr] if self.to_stderr else self.streams
            for stream in targets:
                stream.write(message + "\n")
                stream.flush()

    log = debug = info = warning = warn = error = critical = exception = msg


def configure(
    log_file: Path | str | None = None, to_stderr: bool = True, level: str = "INFO"
) -> None:
    """Route events to stderr and/or `log_file` (appended). Safe to call again."""
    key = f"{log_file}|{to_stderr}|{level}"
    if _configured.get("key") == key:
        return
    old = _configured.get("file")
    if old is not None:
        old.close()
    streams: list[IO[str]] = []
    handle = None
    if log_file is not None:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a", encoding="utf-8")
        streams.append(handle)
    sink = _LineSink(streams, to_stderr)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _ensure_fields,
            _redact_processor,
            structlog.processors.JSONRenderer(
                serializer=lambda o, **kw: json.dumps(o, default=str)
            ),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_level_number(level)),
        logger_factory=lambda *args: sink,
        cache_logger_on_first_use=False,
    )
    _configured.update(key=key, file=handle)


def _level_number(level: str) -> int:
    import logging

    return int(logging.getLevelName(level.upper())) if isinstance(level, str) else 20


def get_logger(run_id: str | None, node: str, role: str | None = None, round: int = 0) -> Any:
    """A logger bound to one agent step."""
    if not _configured:
        configure(to_stderr=True)
    return structlog.get_logger("sovereign").bind(run_id=run_id, node=node, role=role, round=round)
