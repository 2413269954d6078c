"""Per-run LLM accounting: the report and the manifest state how many calls and tokens a run
cost, so the counters live on the backend object the run created."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RoleUsage:
    calls: int = 0  # HTTP requests that returned a completion
    failed_calls: int = 0  # requests that ended in an error (after which we may retry)
    retries: int = 0  # requests repeated because of 429 / 5xx / timeout
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls_without_usage: int = 0  # the server reported no token counts for these
    wall_s: float = 0.0


@dataclass
class UsageCounter:
    """Thread-safe counters (parallel graph nodes share one backend)."""

    by_role: dict[str, RoleUsage] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _role(self, role: str) -> RoleUsage:
        return self.by_role.setdefault(role, RoleUsage())

    def record_call(
        self, role: str, prompt_tokens: int | None, completion_tokens: int | None, wall_s: float
    ) -> None:
        with self._lock:
            r = self._role(role)
            r.calls += 1
            r.wall_s += wall_s
            if prompt_tokens is None and completion_tokens is None:
                r.calls_without_usage += 1
            r.prompt_tokens += prompt_tokens or 0
            r.completion_tokens += completion_tokens or 0

    def record_failure(self, role: str, wall_s: float, will_retry: bool) -> None:
        with self._lock:
            r = self._role(role)
            r.failed_calls += 1
            r.wall_s += wall_s
            if will_retry:
                r.retries += 1

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON: totals plus a per-role breakdown."""
        with self._lock:
            roles = {name: asdict(u) for name, u in sorted(self.by_role.items())}
        total = RoleUsage()
        for u in roles.values():
            for key, value in u.items():
                setattr(total, key, getattr(total, key) + value)
        out: dict[str, Any] = asdict(total)
        out["total_tokens"] = total.prompt_tokens + total.completion_tokens
        out["wall_s"] = round(total.wall_s, 3)
        out["by_role"] = roles
        return out

    def reset(self) -> None:
        with self._lock:
            self.by_role.clear()
