"""Agent transcripts: structlog JSON events (one line each, flushed as they happen), every event
carrying run_id, node, role and round, secrets redacted.

Each run's events always go to its own `events.jsonl`, beside its report.md, so a run can be
audited however it was started; stderr gets them too only when asked (`--log-json`, and by
default outside the CLI: Studio and servers keep structured logs), so a person at a terminal
reads progress lines, not JSON. A run's directory is known once the CLI, the runner or the
run's first node attaches it (`attach_run`); events logged before that wait in memory."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import IO, Any

import structlog

from memory.secrets import REDACTED as REDACTED  # re-exported: tests and the CLI read it here
from memory.secrets import is_secret_key as is_secret_key
from memory.secrets import redact

EVENTS_FILE = "events.jsonl"
PENDING_LIMIT = 5000  # events held per run before its directory is known
_lock = threading.Lock()
_configured: dict[str, Any] = {}
_run_dirs: dict[str, Path] = {}
_pending: dict[str, list[str]] = {}
_failed: set[Path] = set()


def _redact_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
    return {k: redact(v, k) for k, v in event_dict.items()}


def _ensure_fields(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
    for key in ("run_id", "node", "role", "round"):
        event_dict.setdefault(key, None)
    return event_dict


def _render(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
    """The JSON line, and the run it belongs to (the sink files it under that run)."""
    line = json.dumps(dict(event_dict), default=str)
    return (line,), {"run_id": event_dict.get("run_id")}


def attach_run(run_id: str, directory: Path | str) -> Path:
    """File the run's events in `directory`/events.jsonl from now on (and those held back);
    returns that path. Attaching again, from any process, appends to the same file."""
    path = Path(directory) / EVENTS_FILE
    with _lock:
        _run_dirs[run_id] = Path(directory)
        for line in _pending.pop(run_id, []):
            _append(path, line)
    return path


def events_path(run_id: str) -> Path | None:
    """Where this process files the run's events, if it knows."""
    directory = _run_dirs.get(run_id)
    return directory / EVENTS_FILE if directory else None


def _append(path: Path, line: str) -> None:
    """One line to a run's file (opened per event: runs are many, events few per second). A
    file that cannot be written is reported once and skipped; the run goes on."""
    if path in _failed:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError as exc:
        _failed.add(path)
        sys.stderr.write(f"sovereign: cannot write the transcript {path}: {exc.strerror}\n")


class _LineSink:
    """Writes each rendered event as one flushed line to its run's file and to every stream
    (thread-safe). stderr is looked up at write time: pytest and embedding apps swap it."""

    def __init__(self, streams: list[IO[str]], to_stderr: bool) -> None:
        self.streams = streams
        self.to_stderr = to_stderr

    def msg(self, message: str, run_id: str | None = None) -> None:
        with _lock:
            if run_id:
                self._file(run_id, message)
            targets = [*self.streams, sys.stderr] if self.to_stderr else self.streams
            for stream in targets:
                stream.write(message + "\n")
                stream.flush()

    @staticmethod
    def _file(run_id: str, message: str) -> None:
        directory = _run_dirs.get(run_id)
        if directory is not None:
            _append(directory / EVENTS_FILE, message)
            return
        held = _pending.setdefault(run_id, [])
        held.append(message)
        del held[:-PENDING_LIMIT]

    log = debug = info = warning = warn = error = critical = exception = msg


def configure(
    log_file: Path | str | None = None, to_stderr: bool = True, level: str = "INFO"
) -> None:
    """Route events to stderr and/or `log_file` (appended) besides each run's own file. Safe to
    call again."""
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
            _render,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_level_number(level)),
        logger_factory=lambda *args: sink,
        cache_logger_on_first_use=False,
    )
    _configured.update(key=key, file=handle)


def _level_number(level: str) -> int:
    import logging

    number = logging.getLevelName(str(level).upper())
    return number if isinstance(number, int) else logging.INFO


def get_logger(run_id: str | None, node: str, role: str | None = None, round: int = 0) -> Any:
    """A logger bound to one agent step."""
    if not _configured:
        configure(to_stderr=True)
    return structlog.get_logger("sovereign").bind(run_id=run_id, node=node, role=role, round=round)
