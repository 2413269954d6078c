"""SQLite publication store. Every table is append-only (triggers refuse UPDATE and DELETE):
a report's status, its versions and its corrections are the latest of their records, so the
history of what was published, when and by whose decision can never be rewritten."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memory import events
from memory.errors import UserError
from memory.run import RunRecord

STATUSES = ("draft", "escalated", "approved", "published", "retracted")
# current status (None = not yet recorded) -> statuses it may move to
TRANSITIONS: dict[str | None, tuple[str, ...]] = {
    None: ("draft", "escalated", "published"),
    "draft": ("escalated",),
    "escalated": ("approved", "draft"),
    "approved": ("published",),
    "published": ("retracted",),
    "retracted": (),
}

_TABLES = ("reports", "versions", "status_events", "corrections")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
  report_id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
  report_id TEXT NOT NULL REFERENCES reports(report_id),
  version INTEGER NOT NULL,
  recorded_at TEXT NOT NULL,
  digest TEXT NOT NULL,
  state_json TEXT NOT NULL,
  manifest_json TEXT NOT NULL,
  provenance_json TEXT NOT NULL,
  markdown TEXT,
  PRIMARY KEY (report_id, version)
);
CREATE TABLE IF NOT EXISTS status_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  report_id TEXT NOT NULL REFERENCES reports(report_id),
  status TEXT NOT NULL CHECK (status IN ('draft','escalated','approved','published','retracted')),
  decision TEXT,
  who TEXT NOT NULL,
  at TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS corrections (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  report_id TEXT NOT NULL REFERENCES reports(report_id),
  kind TEXT NOT NULL CHECK (kind IN ('correction','retraction')),
  who TEXT NOT NULL CHECK (length(who) > 0),
  at TEXT NOT NULL,
  what TEXT NOT NULL CHECK (length(what) > 0),
  why TEXT NOT NULL CHECK (length(why) > 0)
);
""" + "".join(
    f"""
CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t}
BEGIN SELECT RAISE(ABORT, '{t} is append-only: add a record instead of editing'); END;
CREATE TRIGGER IF NOT EXISTS {t}_no_delete BEFORE DELETE ON {t}
BEGIN SELECT RAISE(ABORT, '{t} is append-only: add a record instead of deleting'); END;
"""
    for t in _TABLES
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class StatusEvent:
    status: str
    decision: str | None
    who: str
    at: str
    note: str


@dataclass(frozen=True)
class StoredReport:
    """Latest version of one report with its status history and corrections."""

    report_id: str
    run_id: str
    version: int
    recorded_at: str
    state: dict[str, Any]
    manifest: dict[str, Any]
    provenance: dict[str, Any]
    markdown: str | None
    history: tuple[StatusEvent, ...]
    corrections: tuple[dict[str, Any], ...]

    @property
    def status(self) -> str:
        return self.history[-1].status if self.history else "draft"

    def record(self) -> RunRecord:
        """The recorded run, typed (versions store it as `RunRecord.state_json()`)."""
        return RunRecord.from_state(self.state)


class PublicationStore:
    """Thin, explicit API over the SQLite file; one connection per call keeps it thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as conn:
            conn.executescript(_SCHEMA)
            events.ensure(conn)  # the publication event log lives beside its records

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    # --- writes ---------------------------------------------------------------------------------
    def add_version(
        self,
        report_id: str,
        run_id: str,
        digest: str,
        state: dict[str, Any],
        manifest: dict[str, Any],
        provenance: dict[str, Any],
        markdown: str | None,
    ) -> int:
        """Append a version unless the latest one has the same digest; returns its number."""
        with self._conn() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO reports(report_id, run_id, created_at) VALUES (?,?,?)",
                (report_id, run_id, now_iso()),
            )
            row = conn.execute(
                "SELECT version, digest FROM versions WHERE report_id=? "
                "ORDER BY version DESC LIMIT 1",
                (report_id,),
            ).fetchone()
            if row is not None and row["digest"] == digest:
                return int(row["version"])
            version = 1 if row is None else int(row["version"]) + 1
            conn.execute(
                "INSERT INTO versions VALUES (?,?,?,?,?,?,?,?)",
                (
                    report_id,
                    version,
                    now_iso(),
                    digest,
                    json.dumps(state, ensure_ascii=False, default=str),
                    json.dumps(manifest, ensure_ascii=False),
                    json.dumps(provenance, ensure_ascii=False),
                    markdown,
                ),
            )
            kind = events.RUN_FINISHED if version == 1 else events.REPORT_VERSION
            events.append(conn, [(kind, report_id, {"run_id": run_id, "version": version})])
            return version

    def set_status(
        self, report_id: str, status: str, who: str, note: str = "", decision: str | None = None
    ) -> None:
        """Append a status event if the transition is allowed; else a one-line UserError."""
        with self._conn() as conn:
            current = self._status(conn, report_id)
            if status not in TRANSITIONS.get(current, ()):
                shown = current or "unrecorded"
                raise UserError(f"{report_id} is {shown}; it cannot become {status}")
            if status == "published" and current is None and decision != "auto":
                raise UserError(f"{report_id}: only the AUTO_APPROVE policy publishes directly")
            conn.execute(
                "INSERT INTO status_events(report_id, status, decision, who, at, note) "
                "VALUES (?,?,?,?,?,?)",
                (report_id, status, decision, who, now_iso(), note),
            )
            owner = decision in ("approve", "reject", "retract")
            kind = events.OWNER_DECISION if owner else events.REPORT_STATUS
            payload = {"status": status, "decision": decision, "who": who}
            events.append(conn, [(kind, report_id, payload)])

    def add_correction(self, report_id: str, who: str, what: str, why: str, kind: str) -> int:
        if not (who.strip() and what.strip() and why.strip()):
            raise UserError("a correction needs who, what and why (none may be empty)")
        with self._conn() as conn:
            if self._status(conn, report_id) is None:
                raise UserError(f"no report {report_id} in {self.path}")
            cur = conn.execute(
                "INSERT INTO corrections(report_id, kind, who, at, what, why) VALUES (?,?,?,?,?,?)",
                (report_id, kind, who, now_iso(), what, why),
            )
            payload = {"kind": kind, "who": who, "what": what}
            events.append(conn, [(events.REPORT_CORRECTION, report_id, payload)])
            return int(cur.lastrowid or 0)

    # --- reads ----------------------------------------------------------------------------------
    @staticmethod
    def _status(conn: sqlite3.Connection, report_id: str) -> str | None:
        row = conn.execute(
            "SELECT status FROM status_events WHERE report_id=? ORDER BY seq DESC LIMIT 1",
            (report_id,),
        ).fetchone()
        return None if row is None else str(row["status"])

    def status(self, report_id: str) -> str | None:
        with self._conn() as conn:
            return self._status(conn, report_id)

    def resolve(self, ref: str) -> str:
        """Accept `SRCH:XXXXXXXX` (any case) or a run id; return the report id."""
        ref = ref.strip()
        with self._conn() as conn:
            row = conn.execute(
                "SELECT report_id FROM reports WHERE upper(report_id)=upper(?) OR run_id=?",
                (ref, ref),
            ).fetchone()
        if row is None:
            raise UserError(f"no report or run {ref!r} in {self.path}")
        return str(row["report_id"])

    def get(self, report_id: str) -> StoredReport:
        with self._conn() as conn:
            head = conn.execute(
                "SELECT r.run_id, v.* FROM reports r JOIN versions v USING(report_id) "
                "WHERE report_id=? ORDER BY v.version DESC LIMIT 1",
                (report_id,),
            ).fetchone()
            if head is None:
                raise UserError(f"no report {report_id} in {self.path}")
            history = conn.execute(
                "SELECT status, decision, who, at, note FROM status_events WHERE report_id=? "
                "ORDER BY seq",
                (report_id,),
            ).fetchall()
            corrections = conn.execute(
                "SELECT seq, kind, who, at, what, why FROM corrections WHERE report_id=? "
                "ORDER BY seq",
                (report_id,),
            ).fetchall()
        return StoredReport(
            report_id=report_id,
            run_id=str(head["run_id"]),
            version=int(head["version"]),
            recorded_at=str(head["recorded_at"]),
            state=json.loads(head["state_json"]),
            manifest=json.loads(head["manifest_json"]),
            provenance=json.loads(head["provenance_json"]),
            markdown=head["markdown"],
            history=tuple(StatusEvent(**dict(h)) for h in history),
            corrections=tuple({**dict(c), "seq": i + 1} for i, c in enumerate(corrections)),
        )

    def report_ids(self, status: str | None = None) -> list[str]:
        with self._conn() as conn:
            rows = conn.execute("SELECT report_id FROM reports ORDER BY created_at, report_id")
            ids = [str(r["report_id"]) for r in rows]
            if status is None:
                return ids
            return [i for i in ids if self._status(conn, i) == status]
