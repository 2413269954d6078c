"""The LLM stance judge: its drafts are checked against the sources (every source once, real
sentence indices, a quote that is in them, the number guard), retried once with the problems,
and otherwise the trained verifier's verdicts stand. Driven by the repo's scripted
OpenAI-compatible server, as a real endpoint would be."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agents.llm.client import OpenAIChat
from agents.llm.rendering import placeholders, render
from agents.llm.scripted_server import Reply, ScriptedOpenAIServer
from agents.verification import get_verifier
from agents.verification.classifier import TrainedVerifier
from agents.verification.judge import ROLE, LLMStanceJudge, StanceDraft, check_draft
from memory.errors import UserError
from memory.models import EvidenceDoc

CLAIM = "Metformin treatment reduces the incidence of type 2 diabetes in adults with prediabetes."
SUPPORTING = EvidenceDoc(
    doc_id="s",
    title="Metformin for the prevention of type 2 diabetes",
    sentences=[
        "Prediabetes affects one in three adults.",
        "Metformin treatment reduced the incidence of type 2 diabetes by 31% compared with "
        "placebo in adults with prediabetes.",
    ],
)
UNRELATED = EvidenceDoc(
    doc_id="u",
    title="Metformin pharmacokinetics",
    sentences=["Metformin is cleared by the kidney.", "Peak concentration came after 2.5 h."],
)
GOOD = {
    "verdicts": [
        {
            "source": "s",
            "label": "SUPPORT",
            "sentences": [1],
            "quote": "reduced the incidence of type 2 diabetes by 31%",
        },
        {"source": "u", "label": "NOT_ENOUGH_INFO", "sentences": [], "quote": ""},
    ]
}
INVENTED = json.loads(json.dumps(GOOD))
INVENTED["verdicts"][0]["quote"] = "reduced the incidence of diabetes by 58%"


@pytest.fixture(scope="module")
def base() -> TrainedVerifier:
    v = get_verifier("default")
    assert isinstance(v, TrainedVerifier)
    return v


def _client(srv: ScriptedOpenAIServer) -> OpenAIChat:
    return OpenAIChat(srv.base_url, "scripted", None, timeout_s=5.0, rpm=600_000, backoff_s=0.01)


def test_prompt_places_exactly_the_judges_variables() -> None:
    assert placeholders(ROLE) == {"claim", "sources"}
    prompt = render(ROLE, {"claim": CLAIM, "sources": []}, StanceDraft)
    assert prompt.missing == [] and prompt.extra == []


def test_accepted_draft_gives_labels_with_the_verifiers_confidence(
    base: TrainedVerifier, serve: Any
) -> None:
    srv = serve([Reply.json(GOOD)])
    judge = LLMStanceJudge(base, _client(srv))
    out = judge.verify(CLAIM, [SUPPORTING, UNRELATED])
    assert [(v.doc_id, v.label, v.rationale) for v in out] == [
        ("s", "SUPPORT", [1]),
        ("u", "NOT_ENOUGH_INFO", []),
    ]
    probs = base.rationale_probs(CLAIM, [SUPPORTING, UNRELATED])
    lp = base.label_probs(CLAIM, [SUPPORTING, UNRELATED], probs)
    assert out[0].confidence == pytest.approx(lp[0][0])  # the calibrated P(SUPPORT)
    assert judge.origins["llm"] == 1 and len(srv.requests) == 1
    assert "<<<DATA sources>>>" in srv.requests[0].text and "[1] Metformin" in srv.requests[0].text


def test_an_invented_quote_is_retried_with_the_problem(base: TrainedVerifier, serve: Any) -> None:
    srv = serve([Reply.json(INVENTED), Reply.json(GOOD)])
    judge = LLMStanceJudge(base, _client(srv))
    out = judge.verify(CLAIM, [SUPPORTING, UNRELATED])
    assert out[0].label == "SUPPORT" and judge.origins["llm"] == 1
    assert len(srv.requests) == 2
    assert "the quote is not in sentences [1]" in srv.requests[1].text


def test_two_bad_drafts_leave_the_deterministic_verdicts(base: TrainedVerifier, serve: Any) -> None:
    srv = serve([Reply(content="no json here"), Reply.json({"verdicts": GOOD["verdicts"][:1]})])
    judge = LLMStanceJudge(base, _client(srv))
    out = judge.verify(CLAIM, [SUPPORTING, UNRELATED])
    assert out == base.verify(CLAIM, [SUPPORTING, UNRELATED])
    assert judge.origins["fallback"] == 1 and len(srv.requests) == 2


def test_checks() -> None:
    docs = [SUPPORTING, UNRELATED]
    assert check_draft(CLAIM, docs, StanceDraft.model_validate(GOOD)) == []
    bad = json.loads(json.dumps(GOOD))
    bad["verdicts"][0]["sentences"] = [7]
    assert "no sentence [7]" in check_draft(CLAIM, docs, StanceDraft.model_validate(bad))[0]
    bad["verdicts"][0]["sentences"] = []
    assert "needs the sentence indices" in check_draft(CLAIM, docs, StanceDraft(**bad))[0]
    numbered = "Metformin reduces the incidence of type 2 diabetes by 58% in prediabetes."
    problems = check_draft(numbered, docs, StanceDraft.model_validate(GOOD))
    assert any("never states ['58']" in p for p in problems)
    assert "answer each source id once" in check_draft(CLAIM, docs, StanceDraft(verdicts=[]))[0]


def test_without_an_llm_it_is_the_default(base: TrainedVerifier) -> None:
    judge = LLMStanceJudge(base, None)
    assert judge.verify(CLAIM, [SUPPORTING]) == base.verify(CLAIM, [SUPPORTING])
    with pytest.raises(UserError, match="needs an LLM"):
        get_verifier("llm-judge")
