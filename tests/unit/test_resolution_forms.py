"""Issue 16.1: the named paper is found in every form a question writes it (derived forms,
arXiv ids with or without version and as URLs, title fragments), two names sharing a prefix
are never equated, and each match says why. The expected resolutions are a golden file
(tests/fixtures/smoes/resolution_golden.json); SOVEREIGN_UPDATE_GOLDEN=1 rewrites it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from agents import names
from agents.facets import entity_mentions, extract_facets
from agents.resolver import paper_names, resolve_target
from tests.unit.graph_fakes import KeywordSearch, load_fixture

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "smoes"
GOLDEN = FIXTURE / "resolution_golden.json"
SMOES, SMOE, DERN, HAWK = "2604.23996", "2410.20002", "2409.10001", "2604.07812"

# (case name, question, --paper, expected paper id or None)
FORMS: list[tuple[str, str, str | None, str | None]] = [
    ("name as written", "Does SMoES reduce TTFT on MMMU?", None, SMOES),
    ("possessive, all caps", "How does SMOES's throughput on Winoground compare?", None, SMOES),
    ("X-based", "How robust are SMoES-based MoE-VLMs on MMMU?", None, SMOES),
    ("X-routed", "How fast are SMoES-routed multimodal models on DocVQA?", None, SMOES),
    ("X-style", "Is SMoES-style routing faster on MMMU?", None, SMOES),
    ("plural", "Do SMoESs beat hard routing on MMMU?", None, SMOES),
    ("case variant before a class noun", "What memory do SMOES MoE-VLMs need?", None, SMOES),
    ("bare id", "What TTFT does 2604.23996 report?", None, SMOES),
    ("versioned id", "What TTFT does arXiv:2604.23996v2 report?", None, SMOES),
    ("abs URL", "What does https://arxiv.org/abs/2604.23996v1 report on MMMU?", None, SMOES),
    (
        "pdf URL in --paper",
        "What TTFT is reported?",
        "https://arxiv.org/pdf/2604.23996v1.pdf",
        SMOES,
    ),
    (
        "quoted title fragment",
        "What does 'Soft Modality-Guided Expert Specialization' report on MMMU?",
        None,
        SMOES,
    ),
    ("title fragment in --paper", "What TTFT is reported?", "Modality-Guided Expert", SMOES),
    ("name in --paper", "What TTFT is reported on MMMU?", "SMoES", SMOES),
    ("the look-alike's own name", "Does SMoE reduce TTFT on MMMU?", None, SMOE),
    ("a method named HAWK", "What latency does HAWK reach?", None, HAWK),
    ("Hawk Eye is not HAWK", "How fast is the Hawk Eye pipeline per frame?", None, None),
    ("a name extending SMoES", "What do SMoESX models reach on MMMU?", None, None),
    ("unknown id", "What does arXiv 2604.99999 report?", None, None),
]


def _search() -> KeywordSearch:
    return KeywordSearch(load_fixture(FIXTURE / "mirror.jsonl"))


def _resolve(question: str, paper: str | None) -> dict[str, Any]:
    res = resolve_target(question, paper, _search())
    match = res.match.model_dump(mode="json") if res.match else None
    return {
        "status": res.status,
        "paper": res.paper.arxiv_id if res.paper else None,
        "note": res.note,
        "match": match,
    }


def test_every_resolution_form_matches_its_golden_record() -> None:
    got = {name: _resolve(q, paper) for name, q, paper, _ in FORMS}
    if os.environ.get("SOVEREIGN_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name


@pytest.mark.parametrize(("name", "question", "paper", "expected"), FORMS)
def test_each_form_resolves_the_named_paper_or_none(
    name: str, question: str, paper: str | None, expected: str | None
) -> None:
    got = _resolve(question, paper)
    assert got["paper"] == expected, (name, got["note"])
    if expected is not None:
        assert got["match"]["reason"], "every match says why"
    else:
        assert got["status"] in ("not_found", "none_named")


def test_derived_forms_keep_their_form_in_the_record() -> None:
    forms = {name: _resolve(q, p)["match"] for name, q, p, _ in FORMS[:7]}
    assert forms["X-based"]["form"] == "X-based" and forms["X-based"]["matched"] == "SMoES-based"
    assert forms["X-routed"]["form"] == "X-routed"
    assert forms["possessive, all caps"]["form"] == "X's"
    assert forms["plural"]["form"] == "Xs"
    assert forms["case variant before a class noun"]["form"] == "case variant"
    assert all(m["by"] == "name" and m["name"] == "SMoES" for m in forms.values())


def test_look_alikes_are_refused_and_recorded() -> None:
    extended = _resolve("What do SMoESX models reach on MMMU?", None)
    refused = {a["arxiv_id"] for a in extended["match"]["rejected"]}
    assert {SMOES, SMOE} <= refused
    assert "share a prefix" in extended["note"]


@pytest.mark.parametrize(
    ("name", "text", "hit"),
    [
        ("SMoES", "DERN improves SMoE models", False),
        ("SMoES", "SMoEs are popular", False),  # the plural of SMoE
        ("SMoE", "SMoEs are popular", True),
        ("SMoE", "We propose SMoES, a router", False),
        ("HAWK", "The Hawk Eye pipeline tracks balls", False),
        ("HAWK", "HAWK retains 96.0% of the accuracy", True),
        ("Hawk", "We use Hawk Eye for tennis", False),  # an ordinary name running on
        ("Grove MoE", "Grove MoE-VLM is another model", False),
        ("Mixture-of-Experts", "quantized mixture-of-experts inference", True),
        ("MoE-VLMs", "an SMoES MoE-VLM", True),
    ],
)
def test_names_never_equate_a_prefix_or_a_common_word(name: str, text: str, hit: bool) -> None:
    assert names.mentions(name, text) is hit


def test_paper_names_are_its_own_not_its_background_terms() -> None:
    papers = {p.arxiv_id: p for p in load_fixture(FIXTURE / "mirror.jsonl")}
    aliases, full = paper_names(papers[SMOES])
    assert aliases == ["SMoES"] and full == "Soft Modality-guided Expert Specialization"
    assert "MoE" not in paper_names(papers[SMOES])[0]  # 'Mixture-of-Experts (MoE)' is background
    assert paper_names(papers[DERN])[0] == ["DERN"]  # 'Sparse Mixture-of-Experts (SMoE)' too


def test_facets_split_derived_forms_and_lead_with_the_target() -> None:
    assert entity_mentions("How robust are SMoES-based MoE-VLMs?") == ["SMoES", "MoE-VLMs"]
    assert entity_mentions("What memory do SMOES MoE-VLMs need?") == ["SMOES", "MoE-VLMs"]
    f = extract_facets(
        "How does the inference throughput of SMoES-routed multimodal models compare to "
        "hard-routed MoE-VLMs when scaling from 7B to 70B parameters on benchmarks like DocVQA?",
        aliases=["SMoES"],
    )
    assert f.entity == ["SMoES"] and f.metric == ["throughput"]  # '70B parameters' is a condition
    assert f.conditions == ["when scaling from 7B to 70B parameters"]
    assert extract_facets("What does SMOES reach on MMMU?", aliases=["SMoES"]).entity == ["SMoES"]
