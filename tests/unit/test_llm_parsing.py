"""Lenient parsing and request schemas: what a sloppy model reply still yields, and what not."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from agents.llm.client import (
    LLMReplyError,
    extract_json,
    parse_reply,
    pick_json_mode,
    response_format,
)
from agents.llm.schemas import (
    LLAMA_CPP_MAX_STRING,
    ClaimList,
    QueryPlan,
    ReviewDraft,
    request_schema,
)


def test_extract_json_from_code_fence_and_prose() -> None:
    text = 'Sure! Here it is:\n```json\n{"queries": [{"text": "all:x"}]}\n```\nHope it helps.'
    assert extract_json(text) == {"queries": [{"text": "all:x"}]}


def test_extract_json_skips_broken_braces_before_the_object() -> None:
    text = 'I think {this is not json} but {"score": 7, "rubric": {}}'
    assert extract_json(text) == {"score": 7, "rubric": {}}


def test_extract_json_tolerates_control_characters_in_strings() -> None:
    assert extract_json('{"summary": "line1\nline2", "score": 3}')["summary"] == "line1\nline2"


def test_extract_json_raises_on_no_json() -> None:
    with pytest.raises(LLMReplyError, match="no JSON"):
        extract_json("I cannot help with that.")


def test_parse_reply_wraps_bare_list_and_unwraps_named_object() -> None:
    plan = parse_reply('[{"text": "ti:\\"graph\\""}]', QueryPlan)
    assert plan.queries[0].text == 'ti:"graph"'
    review = parse_reply('{"ReviewDraft": {"score": 6}}', ReviewDraft)
    assert review.score == 6


def test_parse_reply_reports_validation_problems_by_field() -> None:
    with pytest.raises(LLMReplyError, match=r"claims\.0\.quote"):
        parse_reply('{"claims": [{"text": "t", "source_id": "2401.1"}]}', ClaimList)


def test_review_scores_are_clamped_to_rubric_range() -> None:
    review = parse_reply(
        '{"score": 15, "rubric": {"grounding": -3, "coverage": "7.5"}}', ReviewDraft
    )
    assert review.score == 10.0
    assert review.rubric == {"grounding": 0.0, "coverage": 7.5}
    with pytest.raises(LLMReplyError):
        parse_reply('{"score": "excellent"}', ReviewDraft)


def test_request_schema_is_self_contained_and_bounded() -> None:
    schema = request_schema(ClaimList)
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text
    claim = schema["properties"]["claims"]["items"]
    assert claim["properties"]["quote"]["maxLength"] == 3000
    assert schema["properties"]["claims"]["maxItems"] == 40

    class Open(BaseModel):
        note: str
        tags: list[str]

    open_schema = request_schema(Open)
    assert open_schema["properties"]["note"]["maxLength"] > 0
    assert open_schema["properties"]["tags"]["items"]["maxLength"] > 0
    assert open_schema["properties"]["tags"]["maxItems"] > 0


def test_llama_cpp_schema_caps_every_string() -> None:
    capped = request_schema(ClaimList, LLAMA_CPP_MAX_STRING)
    claim = capped["properties"]["claims"]["items"]["properties"]
    assert claim["quote"]["maxLength"] == LLAMA_CPP_MAX_STRING  # 3000 in the model
    assert claim["source_id"]["maxLength"] == 64  # already below the cap


def test_json_mode_by_provider() -> None:
    assert pick_json_mode("https://integrate.api.nvidia.com/v1", "auto") == "json_schema"
    assert pick_json_mode("https://api.openai.com/v1", "auto") == "json_schema"
    assert pick_json_mode("http://127.0.0.1:8081/v1", "auto") == "json_object"
    assert pick_json_mode("http://127.0.0.1:8081/v1", "json_schema") == "json_schema"
    schema = request_schema(QueryPlan)
    llama = response_format("json_object", "planner", schema)
    assert llama == {"type": "json_object", "schema": schema}
    openai_form = response_format("json_schema", "planner", schema)
    assert openai_form is not None and openai_form["json_schema"]["schema"] == schema
    assert response_format("none", "planner", schema) is None
