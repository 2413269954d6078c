"""Each agent asks the LLM for its role's bounded draft and turns an accepted draft into the
domain record itself (ids, rounds, origins, sentence indices are the agent's). Replies go
through the client's own parser, so the drafts' bounds and clamps apply as in a real run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

from agents import claim_extractor, planner, reviser, skeptic, synthesizer, validator
from agents.llm.client import parse_reply
from agents.llm.schemas import CONTRACTS, MAX_QUERY_CHARS
from memory.models import Claim, FacetCoverage, Facets, Paper, Review, Verification

T = TypeVar("T", bound=BaseModel)

QUESTION = "Does FlexMoE improve MMMU accuracy over dense vision-language models?"
FACETS = Facets(entity=["FlexMoE"], metric=["accuracy"], benchmark=["MMMU"])
PAPER = Paper(
    arxiv_id="2601.00001",
    title="FlexMoE: Token-Adaptive Expert Routing",
    abstract="We introduce FlexMoE, a routing scheme. FlexMoE reaches 78.4% accuracy on MMMU "
    "with 3.1B activated parameters. We release code.",
)
QUOTE = "FlexMoE reaches 78.4% accuracy on MMMU with 3.1B activated parameters."


class Replying:
    """A ChatBackend answering every call with `reply` (JSON text, parsed like the client's),
    recording the role, the requested model and the variables."""

    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.calls: list[tuple[str, type[BaseModel], dict[str, Any]]] = []

    def structured(
        self,
        role: str,
        output_model: type[T],
        prompt_vars: Mapping[str, Any],
        feedback: str | None = None,
    ) -> T:
        self.calls.append((role, output_model, dict(prompt_vars)))
        return parse_reply(json.dumps(self.reply), output_model)

    def asked_for_contract(self) -> bool:
        return all(
            model is CONTRACTS[role].draft and set(v) == CONTRACTS[role].variable_names
            for role, model, v in self.calls
        )


def test_planner_turns_an_accepted_draft_into_round_zero_queries() -> None:
    llm = Replying({"queries": [{"text": "FlexMoE MMMU accuracy", "purpose": "metric"}]})
    proposal = planner.plan_queries(llm, QUESTION, FACETS, None, 1)
    assert proposal.origin == "llm" and llm.asked_for_contract()
    (query,) = proposal.value.queries
    assert (query.text, query.purpose, query.round) == ("FlexMoE MMMU accuracy", "metric", 0)


def test_planner_rejects_an_over_long_query_and_falls_back() -> None:
    llm = Replying({"queries": [{"text": "word " * MAX_QUERY_CHARS}]})
    proposal = planner.plan_queries(llm, QUESTION, FACETS, None, 1)
    assert proposal.origin == "fallback" and len(llm.calls) == 2
    assert all("at most 300 characters" in e for e in proposal.errors)
    assert proposal.value == planner.plan_queries(None, QUESTION, FACETS, None, 1).value


def test_claim_extractor_sets_id_sentence_and_origin_from_the_source() -> None:
    draft = {"text": "FlexMoE is accurate.", "quote": QUOTE, "source_id": PAPER.arxiv_id}
    llm = Replying({"claims": [draft]})
    proposal, _ = claim_extractor.read_source(llm, QUESTION, FACETS, PAPER, True, True)
    assert proposal.origin == "llm" and llm.asked_for_contract()
    (claim,) = proposal.value.claims
    assert (claim.id, claim.sentence_index, claim.origin) == ("2601.00001#1", 1, "llm")
    assert (claim.metric, claim.value, claim.unit) == ("accuracy", 78.4, "%")  # parsed
    assert claim.relevance > 0 and "MMMU" in claim.facets


def test_claim_extractor_falls_back_on_a_quote_not_in_the_source() -> None:
    draft = {"text": "t", "quote": "FlexMoE reaches 99% accuracy on MMMU.", "source_id": "x"}
    proposal, _ = claim_extractor.read_source(
        Replying({"claims": [draft]}), QUESTION, FACETS, PAPER, True, True
    )
    assert proposal.origin == "fallback"
    assert any("source must be 2601.00001" in e for e in proposal.errors)
    assert proposal.value.claims and all(c.origin == "fallback" for c in proposal.value.claims)


def _task(round_: int = 1) -> dict[str, Any]:
    claims = [
        Claim(id="C1", text=QUOTE, quote=QUOTE, source_id="2601.00001", relevance=0.8),
        Claim(id="C2", text="FlexMoE reaches 71.2%.", quote="x", source_id="2601.00002"),
    ]
    return {
        "question": QUESTION,
        "round": round_,
        "facets": FACETS.model_dump(),
        "claims": [c.model_dump() for c in claims],
        "verifications": [
            Verification(claim_id=c.id, status="verified", confidence=0.9, method="t").model_dump()
            for c in claims
        ],
        "conflicts": [],
        "coverage": [],
    }


@pytest.mark.parametrize("module", [skeptic, validator, synthesizer])
def test_reviewers_ask_for_the_review_draft_and_set_role_and_round(module: Any) -> None:
    reference: Review = module.deterministic_review(_task())
    reply = {"score": reference.score, "rubric": reference.rubric, "summary": "agreed"}
    llm = Replying({**reply, "concerns": [{"text": "one source", "claim_ids": ["C1"]}]})
    proposal = module.review(llm, _task())
    assert proposal.origin == "llm" and llm.asked_for_contract()
    review = proposal.value
    assert (review.role, review.round, review.origin) == (module.ROLE, 1, "llm")
    assert review.summary == "agreed" and review.concerns[0].claim_ids == ["C1"]


def test_reviewer_concern_citing_an_unknown_claim_falls_back() -> None:
    reference = skeptic.deterministic_review(_task())
    reply = {
        "score": 10,
        "rubric": reference.rubric,
        "concerns": [{"text": "x", "claim_ids": ["C9"]}],
    }
    proposal = skeptic.review(Replying(reply), _task())
    assert proposal.origin == "fallback" and proposal.value.origin == "fallback"
    assert all("unknown claim ids ['C9']" in e for e in proposal.errors)
    assert proposal.value.score == reference.score


def test_reviser_sets_the_round_on_the_plan_and_its_queries() -> None:
    reply = {"queries": [{"text": "FlexMoE MMMU dense"}], "rationale": "cover MMMU"}
    llm = Replying(reply)
    coverage = [FacetCoverage(facet="benchmark", value="MMMU", covered=False)]
    proposal = reviser.revise(llm, 2, QUESTION, FACETS, coverage, [], [], set(), 3)
    assert proposal.origin == "llm" and llm.asked_for_contract()
    plan = proposal.value
    assert (plan.round, plan.origin, plan.rationale) == (2, "llm", "cover MMMU")
    assert [(q.text, q.round) for q in plan.queries] == [("FlexMoE MMMU dense", 2)]
