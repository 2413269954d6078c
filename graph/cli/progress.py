"""What a person at a terminal sees while a run goes: one line per stage when it ends (a
stage is a node, or all parallel branches of one: the searches, the sources read, the three
reviewers), a bar while a stage's branches finish and a ticking clock while a long step runs
(on a terminal only; pipes and logs get the stage lines alone). The JSON transcript goes to
the run's events.jsonl instead (see graph.transcript)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

LABELS = {
    "resolve_paper": "paper",
    "extract_facets": "facets",
    "plan_queries": "plan queries",
    "search_arxiv": "search arXiv",
    "index_memory": "vector memory",
    "read_source": "read sources",
    "select_claims": "select claims",
    "verify_claims": "verify claims",
    "assess_evidence": "assess evidence",
    "skeptic": "tribunal",
    "validator": "tribunal",
    "synthesizer": "tribunal",
    "consensus": "consensus",
    "revise": "revise",
    "apply_policy": "policy",
    "write_report": "report",
    "publish": "publication",
    "owner_review": "owner review",
}
BAR_WIDTH = 24
TICK_S = 0.5
CLEAR = "\r\x1b[K"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def _count(updates: list[dict[str, Any]], key: str) -> int:
    return sum(len(u.get(key) or []) for u in updates)


def _items(updates: list[dict[str, Any]], key: str) -> list[Any]:
    return [item for u in updates for item in (u.get(key) or [])]


def _last(updates: list[dict[str, Any]], key: str) -> Any:
    return next((u[key] for u in reversed(updates) if u.get(key) is not None), None)


def _paper(updates: list[dict[str, Any]]) -> str:
    target = _last(updates, "target")
    if target:
        return f"{target['arxiv_id']} {target.get('title', '')}".strip()
    return f"none ({_last(updates, 'input_error') or _last(updates, 'target_note') or '-'})"


def _facets(updates: list[dict[str, Any]]) -> str:
    facets = _last(updates, "facets") or {}
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in facets.items() if v) or "none found"


def _search(updates: list[dict[str, Any]]) -> str:
    failed = sum(1 for e in _items(updates, "search_log") if e.get("error"))
    searches = plural(len(updates), "search", "searches")
    text = f"{searches}, {plural(_count(updates, 'papers'), 'result')}"
    return text + (f", {failed} failed" if failed else "")


def _read(updates: list[dict[str, Any]]) -> str:
    full = sum(1 for r in _items(updates, "fulltext_log") if r.get("status") == "full")
    claims = plural(_count(updates, "candidate_claims"), "candidate claim")
    return f"{plural(len(updates), 'source')} ({full} in full), {claims}"


def _verify(updates: list[dict[str, Any]]) -> str:
    found = _items(updates, "verifications")
    verified = sum(1 for v in found if v.get("status") == "verified")
    return f"{verified} of {plural(len(found), 'claim')} verified by another source"


def _assess(updates: list[dict[str, Any]]) -> str:
    coverage = _items(updates, "coverage")
    covered = sum(1 for c in coverage if c.get("covered"))
    conflicts = plural(_count(updates, "conflicts"), "conflict")
    return f"{conflicts}; {covered} of {plural(len(coverage), 'facet')} covered"


def _tribunal(updates: list[dict[str, Any]]) -> str:
    reviews = _items(updates, "reviews")
    return ", ".join(f"{r['role']} {float(r['score']):.2f}" for r in reviews) or "no reviews"


def _policy(updates: list[dict[str, Any]]) -> str:
    reasons = _last(updates, "policy_reasons") or []
    return f"{_last(updates, 'policy')} ({plural(len(reasons), 'reason')})"


def _publish(updates: list[dict[str, Any]]) -> str:
    pub = _last(updates, "publication")
    if pub:
        return f"{pub['report_id']} {pub['status']}"
    return "not recorded (nothing to publish or decide)"


def _owner(updates: list[dict[str, Any]]) -> str:
    decision = _last(updates, "owner_decision")
    if decision:
        return f"{decision['decision']} by {decision['who']}"
    return "nothing to decide"


SUMMARIES: dict[str, Callable[[list[dict[str, Any]]], str]] = {
    "paper": _paper,
    "facets": _facets,
    "plan queries": lambda u: plural(_count(u, "queries"), "query", "queries"),
    "search arXiv": _search,
    "vector memory": lambda u: (
        f"{plural(_count(u, 'indexed_ids'), 'paper')} indexed, {_count(u, 'reading_list')} to read"
    ),
    "read sources": _read,
    "select claims": lambda u: plural(_count(u, "claims"), "claim"),
    "verify claims": _verify,
    "assess evidence": _assess,
    "tribunal": _tribunal,
    "consensus": lambda u: f"{float(_last(u, 'consensus') or 0):.2f}/10",
    "revise": lambda u: plural(_count(u, "queries"), "new query", "new queries"),
    "policy": _policy,
    "report": lambda u: "report.md and run.json written",
    "publication": _publish,
    "owner review": _owner,
}


def summarise(label: str, updates: list[dict[str, Any]]) -> str:
    """The stage line's text, from the updates of its branches."""
    summary = SUMMARIES.get(label)
    text = summary(updates) if summary else _generic(updates)
    if halted := _last(updates, "halted"):
        text += f" — stopped: {halted}"
    return text


def _generic(updates: list[dict[str, Any]]) -> str:
    """A stage added to the graph later: what it wrote, counted."""
    keys = sorted({k for u in updates for k, v in u.items() if v not in (None, [], {})})
    return ", ".join(keys) or "done"


@dataclass
class _Stage:
    label: str
    started: float
    total: int = 0
    done: int = 0
    updates: list[dict[str, Any]] = field(default_factory=list)


class TerminalProgress:
    """Receives the runner's task events (`started`, `finished`) and prints stage lines."""

    def __init__(self, stream: TextIO, t0: float | None = None, tty: bool | None = None) -> None:
        self.stream = stream
        self.t0 = t0 or time.time()
        self.tty = stream.isatty() if tty is None else tty
        self.stages: dict[str, _Stage] = {}
        self.waiting = False  # the run paused for the owner
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> TerminalProgress:
        if self.tty:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        with self._lock:
            if self.tty:
                self.stream.write(CLEAR)
                self.stream.flush()

    def started(self, node: str) -> None:
        label = LABELS.get(node, node.replace("_", " "))
        with self._lock:
            stage = self.stages.setdefault(label, _Stage(label, time.time()))
            stage.total += 1  # drawn by the clock or the first branch to finish

    def finished(self, node: str, update: dict[str, Any], interrupted: bool = False) -> None:
        label = LABELS.get(node, node.replace("_", " "))
        with self._lock:
            stage = self.stages.get(label) or _Stage(label, time.time(), total=1)
            if interrupted:
                self.waiting = True
                self.stages.pop(label, None)
                self._line(label, "paused: awaiting the owner's decision")
                return
            stage.done += 1
            stage.updates.append(update)
            if stage.done < stage.total:
                self._draw(stage)
                return
            self.stages.pop(label, None)
            self._line(label, summarise(label, stage.updates))

    # --- drawing (callers hold the lock) ---------------------------------------------------

    def _clock(self) -> str:
        return f"[{time.time() - self.t0:6.1f}s]"

    def _line(self, label: str, text: str) -> None:
        prefix = CLEAR if self.tty else ""
        self.stream.write(f"{prefix}{self._clock()} {label:<16} {text}\n")
        self.stream.flush()

    def _draw(self, stage: _Stage) -> None:
        """A bar for a stage of parallel branches, or the time a single step has taken."""
        if not self.tty:
            return
        if stage.total > 1:
            filled = BAR_WIDTH * stage.done // stage.total
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            status = f"[{bar}] {stage.done}/{stage.total}"
        elif time.time() - stage.started >= 1:
            status = f"… {time.time() - stage.started:.0f} s"
        else:
            return  # a quick step: its line follows at once
        self.stream.write(f"{CLEAR}{self._clock()} {stage.label:<16} {status}")
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            with self._lock:
                if self.stages:
                    self._draw(next(iter(self.stages.values())))
