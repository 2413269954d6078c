"""The one door from agents to a language model.

An agent states what it wants (a pydantic model), how to check it against evidence, and the
deterministic answer. `propose` returns an LLM answer only if it parses and passes the checks
(retried once with the validation error), otherwise the deterministic one, and says which."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from memory.models import Origin

T = TypeVar("T", bound=BaseModel)


class ChatBackend(Protocol):
    """What `propose` needs from an LLM client (implemented in agents.llm.client)."""

    def structured(
        self,
        role: str,
        output_model: type[T],
        prompt_vars: Mapping[str, Any],
        feedback: str | None = None,
    ) -> T: ...


@dataclass
class Proposal(Generic[T]):
    value: T
    origin: Origin  # "deterministic" (no LLM), "llm" (accepted), "fallback" (LLM rejected)
    errors: list[str] = field(default_factory=list)
    attempts: int = 0


def propose(
    llm: ChatBackend | None,
    role: str,
    output_model: type[T],
    prompt_vars: Mapping[str, Any],
    check: Callable[[T], list[str]],
    fallback: Callable[[], T],
) -> Proposal[T]:
    """Ask `llm` (if any) for `output_model`; accept it only when `check` returns no problems."""
    if llm is None:
        return Proposal(fallback(), "deterministic")
    errors: list[str] = []
    feedback: str | None = None
    for attempt in (1, 2):
        try:
            value = llm.structured(role, output_model, prompt_vars, feedback)
        except Exception as exc:  # parse errors, HTTP errors after retries, timeouts
            problems = [f"{type(exc).__name__}: {exc}"]
        else:
            problems = check(value)
            if not problems:
                return Proposal(value, "llm", errors, attempt)
        errors.extend(f"attempt {attempt}: {p}" for p in problems)
        feedback = "Your previous answer was rejected: " + "; ".join(problems)
    return Proposal(fallback(), "fallback", errors, 2)
