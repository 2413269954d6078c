"""The LLM paths against a loopback server that speaks OpenAI's chat protocol with scripted
replies: invalid JSON, a fabricated quote, 429 + Retry-After, 5xx, a timeout, a valid reply."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from agents import skeptic
from agents.llm import propose
from agents.llm.client import LLMUnavailable, OpenAIChat
from agents.llm.schemas import ClaimList, QueryPlan, ReviewDraft
from agents.llm.scripted_server import Reply, ScriptedOpenAIServer
from memory.text import quote_in_source

pytestmark = pytest.mark.integration

SOURCE = {
    "2401.00001": "We propose FastNet. FastNet reaches 91.2% accuracy on ImageNet. "
    "It runs at 300 images per second."
}
GOOD_CLAIM = {
    "text": "FastNet reaches 91.2% accuracy on ImageNet",
    "quote": "FastNet reaches 91.2% accuracy on ImageNet.",
    "source_id": "2401.00001",
    "metric": "accuracy",
    "value": 91.2,
    "unit": "%",
    "setting": "ImageNet",
}
FABRICATED = {**GOOD_CLAIM, "quote": "FastNet reaches 99.9% accuracy on every benchmark."}
VARS = {"question": "How accurate is FastNet?", "papers": SOURCE}


def quotes_grounded(value: ClaimList) -> list[str]:
    """The grounding rule of the claim extractor: each quote occurs in its source."""
    problems = []
    for i, c in enumerate(value.claims):
        if c.source_id not in SOURCE:
            problems.append(f"claim {i}: unknown source_id {c.source_id}")
        elif not quote_in_source(c.quote, SOURCE[c.source_id]):
            problems.append(f"claim {i}: quote not found in {c.source_id}: {c.quote!r}")
    return problems


DETERMINISTIC = ClaimList.model_validate({"claims": [GOOD_CLAIM]})


class Sleeps(list[float]):
    """Records requested waits and really sleeps (so the server sees the pause)."""

    def __call__(self, seconds: float) -> None:
        import time

        self.append(seconds)
        time.sleep(seconds)


def client(server: ScriptedOpenAIServer, **kw: Any) -> OpenAIChat:
    options: dict[str, Any] = {"timeout_s": 5.0, "rpm": 600_000, "backoff_s": 0.05, **kw}
    return OpenAIChat(server.base_url, "scripted-model", None, **options)


def test_valid_reply_is_accepted_and_counted(serve: Any) -> None:
    srv = serve([Reply.json({"claims": [GOOD_CLAIM]}, usage=(120, 35))])
    llm = client(srv)
    proposal = propose(
        llm, "claim_extractor", ClaimList, VARS, quotes_grounded, lambda: DETERMINISTIC
    )
    assert proposal.origin == "llm" and proposal.attempts == 1 and proposal.errors == []
    assert proposal.value.claims[0].value == 91.2
    snap = llm.usage.snapshot()
    assert (snap["calls"], snap["prompt_tokens"], snap["completion_tokens"]) == (1, 120, 35)
    body = srv.requests[0].body
    assert body["model"] == "scripted-model"
    assert body["response_format"]["type"] == "json_object"  # llama.cpp's form on loopback
    assert "claims" in body["response_format"]["schema"]["properties"]
    assert "<<<DATA papers>>>" in srv.requests[0].text


def test_invalid_json_is_retried_with_the_error_then_accepted(serve: Any) -> None:
    srv = serve(
        [
            Reply("Sure, here are the claims: FastNet is great."),
            Reply.json({"claims": [GOOD_CLAIM]}),
        ]
    )
    proposal = propose(
        client(srv), "claim_extractor", ClaimList, VARS, quotes_grounded, lambda: DETERMINISTIC
    )
    assert proposal.origin == "llm" and proposal.attempts == 2
    assert "no JSON object" in proposal.errors[0]
    assert "<<<DATA rejection>>>" not in srv.requests[0].text
    assert "<<<DATA rejection>>>" in srv.requests[1].text
    assert "no JSON object" in srv.requests[1].text


def test_fabricated_quote_fails_grounding_twice_and_falls_back(serve: Any) -> None:
    srv = serve([Reply.json({"claims": [FABRICATED]})])
    proposal = propose(
        client(srv), "claim_extractor", ClaimList, VARS, quotes_grounded, lambda: DETERMINISTIC
    )
    assert proposal.origin == "fallback"
    assert proposal.value == DETERMINISTIC
    assert len(proposal.errors) == 2 and all("quote not found" in e for e in proposal.errors)
    assert len(srv.requests) == 2
    assert "99.9% accuracy on every benchmark" in srv.requests[1].text  # told what was wrong


def test_fabricated_then_grounded_quote_is_accepted(serve: Any) -> None:
    srv = serve([Reply.json({"claims": [FABRICATED]}), Reply.json({"claims": [GOOD_CLAIM]})])
    proposal = propose(
        client(srv), "claim_extractor", ClaimList, VARS, quotes_grounded, lambda: DETERMINISTIC
    )
    assert proposal.origin == "llm" and proposal.attempts == 2


def test_429_retry_after_is_honoured(serve: Any) -> None:
    srv = serve(
        [
            Reply("slow down", status=429, headers={"Retry-After": "1"}),
            Reply.json({"queries": [{"text": "all:FastNet"}]}),
        ]
    )
    sleeps = Sleeps()
    llm = client(srv, sleep=sleeps)
    plan = llm.structured("planner", QueryPlan, {"question": "q"})
    assert plan.queries[0].text == "all:FastNet"
    assert [s for s in sleeps if s > 0.01] == [1.0]  # the server's number, not our backoff
    assert srv.requests[1].at - srv.requests[0].at >= 1.0
    snap = llm.usage.snapshot()
    assert snap["retries"] == 1 and snap["failed_calls"] == 1 and snap["calls"] == 1


def test_retry_after_beyond_our_patience_gives_up_at_once(serve: Any) -> None:
    srv = serve([Reply("busy", status=429, headers={"Retry-After": "3600"})])
    sleeps = Sleeps()
    with pytest.raises(LLMUnavailable, match="3600"):
        client(srv, sleep=sleeps).structured("planner", QueryPlan, {"question": "q"})
    assert all(s < 0.01 for s in sleeps) and len(srv.requests) == 1


def test_5xx_backs_off_exponentially_then_fails_into_fallback(serve: Any) -> None:
    """The client's own retries are the only ones: `propose` does not ask an endpoint that has
    just failed for good a second time, and the open circuit keeps later calls off it."""
    srv = serve([Reply("boom", status=503)])
    sleeps = Sleeps()
    llm = client(srv, sleep=sleeps, max_retries=2)
    proposal = propose(llm, "planner", QueryPlan, {"question": "q"}, lambda v: [], lambda: PLAN)
    assert proposal.origin == "fallback" and proposal.unavailable and proposal.attempts == 1
    assert "LLMUnavailable" in proposal.errors[0] and "HTTP 503" in proposal.errors[0]
    backoffs = [s for s in sleeps if s > 0.01]  # pacing waits at this rpm are 0.1 ms
    assert len(backoffs) == 2  # one propose attempt x two backoffs
    first, second = backoffs  # 0.05 then 0.1, less up to half (jitter)
    assert 0.025 <= first <= 0.05 and 0.05 <= second <= 0.1
    assert len(srv.requests) == 3
    again = propose(llm, "planner", QueryPlan, {"question": "q"}, lambda v: [], lambda: PLAN)
    assert again.unavailable and "circuit open" in again.errors[0]
    assert len(srv.requests) == 3  # the open circuit sent nothing
    llm.reopen_after_s = 0.0  # time has passed (a long-lived process): the endpoint is tried
    propose(llm, "planner", QueryPlan, {"question": "q"}, lambda v: [], lambda: PLAN)
    assert len(srv.requests) == 6


PLAN = QueryPlan.model_validate({"queries": [{"text": "all:deterministic"}]})


def test_timeout_is_retried_then_succeeds(serve: Any) -> None:
    srv = serve(
        [
            Reply.json({"queries": [{"text": "late"}]}, delay_s=3.0),
            Reply.json({"queries": [{"text": "all:ok"}]}),
        ]
    )
    llm = client(srv, timeout_s=0.5)
    proposal = propose(llm, "planner", QueryPlan, {"question": "q"}, lambda v: [], lambda: PLAN)
    assert proposal.origin == "llm" and proposal.value.queries[0].text == "all:ok"
    snap = llm.usage.snapshot()
    assert snap["failed_calls"] == 1 and snap["retries"] == 1


def test_timeouts_exhausted_fall_back(serve: Any) -> None:
    srv = serve([Reply.json({"queries": [{"text": "late"}]}, delay_s=2.0)])
    llm = client(srv, timeout_s=0.3, max_retries=0)
    proposal = propose(llm, "planner", QueryPlan, {"question": "q"}, lambda v: [], lambda: PLAN)
    assert proposal.origin == "fallback" and proposal.value == PLAN
    assert all("timeout" in e for e in proposal.errors)


def test_reply_cut_at_max_tokens_is_a_parse_failure(serve: Any) -> None:
    srv = serve([Reply('{"queries": [{"text": "all:x', finish_reason="length")])
    proposal = propose(
        client(srv), "planner", QueryPlan, {"question": "q"}, lambda v: [], lambda: PLAN
    )
    assert proposal.origin == "fallback" and "cut off" in proposal.errors[0]


def test_server_rejecting_response_format_is_asked_in_words(serve: Any) -> None:
    def responder(body: dict[str, Any]) -> Reply:
        if "response_format" in body:
            return Reply("response_format is not supported", status=400)
        return Reply.json({"queries": [{"text": "all:words"}]})

    srv = serve(responder)
    llm = client(srv)
    assert llm.structured("planner", QueryPlan, {"question": "q"}).queries[0].text == "all:words"
    assert llm.json_mode == "none"
    assert "response_format" not in srv.requests[-1].body


def test_llm_review_scores_are_clamped_and_concerns_grounded(serve: Any) -> None:
    claim_ids = {"C1", "C2"}

    def concerns_cite_known_claims(review: ReviewDraft) -> list[str]:
        return [
            f"concern cites unknown claim id {cid}"
            for c in review.concerns
            for cid in c.claim_ids
            if cid not in claim_ids
        ]

    srv = serve(
        [
            Reply.json(
                {
                    "score": 42,
                    "rubric": {"grounding": 11},
                    "concerns": [{"text": "x", "claim_ids": ["C7"]}],
                }
            ),
            Reply.json(
                {
                    "score": 42,
                    "rubric": {"grounding": 11},
                    "concerns": [{"text": "x", "claim_ids": ["C1"]}],
                }
            ),
        ]
    )
    fallback = ReviewDraft.model_validate({"score": 5.0})
    proposal = propose(
        client(srv),
        "skeptic",
        ReviewDraft,
        {"question": "q"},
        concerns_cite_known_claims,
        lambda: fallback,
    )
    assert proposal.origin == "llm" and proposal.attempts == 2
    assert "unknown claim id C7" in proposal.errors[0]
    assert proposal.value.score == 10.0 and proposal.value.rubric == {"grounding": 10.0}


def test_concurrency_limit_is_shared_by_threads(serve: Any) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def responder(body: dict[str, Any]) -> Reply:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        import time

        time.sleep(0.2)
        with lock:
            in_flight -= 1
        return Reply.json({"queries": [{"text": "all:x"}]})

    srv = serve(responder)
    llm = client(srv, max_concurrency=1)
    threads = [
        threading.Thread(target=llm.structured, args=("planner", QueryPlan, {"question": "q"}))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(srv.requests) == 3 and peak == 1
    assert llm.usage.snapshot()["calls"] == 3


# --- the reviewer agent's own path: client -> draft (bounded, clamped) -> checks -> Review ---

REVIEW_TASK: dict[str, Any] = {
    "question": "How accurate is FastNet?",
    "round": 1,
    "facets": {"entity": ["FastNet"]},
    "claims": [
        {"id": "C1", "text": GOOD_CLAIM["text"], "quote": GOOD_CLAIM["quote"], "source_id": "a"},
        {"id": "C2", "text": "FastNet runs fast.", "quote": "q", "source_id": "b"},
    ],
    "verifications": [
        {"claim_id": cid, "status": "verified", "confidence": 0.9, "method": "scripted"}
        for cid in ("C1", "C2")
    ],
}
ALL_TENS = ["verification", "consistency", "contradictions"]  # every claim verified, no conflict


def test_reviewer_saying_15_out_of_10_gives_a_review_of_10(serve: Any) -> None:
    srv = serve(
        [Reply.json({"score": 15, "rubric": dict.fromkeys(ALL_TENS, 15), "summary": "15/10"})]
    )
    proposal = skeptic.review(client(srv), REVIEW_TASK)
    assert proposal.origin == "llm" and proposal.attempts == 1
    review = proposal.value
    assert review.score == 10.0 and review.rubric == dict.fromkeys(ALL_TENS, 10.0)
    assert (review.role, review.round, review.origin, review.summary) == (
        "SKEPTIC",
        1,
        "llm",
        "15/10",
    )
    assert srv.requests[0].body["response_format"]["schema"]["properties"]["summary"]


def test_over_long_review_string_is_rejected_and_falls_back(serve: Any) -> None:
    srv = serve(
        [Reply.json({"score": 10, "rubric": dict.fromkeys(ALL_TENS, 10), "summary": "x" * 2001})]
    )
    proposal = skeptic.review(client(srv), REVIEW_TASK)
    assert proposal.origin == "fallback" and len(srv.requests) == 2
    assert len(proposal.errors) == 2
    assert all("summary: String should have at most 2000 characters" in e for e in proposal.errors)
    deterministic = skeptic.deterministic_review(REVIEW_TASK)
    assert proposal.value == deterministic.model_copy(update={"origin": "fallback"})
