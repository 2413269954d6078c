"""A claim about a named method can only be decided by a source that talks about that method,
and a comparison with no number and no named benchmark is vacuous."""

from __future__ import annotations

from collections.abc import Sequence

from agents.claim_extractor import is_measurable
from agents.verification.claims import subject_names, verify_claims
from memory.models import Claim, DocVerdict, EvidenceDoc, Paper, Passage


def _paper(pid: str, title: str, abstract: str) -> Paper:
    return Paper(
        arxiv_id=pid, title=title, abstract=abstract, abs_url=f"http://arxiv.org/abs/{pid}"
    )


PAPERS = {
    p.arxiv_id: p
    for p in [
        _paper(
            "2604.07812",
            "HAWK: Head Importance-Aware Visual Token Pruning",
            "HAWK retains 96.0% of the original accuracy after pruning 80.2% of visual tokens. "
            "It runs on a GPU.",
        ),
        _paper(
            "2605.00001",
            "Token pruning for VLMs",
            "Pruning visual tokens keeps accuracy and cuts latency on a GPU.",
        ),
        _paper(
            "2605.00002",
            "A study of HAWK and FastV",
            "We reproduce HAWK and find it retains 96.0% of the original accuracy.",
        ),
    ]
    + [
        _paper(f"2605.001{i:02d}", f"Filler {i}", f"GPU kernels for inference number {i}.")
        for i in range(20)
    ]
}


class AllSupport:
    """A verifier that says SUPPORT to everything: the anchoring rule must still hold."""

    name = "all-support"

    def verify(self, claim: str, docs: Sequence[EvidenceDoc]) -> list[DocVerdict]:
        return [DocVerdict(doc_id=d.doc_id, label="SUPPORT", confidence=0.9) for d in docs]


class Memory:
    """Returns the requested ids in a fixed order, like a vector memory restricted to them."""

    def __init__(self, order: list[str]) -> None:
        self.order = order

    def query(self, text: str, k: int = 5, **kw: object) -> list[Passage]:
        allowed = set(kw.get("restrict_to") or self.order)  # type: ignore[call-overload]
        excluded = set(kw.get("exclude_sources") or ())  # type: ignore[call-overload]
        ids = [i for i in self.order if i in allowed and i not in excluded][:k]
        return [Passage(id=i, source_id=i, text="", score=0.5) for i in ids]


def _claim(text: str) -> Claim:
    return Claim(id="C1", text=text, quote=text, source_id="2604.07812")


def test_subjects_are_the_rare_names_of_claim_and_source_title() -> None:
    claim = _claim("HAWK retains 96.0% of the original accuracy. It runs on a GPU.")
    names = subject_names(claim, PAPERS)
    assert "HAWK" in names
    assert "GPU" not in names  # mentioned by most retrieved papers: names nobody


def test_only_a_source_about_the_subject_can_verify() -> None:
    claim = _claim("HAWK retains 96.0% of the original accuracy after pruning 80.2% of tokens.")
    only_generic = Memory(["2605.00001"])
    [v] = verify_claims([claim], only_generic, PAPERS, AllSupport(), "all-support", k=3)
    assert v.status == "unverified" and v.confidence == 0.0
    assert [e.doc_id for e in v.evidence] == ["2605.00001"]  # considered, kept on record
    with_replication = Memory(["2605.00001", "2605.00002"])
    [v] = verify_claims([claim], with_replication, PAPERS, AllSupport(), "all-support", k=3)
    assert v.status == "verified"
    assert v.evidence_quotes == [] or all("HAWK" in q for q in v.evidence_quotes)


def test_comparisons_need_a_number_or_a_named_benchmark() -> None:
    assert not is_measurable("HAWK achieves state-of-the-art accuracy on several benchmarks.")
    assert not is_measurable("The surge of visual tokens significantly increases inference time.")
    assert is_measurable("HAWK outperforms FastV on MMMU.")
    assert is_measurable("HAWK reduces end-to-end latency to 74.4% of the original.")
