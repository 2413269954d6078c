"""The queue's worker: N threads (one `Services` shared, it has its own lock) each taking the
oldest ready request, running it through the research graph and recording how it ended.

A transient failure (a service unreachable, a dropped connection, an HTTP 408/429/5xx: the
same judgement as memory.net's) requeues the request after a backoff that doubles per attempt;
any other failure, or the last attempt, ends it as failed with its reason, and the worker moves
on, so one bad request never blocks the queue. Before each claim a worker also requeues the
requests of workers that died (`RequestQueue.recover`). Every step is a structlog event filed
with the request's run (`queue_claimed`, `queue_done`, `queue_retry`, `queue_failed`,
`queue_recovered`)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graph.settings import Settings
from graph.transcript import get_logger
from memory.errors import ServiceUnavailable
from memory.net import RetryPolicy, is_transient
from memory.queue import QueuedRequest, RequestQueue, worker_name

if TYPE_CHECKING:  # importing the services pulls chromadb and onnxruntime: at first use only
    from graph.services import Services

Handler = Callable[[QueuedRequest], str]  # runs one request; returns how it ended, in words


def transient(exc: BaseException) -> bool:
    """Worth another attempt later: a service or connection that may come back."""
    return isinstance(exc, ServiceUnavailable | OSError) or is_transient(exc)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Worker:
    """Runs requests from `queue` with `handler` until stopped (or, `until_empty`, until no
    request is queued or running)."""

    queue: RequestQueue
    handler: Handler
    concurrency: int = 1
    poll_s: float = 1.0
    backoff: RetryPolicy = field(default_factory=RetryPolicy)
    until_empty: bool = False
    on_event: Callable[[str, QueuedRequest], None] | None = None  # e.g. terminal lines
    on_idle: Callable[[], None] | None = None  # no request in hand in any thread
    counts: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _active: int = 0

    def run(self) -> Counter[str]:
        """Block until done; returns how many requests ended done, failed or were retried."""
        threads = [
            threading.Thread(target=self._loop, name=f"sovereign-worker-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        try:
            while any(t.is_alive() for t in threads):
                for thread in threads:
                    thread.join(timeout=0.2)
        finally:
            self._stop.set()
        return self.counts

    def stop(self) -> None:
        """Finish the requests in hand, take no more."""
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self._step():
                    continue
                self._idle()
                if self.until_empty and self.queue.pending() == 0:
                    return
            except Exception as exc:  # the queue itself failed (database gone): wait, retry
                get_logger(None, "queue", role="worker").error("queue_error", error=_reason(exc))
            self._stop.wait(self.poll_s)

    def _step(self) -> bool:
        """Recover dead workers' requests, then run one request; False when none is ready."""
        for orphan in self.queue.recover():
            self._event("queue_recovered", orphan, reason=orphan.error)
        request = self.queue.claim(worker_name())
        if request is None:
            return False
        self._event("queue_claimed", request, attempt=request.attempts)
        with self._lock:
            self._active += 1
        try:
            outcome = self.handler(request)
        except Exception as exc:
            self._failed(request, exc)
        else:
            self._event("queue_done", self.queue.complete(request.id), outcome=outcome)
        finally:
            with self._lock:
                self._active -= 1
        return True

    def _idle(self) -> None:
        """Tell `on_idle` when no thread holds a request (e.g. to let go of the home)."""
        with self._lock:
            if self._active == 0 and self.on_idle is not None:
                self.on_idle()

    def _failed(self, request: QueuedRequest, exc: Exception) -> None:
        retry_in = self.backoff.backoff(request.attempts) if transient(exc) else None
        after = self.queue.fail(request.id, _reason(exc), retry_in_s=retry_in)
        if after.state == "queued":
            self._event("queue_retry", after, reason=after.error, retry_in_s=retry_in)
        else:
            self._event("queue_failed", after, reason=after.error)

    def _event(self, name: str, request: QueuedRequest, **fields: Any) -> None:
        level = "error" if name == "queue_failed" else "info"
        log = get_logger(request.run_id, "queue", role="worker")
        getattr(log, level)(
            name, request_id=request.id, state=request.state, worker=request.worker, **fields
        )
        with self._lock:
            self.counts[name.removeprefix("queue_")] += 1
        if self.on_event is not None:
            self.on_event(name, request)


def backoff_policy(settings: Settings) -> RetryPolicy:
    """memory.net's backoff (doubling, jittered) from the queue's settings."""
    base = settings.queue_backoff_s
    return RetryPolicy(backoff_s=base, max_backoff_s=max(base * 16, 1.0), jitter=0.5)


# How the graph records that arXiv could not be reached (it ends such a run "not answered"
# rather than raising): for the queue that is a transient failure, worth a fresh run later.
OUTAGE_HALTS = ("arXiv source unavailable", "every arXiv search failed")


def outage(values: dict[str, Any]) -> str | None:
    """Why a finished run could not answer, when the reason is a service outage."""
    from memory.run import RunRecord

    record = RunRecord.from_state(values)
    halted = record.halted or ""
    if record.target_status == "unavailable" or halted.startswith(OUTAGE_HALTS):
        return halted or record.target_note or "the arXiv source was unavailable"
    return None


def research_handler(settings: Settings, services: Services | None = None) -> Handler:
    """Runs a request through the real graph, resuming its run when an earlier attempt (a
    worker that died) left checkpoints; a run that ended on an outage is run afresh. An
    unattended worker never holds a graph paused for a person: an escalated run is recorded in
    the publication store for `sovereign review`, as `research --no-owner-review` does."""
    from graph.checkpoints import checkpointer, thread_ids
    from graph.runner import load_run, publication_status, resume_run, run_research, status_of
    from graph.services import services_for

    services = services or services_for(settings)

    def fresh(request: QueuedRequest) -> dict[str, Any]:
        return run_research(
            request.question,
            settings,
            paper=request.paper,
            run_id=request.run_id,
            owner_review=False,
            services=services,
        )

    def handle(request: QueuedRequest) -> str:
        if request.run_id not in thread_ids(settings):
            values = fresh(request)
        else:
            values = load_run(request.run_id, settings)
            if values.get("_next") and not values.get("_interrupts"):
                values = resume_run(request.run_id, None, settings, services=services)
            elif outage(values):  # the last attempt met an outage: this one starts over
                with checkpointer(settings) as saver:
                    saver.delete_thread(request.run_id)
                values = fresh(request)
        if reason := outage(values):
            raise ServiceUnavailable(reason)
        return status_of(values, publication_status(request.run_id, settings))

    return handle


def open_settings_queue(settings: Settings) -> RequestQueue:
    from memory.queue import open_queue

    return open_queue(settings.database_url, settings.queue_path)
