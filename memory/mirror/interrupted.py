"""What a killed ingest leaves behind, found and undone by the next run.

A first ingest builds `<db>.partial` unjournaled (a kill may leave it corrupt, so it is never
resumed: the next ingest removes it and starts over). A re-ingest writes the mirror in place,
committing every COMMIT_EVERY records, with FTS5's merge settings switched to bulk load; those
settings live in the file, so a kill would leave them there until the next ingest finished.
The ingest therefore records an owner token (pid and process start time) beside them, and the
next run that opens the mirror, an ingest or a server, restores the settings when that owner
is gone. The records a killed re-ingest committed are complete rows and stay: re-ingesting
the same input resumes (they count as unchanged)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from memory.errors import UserError
from memory.mirror import db


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or '' where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22 counted from after the comm field


def owner_token() -> str:
    """This process, told apart from a later process that reuses its pid."""
    pid = os.getpid()
    return f"{pid}:{_start_time(pid)}"


def is_running(token: str) -> bool:
    """True while the process that wrote `token` is alive (same pid and start time)."""
    pid_text, _, started = token.partition(":")
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by someone else
    return not started or _start_time(pid) in ("", started)


def _pid(token: str) -> str:
    return token.partition(":")[0] or "unknown"


def recover(conn: sqlite3.Connection, path: Path) -> str | None:
    """Undo the bulk-load settings of an ingest that was killed; one line saying so, or None
    when there was nothing to undo. A running ingest of another process is a UserError."""
    owner = db.bulk_load_owner(conn)
    if owner is None:
        return None
    if owner != owner_token() and is_running(owner):
        raise UserError(f"an ingest (process {_pid(owner)}) is writing to {path}; let it finish")
    db.end_bulk_load(conn)
    return (
        f"an interrupted ingest (process {_pid(owner)}) had left {path.name}'s search index in "
        "bulk-load settings: restored them; the records it committed are kept"
    )


def recover_quietly(path: Path) -> str | None:
    """`recover` for readers (the server): a mirror being ingested, read-only or busy is left
    alone, since the next ingest recovers it anyway."""
    with contextlib.suppress(UserError, sqlite3.Error):
        conn = db.connect(path)
        try:
            return recover(conn, path)
        finally:
            conn.close()
    return None


def _partial_owner(partial: Path) -> str | None:
    """The owner mark in a `.partial` build; None when it has none or cannot be read (a kill
    can leave an unjournaled file corrupt). A locked file raises OperationalError."""
    try:
        conn = sqlite3.connect(f"file:{partial}?mode=ro", uri=True, timeout=1)
        try:
            return db.bulk_load_owner(conn)
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise
        return None
    except sqlite3.DatabaseError:
        return None


def clear_partial(partial: Path) -> str | None:
    """Remove the `.partial` build of a killed first ingest; one line saying so, or None when
    there is none. A first ingest still running in another process is a UserError."""
    if not partial.exists():
        return None
    try:
        owner = _partial_owner(partial)
    except sqlite3.OperationalError:  # locked: only a live process holds a lock
        raise UserError(f"another ingest is building {partial}; let it finish") from None
    if owner is not None and owner != owner_token() and is_running(owner):
        raise UserError(f"an ingest (process {_pid(owner)}) is building {partial}; let it finish")
    size_mb = partial.stat().st_size / 1e6
    for stale in (partial, *(Path(f"{partial}{s}") for s in ("-wal", "-shm", "-journal"))):
        stale.unlink(missing_ok=True)
    return (
        f"removed {partial.name} ({size_mb:,.0f} MB), left by an interrupted first ingest; "
        "building the mirror anew"
    )
