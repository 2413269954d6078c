"""One process at a time owns a home's embedded Chroma memory. Embedded Chroma keeps its HNSW
index in process memory and persists it from there, so two processes with the same directory
open (or one writing while another holds a stale index) lose vectors: serialising single
writes is not enough, the whole lifetime of the client must be exclusive. The lock is an
`fcntl.flock` on a file in the home: the kernel releases it when the holder dies, even by
SIGKILL, so a crashed run never leaves the home locked. Within one process it is re-entrant
and shared by all threads (a worker running several runs over one `Services` holds it once).
A second process waits, saying once who holds the home, or gives up after `wait_s`."""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memory.errors import UserError

POLL_S = 0.2
_label = ""  # what this process is, for other processes' "home busy" line


def set_label(text: str) -> None:
    """Name this process for others waiting on a home it holds (e.g. "run 20260101-abc")."""
    global _label
    _label = text


def _describe_self() -> str:
    if _label:
        return _label
    argv = [a for a in sys.argv[1:] if not a.startswith("-")]
    return f"sovereign {argv[0]}" if argv else Path(sys.argv[0] or "python").name


@dataclass
class _Held:
    fd: int
    count: int


_HELD: dict[str, _Held] = {}
_GUARD = threading.RLock()  # one acquisition at a time in this process; threads then share


def lock_path_for(store_dir: Path) -> Path:
    """The lock file of an embedded store directory: beside it, in the home."""
    store_dir = Path(store_dir)
    return store_dir.with_name(store_dir.name + ".lock")


def holder(lock_file: Path) -> str:
    """Who holds the lock, as its holder wrote it ("run X (pid N) since T"), or "another
    process" when the file says nothing readable."""
    try:
        info: dict[str, Any] = json.loads(Path(lock_file).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info.get("pid"):
        return "another process"
    return f"{info.get('what') or 'a process'} (pid {info['pid']}) since {info.get('since', '?')}"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _stamp(fd: int) -> None:
    """Say who holds the lock, inside the locked file (readers need no lock to read it)."""
    since = datetime.now(UTC).isoformat(timespec="seconds")
    text = json.dumps({"pid": os.getpid(), "what": _describe_self(), "since": since})
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode("utf-8"), 0)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _wait(
    fd: int, lock_file: Path, home: Path, wait_s: float | None, say: Callable[[str], None]
) -> None:
    """Block until the lock is ours; one line when we start waiting, UserError on timeout."""
    who = holder(lock_file)
    if wait_s is not None and wait_s <= 0:
        raise UserError(f"home busy: {who} holds {home}; not waiting (try again when it is done)")
    limit = "" if wait_s is None else f" (at most {wait_s:g} s)"
    say(f"home busy: {who} holds {home}; waiting{limit}...")
    start = time.monotonic()
    while not _try_lock(fd):
        if wait_s is not None and time.monotonic() - start >= wait_s:
            raise UserError(
                f"home busy: {holder(lock_file)} still holds {home} after {wait_s:g} s; try "
                "again when it is done (SOVEREIGN_HOME_WAIT_S sets how long to wait)"
            )
        time.sleep(POLL_S)
    say(f"home free: continuing after {time.monotonic() - start:.1f} s")


def acquire(
    store_dir: Path, *, wait_s: float | None = None, say: Callable[[str], None] | None = None
) -> Path:
    """Hold the exclusive lock of `store_dir` for this process (again, if it already does);
    returns the lock file. Pair every call with `release`."""
    lock_file = lock_path_for(store_dir)
    key = str(lock_file.resolve())
    with _GUARD:
        held = _HELD.get(key)
        if held is not None:
            held.count += 1
            return lock_file
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                _wait(fd, lock_file, Path(store_dir).parent, wait_s, say or _say)
            _stamp(fd)
        except BaseException:
            os.close(fd)
            raise
        _HELD[key] = _Held(fd=fd, count=1)
        return lock_file


def release(store_dir: Path) -> None:
    """Give back one `acquire`; the last one unlocks (and a dying process unlocks anyway)."""
    key = str(lock_path_for(store_dir).resolve())
    with _GUARD:
        held = _HELD.get(key)
        if held is None:
            return
        held.count -= 1
        if held.count > 0:
            return
        del _HELD[key]
        os.ftruncate(held.fd, 0)
        fcntl.flock(held.fd, fcntl.LOCK_UN)
        os.close(held.fd)


def held_here(store_dir: Path) -> bool:
    """Whether this process holds the lock of `store_dir`."""
    with _GUARD:
        return str(lock_path_for(store_dir).resolve()) in _HELD


class Held:
    """`with Held(store_dir):` holds the lock of `store_dir` for the block (re-entrant)."""

    def __init__(self, store_dir: Path, wait_s: float | None = None) -> None:
        self.store_dir = Path(store_dir)
        self.wait_s = wait_s

    def __enter__(self) -> Held:
        acquire(self.store_dir, wait_s=self.wait_s)
        return self

    def __exit__(self, *exc: object) -> None:
        release(self.store_dir)
