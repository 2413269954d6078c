"""A queued research request as every queue backend stores and returns it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

State = Literal["queued", "running", "done", "failed"]
STATES: tuple[State, ...] = ("queued", "running", "done", "failed")
COLUMNS = (
    "id, question, paper, run_id, state, attempts, max_attempts, not_before, submitted_at, "
    "started_at, finished_at, worker, error"
)


class QueuedRequest(BaseModel):
    """One `sovereign submit`: the question, the run it becomes, where it stands. `error` is
    the last failure's reason in full (kept after a later success: why it took retries)."""

    model_config = ConfigDict(frozen=True)

    id: int
    question: str
    paper: str | None
    run_id: str
    state: State
    attempts: int  # claims so far (a worker that died mid-run counts)
    max_attempts: int
    not_before: float  # epoch seconds: a retried request waits out its backoff
    submitted_at: float
    started_at: float | None
    finished_at: float | None
    worker: str | None  # host:pid:thread of the worker that holds (or last held) it
    error: str | None

    @classmethod
    def from_row(cls, row: tuple[object, ...]) -> QueuedRequest:
        names = [c.strip() for c in COLUMNS.split(",")]
        return cls.model_validate(dict(zip(names, row, strict=True)))
