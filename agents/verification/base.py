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


def _default(
    path: Any = None, nli: Any = None, nli_labels: str | None = None, home: Any = None
) -> Verifier:
    """The shipped artifact; with `nli` (the NLI slot: an exported ONNX pair classifier, file or
    folder), the artifact trained for that model under `home` by `sovereign eval
    train-verifier --nli`."""
    from agents.verification.classifier import TrainedVerifier

    if nli is None:
        return TrainedVerifier.load(path)
    from agents.verification.stance import PairModelSpec, nli_artifact

    spec = PairModelSpec.from_path(nli, nli_labels)
    if path is None and home is None:
        raise UserError("the NLI slot needs the home its verifier artifact was trained under")
    verifier = TrainedVerifier.load(path or nli_artifact(home, spec))
    if spec.sha256 not in {d.get("sha256") for d in verifier.pair_models}:
        raise UserError(
            f"the verifier artifact was not trained with {spec.model}; run `sovereign eval "
            f"train-verifier --nli {nli}`"
        )
    return verifier


def _llm_judge(llm: Any = None, **kwargs: Any) -> Verifier:
    """The LLM stance judge over the default (`judge.LLMStanceJudge`); `llm` is a ChatBackend."""
    from agents.verification.classifier import TrainedVerifier
    from agents.verification.judge import LLMStanceJudge

    if llm is None:
        raise UserError("verifier 'llm-judge' needs an LLM (set SOVEREIGN_LLM_BASE_URL)")
    base = _default(**kwargs)
    assert isinstance(base, TrainedVerifier)
    return LLMStanceJudge(base, llm)


VERIFIERS: dict[str, Callable[..., Verifier]] = {
    "default": _default,
    "tfidf": _tfidf,
    "llm-judge": _llm_judge,
}


def get_verifier(name: str = "default", **kwargs: Any) -> Verifier:
    """Build a verifier by name; unknown names raise a one-line UserError listing the choices."""
    factory = VERIFIERS.get(name)
    if factory is None:
        raise UserError(f"unknown verifier {name!r}; choose one of {', '.join(sorted(VERIFIERS))}")
    return factory(**kwargs)
