"""The deterministic rules agents decide by: facets, measurable claims, conflicts, policy,
reviewer grounding checks, target resolution."""

from __future__ import annotations

from typing import Any

from agents.claim_extractor import is_measurable, select_claims
from agents.conflicts import find_conflicts
from agents.consensus import Draft, check_review, consensus
from agents.facets import coverage, extract_facets
from agents.policy import decide
from agents.resolver import resolve_target
from memory.models import Claim, Concern, Facets, Review
from memory.run import RunRecord
from tests.unit.graph_fakes import KeywordSearch, load_fixture


def test_facets_of_a_throughput_question() -> None:
    f = extract_facets(
        "How does SMoES's inference throughput (tokens/sec) on Winoground compare to "
        "modality-agnostic MoE-VLMs when scaling the number of experts from 16 to 128?"
    )
    assert f.entity == ["SMoES"]
    assert f.metric == ["throughput"] and f.benchmark == ["Winoground"]
    assert f.comparison == ["modality-agnostic MoE-VLMs"]
    assert any("16 to 128" in c for c in f.conditions)


def test_a_question_asking_how_accurate_asks_for_accuracy() -> None:
    """A question asking "how accurate" names the accuracy metric by its adjective; without it the
    question had no metric facet and no body sentence such as "detector accuracy was about
    91%" was taken as bearing on it."""
    assert extract_facets("How accurate is the detector of arXiv 2212.11808?").metric == [
        "accuracy"
    ]
    assert coverage(
        Facets(metric=["accuracy"]),
        [{"arxiv_id": "1", "title": "D", "abstract": "It is 88% accurate on human text."}],
        "How accurate is D?",
    )[0].covered


def test_uncovered_metric_on_benchmark_is_named() -> None:
    f = Facets(metric=["throughput"], benchmark=["Winoground"])
    papers = [
        {"arxiv_id": "1", "title": "Fast MoE", "abstract": "Throughput rises 2x on MMMU."},
        {
            "arxiv_id": "2",
            "title": "Winoground study",
            "abstract": "Accuracy on Winoground is 30%.",
        },
    ]
    cov = {c.value: c for c in coverage(f, papers, "throughput on Winoground?")}
    assert cov["throughput"].covered and cov["Winoground"].covered
    pair = cov["throughput on Winoground"]
    assert not pair.covered and pair.note == "no retrieved source measures throughput on Winoground"


def test_vacuous_sentences_are_not_measurable() -> None:
    assert not is_measurable("The field of NLP has made significant strides in recent years.")
    assert not is_measurable("We propose a new model for Qwen3 released in 2023.")
    assert is_measurable("SMoES achieves a 10.3% reduction in TTFT on MMMU.")
    assert is_measurable("Our method outperforms baselines on ImageNet.")


def _claim(cid: str, text: str, source: str, value: float, **kw: Any) -> Claim:
    return Claim(id=cid, text=text, quote=text, source_id=source, value=value, **kw)


def test_conflict_needs_same_subject_metric_and_setting() -> None:
    a = _claim(
        "C1",
        "SMoES cuts TTFT by 22.6% on MMMU at batch size 32.",
        "p1",
        22.6,
        metric="latency",
        unit="%",
        setting="MMMU; batch size 32",
        sentence_index=1,
    )
    b = _claim(
        "C2",
        "SMoES cuts TTFT by 23.9% on MMMU at batch size 32.",
        "p1",
        23.9,
        metric="latency",
        unit="%",
        setting="MMMU; batch size 32",
        sentence_index=2,
    )
    other = _claim(
        "C3",
        "Dense VLMs cut TTFT by 5% on MMMU at batch size 32.",
        "p2",
        5.0,
        metric="latency",
        unit="%",
        setting="MMMU; batch size 32",
        sentence_index=0,
    )
    elsewhere = _claim(
        "C4",
        "SMoES cuts TTFT by 9% on MMMU at batch size 1.",
        "p1",
        9.0,
        metric="latency",
        unit="%",
        setting="MMMU; batch size 1",
        sentence_index=3,
    )
    conflicts = find_conflicts([a, b, other, elsewhere], ["SMoES"])
    assert [c.claim_ids for c in conflicts] == [["C1", "C2"]]
    assert conflicts[0].values == [22.6, 23.9]


def test_select_claims_dedupes_and_numbers_by_relevance() -> None:
    c = [
        _claim("p1#0", "A reaches 1% on X.", "p1", 1, relevance=0.2, sentence_index=0),
        _claim("p2#3", "B reaches 2% on X.", "p2", 2, relevance=0.9, sentence_index=3),
        _claim("p2#3", "B reaches 2% on X.", "p2", 2, relevance=0.9, sentence_index=3),
    ]
    chosen = select_claims(c, 5)
    assert [(x.id, x.source_id) for x in chosen] == [("C1", "p2"), ("C2", "p1")]


def _record(**kw: Any) -> RunRecord:
    """A decided-upon draft: one verified claim, every facet covered, no conflict."""
    base: dict[str, Any] = {
        "settings_used": {"consensus_threshold": 6.5, "max_revisions": 2},
        "consensus": 7.0,
        "claims": [
            {"id": "C1", "text": "A reaches 1%.", "quote": "A reaches 1%.", "source_id": "p1"}
        ],
        "verifications": [
            {"claim_id": "C1", "status": "verified", "confidence": 0.9, "method": "t"}
        ],
        "coverage": [{"facet": "metric", "value": "accuracy", "covered": True}],
        "conflicts": [],
        "target_status": "resolved",
    }
    base.update(kw)
    return RunRecord.from_state(base)


def test_policy_needs_all_three_conditions() -> None:
    assert decide(_record())[0] == "AUTO_APPROVE"
    assert decide(_record(consensus=6.4))[0] == "ESCALATE_TO_OWNER"
    unverified = [{"claim_id": "C1", "status": "unverified", "confidence": 0.1, "method": "t"}]
    assert decide(_record(verifications=unverified))[0] == "ESCALATE_TO_OWNER"
    gap = [{"facet": "benchmark", "value": "Winoground", "covered": False}]
    policy, reasons = decide(_record(coverage=gap))
    assert policy == "ESCALATE_TO_OWNER" and "Winoground" in reasons[0]
    conflict = [
        {"note": "two values", "metric": "m", "setting": "s", "claim_ids": [], "values": []}
    ]
    assert decide(_record(conflicts=conflict))[0] == "ESCALATE_TO_OWNER"


def test_policy_pass_mark_is_the_runs_own() -> None:
    strict = {"consensus_threshold": 7.5, "max_revisions": 2}
    policy, reasons = decide(_record(settings_used=strict))
    assert policy == "ESCALATE_TO_OWNER" and reasons == ["tribunal consensus 7.00 < 7.5"]
    lenient = {"consensus_threshold": 5.0, "max_revisions": 2}
    assert decide(_record(consensus=5.0, settings_used=lenient))[0] == "AUTO_APPROVE"


def test_review_check_rejects_unknown_claims_and_bad_scores() -> None:
    good = Review(role="SKEPTIC", round=0, score=5, concerns=[Concern(text="x", claim_ids=["C1"])])
    assert check_review(good, "SKEPTIC", {"C1"}) == []
    bad = Review(role="SKEPTIC", round=0, score=5, concerns=[Concern(text="x", claim_ids=["C9"])])
    assert check_review(bad, "SKEPTIC", {"C1"})
    assert check_review(good, "VALIDATOR", {"C1"})
    reviews = [
        {"role": "SKEPTIC", "round": 1, "score": 6.0},
        {"role": "VALIDATOR", "round": 1, "score": 7.0},
        {"role": "SYNTHESIZER", "round": 1, "score": 8.0},
        {"role": "SKEPTIC", "round": 0, "score": 1.0},
    ]
    assert consensus(reviews, 1) == 7.0


def test_resolver_never_substitutes_another_paper() -> None:
    search = KeywordSearch(load_fixture())
    found = resolve_target("What does FlexMoE reach on MMMU?", None, search)
    assert found.status == "resolved" and found.paper and found.paper.arxiv_id == "2601.00001"
    missing = resolve_target("What does arXiv 2601.99999 reach on MMMU?", None, search)
    assert missing.status == "not_found" and missing.paper is None
    by_flag = resolve_target("What accuracy on MMMU?", "No Such Paper: A Title", search)
    assert by_flag.status == "not_found" and by_flag.paper is None
    general = resolve_target("How fast are quantized experts?", None, search)
    assert general.status == "none_named" and general.paper is None


def test_reviewers_see_the_runs_own_pass_mark() -> None:
    task: dict[str, Any] = {
        "question": "q",
        "round": 0,
        "settings_used": {"consensus_threshold": 7.25},
    }
    assert Draft.from_task(task).threshold == 7.25
    assert Draft.from_task({"question": "q", "round": 0}).threshold is None  # never a default
