"""The one door from agents to a language model.

An agent states what it wants (its role's bounded draft model), how to check a draft against
evidence, how to turn an accepted draft into its domain record, and the deterministic record.
`propose` returns the LLM's answer only if it parses and passes the checks (retried once with
the validation error), otherwise the deterministic one, and says which."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, overload

from pydantic import BaseModel

from memory.errors import ServiceUnavailable
from memory.models import Origin
from memory.secrets import redact_text

T = TypeVar("T", bound=BaseModel)
D = TypeVar("D", bound=BaseModel)  # the draft the model is asked for
R = TypeVar("R", bound=BaseModel)  # the record the agent returns


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
    unavailable: bool = False  # the fallback is because the endpoint failed, not the answer


@overload
def propose(
    llm: ChatBackend | None,
    role: str,
    output_model: type[D],
    prompt_vars: Mapping[str, Any],
    check: Callable[[D], list[str]],
    fallback: Callable[[], D],
) -> Proposal[D]: ...


@overload
def propose(
    llm: ChatBackend | None,
    role: str,
    output_model: type[D],
    prompt_vars: Mapping[str, Any],
    check: Callable[[D], list[str]],
    fallback: Callable[[], R],
    convert: Callable[[D], R],
) -> Proposal[R]: ...


def propose(
    llm: ChatBackend | None,
    role: str,
    output_model: type[Any],
    prompt_vars: Mapping[str, Any],
    check: Callable[[Any], list[str]],
    fallback: Callable[[], Any],
    convert: Callable[[Any], Any] | None = None,
) -> Proposal[Any]:
    """Ask `llm` (if any) for `output_model`; accept it only when `check` returns no problems,
    then `convert` the accepted draft into the agent's record (default: the draft itself)."""
    if llm is None:
        return Proposal(fallback(), "deterministic")
    errors: list[str] = []
    feedback: str | None = None
    for attempt in (1, 2):
        try:
            draft = llm.structured(role, output_model, prompt_vars, feedback)
        except ServiceUnavailable as exc:  # after the client's own retries: asking again is moot
            errors.append(f"attempt {attempt}: {type(exc).__name__}: {redact_text(str(exc))}")
            return Proposal(fallback(), "fallback", errors, attempt, unavailable=True)
        except Exception as exc:  # parse errors, a cut-off reply
            problems = [f"{type(exc).__name__}: {redact_text(str(exc))}"]
        else:
            problems = check(draft)
            if not problems:
                value = draft if convert is None else convert(draft)
                return Proposal(value, "llm", errors, attempt)
        errors.extend(f"attempt {attempt}: {p}" for p in problems)
        feedback = "Your previous answer was rejected: " + "; ".join(problems)
    return Proposal(fallback(), "fallback", errors, 2)
