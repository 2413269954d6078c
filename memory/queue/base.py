"""What every queue backend does, written once in SQL both SQLite and PostgreSQL accept; a
backend supplies its connection, its transaction, how a claim is made exclusive and how a
worker's death is noticed.

A request moves queued -> running -> done | failed. A claim takes the oldest ready request
(`not_before` passed) in one transaction, so two workers never hold the same one. A failure
either requeues it after a backoff (transient, attempts left) or ends it as failed with its
reason; a request whose worker died is found by `recover` and requeued (or failed once its
attempts are spent, so a request that kills every worker cannot loop forever)."""

from __future__ import annotations

import os
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from memory.errors import UserError
from memory.queue.model import COLUMNS, QueuedRequest

TABLE = "sovereign_requests"


def worker_name() -> str:
    """host:pid:thread, what a claim records (and what SQLite's liveness check reads)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class RequestQueue(ABC):
    """The queue's contract (see the module docstring). Thread-safe; a worker thread calls
    `claim` then exactly one of `complete` or `fail` for what it claimed."""

    placeholder = "?"
    location = ""

    # --- what a backend provides ----------------------------------------------------------

    @abstractmethod
    def _tx(self) -> AbstractContextManager[Any]:
        """A cursor inside one transaction on this thread's connection (committed on exit)."""

    @abstractmethod
    def _ready_sql(self) -> str:
        """SELECT of the next ready request's id, locked against other claimers."""

    @abstractmethod
    def _hold(self, cur: Any, request_id: int) -> None:
        """Mark this thread's ownership of a just-claimed request (inside the claim)."""

    @abstractmethod
    def _release(self, request_id: int) -> None:
        """Undo `_hold` once the request is finished."""

    @abstractmethod
    def _orphans(self) -> Iterator[tuple[Any, QueuedRequest]]:
        """Running requests whose worker is gone, each with a cursor (in a transaction) that
        may update it."""

    @abstractmethod
    def close(self) -> None: ...

    # --- the contract -------------------------------------------------------------------------

    def _sql(self, text: str) -> str:
        return text.replace("?", self.placeholder)

    def submit(
        self, question: str, *, run_id: str, paper: str | None = None, max_attempts: int = 3
    ) -> QueuedRequest:
        """Enqueue one request; it is ready at once."""
        if max_attempts < 1:
            raise UserError("max_attempts must be at least 1")
        now = time.time()
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    f"INSERT INTO {TABLE} (question, paper, run_id, state, attempts, "
                    "max_attempts, not_before, submitted_at) "
                    "VALUES (?, ?, ?, 'queued', 0, ?, ?, ?) RETURNING id"
                ),
                (question, paper, run_id, max_attempts, now, now),
            )
            request_id = int(cur.fetchone()[0])
        return self.get(request_id)

    def get(self, request_id: int) -> QueuedRequest:
        with self._tx() as cur:
            cur.execute(self._sql(f"SELECT {COLUMNS} FROM {TABLE} WHERE id = ?"), (request_id,))
            row = cur.fetchone()
        if row is None:
            raise UserError(f"no queued request {request_id}")
        return QueuedRequest.from_row(tuple(row))

    def requests(self) -> list[QueuedRequest]:
        """Every request, oldest first."""
        with self._tx() as cur:
            cur.execute(f"SELECT {COLUMNS} FROM {TABLE} ORDER BY id")
            return [QueuedRequest.from_row(tuple(r)) for r in cur.fetchall()]

    def pending(self) -> int:
        """Requests not yet finished (queued, including those backing off, or running)."""
        with self._tx() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE state IN ('queued', 'running')")
            return int(cur.fetchone()[0])

    def claim(self, worker: str | None = None) -> QueuedRequest | None:
        """The oldest ready request, now running and owned by this thread; None if none."""
        now = time.time()
        with self._tx() as cur:
            cur.execute(self._sql(self._ready_sql()), (now,))
            row = cur.fetchone()
            if row is None:
                return None
            request_id = int(row[0])
            cur.execute(
                self._sql(
                    f"UPDATE {TABLE} SET state = 'running', attempts = attempts + 1, "
                    "worker = ?, started_at = ?, finished_at = NULL WHERE id = ?"
                ),
                (worker or worker_name(), now, request_id),
            )
            self._hold(cur, request_id)
        return self.get(request_id)

    def complete(self, request_id: int) -> QueuedRequest:
        return self._finish(request_id, "done", None)

    def fail(self, request_id: int, reason: str, retry_in_s: float | None = None) -> QueuedRequest:
        """Record a failed attempt: requeued after `retry_in_s` when given and attempts are
        left, else failed for good with `reason`."""
        current = self.get(request_id)
        if retry_in_s is not None and current.attempts < current.max_attempts:
            with self._tx() as cur:
                self._requeue(cur, request_id, reason, time.time() + retry_in_s)
            self._release(request_id)
            return self.get(request_id)
        return self._finish(request_id, "failed", reason)

    def recover(self) -> list[QueuedRequest]:
        """Requeue (or fail, attempts spent) every running request whose worker is gone;
        returns them as they now stand."""
        found: list[int] = []
        for cur, request in self._orphans():
            reason = f"worker {request.worker} stopped during attempt {request.attempts}"
            if request.attempts < request.max_attempts:
                self._requeue(cur, request.id, reason, time.time())
            else:
                self._end(cur, request.id, "failed", f"{reason}; no attempts left")
            found.append(request.id)
        return [self.get(i) for i in found]

    # --- shared steps ---------------------------------------------------------------------------

    def _finish(self, request_id: int, state: str, error: str | None) -> QueuedRequest:
        with self._tx() as cur:
            self._end(cur, request_id, state, error)
        self._release(request_id)
        return self.get(request_id)

    def _end(self, cur: Any, request_id: int, state: str, error: str | None) -> None:
        cur.execute(
            self._sql(
                f"UPDATE {TABLE} SET state = ?, finished_at = ?, "
                "error = COALESCE(?, error) WHERE id = ?"
            ),
            (state, time.time(), error, request_id),
        )

    def _requeue(self, cur: Any, request_id: int, reason: str, not_before: float) -> None:
        cur.execute(
            self._sql(
                f"UPDATE {TABLE} SET state = 'queued', not_before = ?, error = ? WHERE id = ?"
            ),
            (not_before, reason, request_id),
        )

    def __enter__(self) -> RequestQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
