"""The verifier contract the research graph codes against, and the registry that picks one by
name. A verifier labels each (claim, document) pair; the graph aggregates the verdicts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from memory.errors import UserError
from memory.models import DocVerdict, EvidenceDoc


@runtime_checkable
class Verifier(Protocol):
    """Labels a claim against each candidate document: one verdict per doc, same order."""

    name: str

    def verify(self, claim: str, docs: Sequence[EvidenceDoc]) -> list[DocVerdict]: ...


def _tfidf(**kwargs: Any) -> Verifier:
    from agents.verification.tfidf import TfidfVerifier

    return TfidfVerifier(**kwargs)


def _default(**kwargs: Any) -> Verifier:
    from agents.verification.classifier import TrainedVerifier

    return TrainedVerifier.load(**kwargs)


VERIFIERS: dict[str, Callable[..., Verifier]] = {"default": _default, "tfidf": _tfidf}


def get_verifier(name: str = "default", **kwargs: Any) -> Verifier:
    """Build a verifier by name; unknown names raise a one-line UserError listing the choices."""
    factory = VERIFIERS.get(name)
    if factory is None:
        raise UserError(f"unknown verifier {name!r}; choose one of {', '.join(sorted(VERIFIERS))}")
    return factory(**kwargs)
