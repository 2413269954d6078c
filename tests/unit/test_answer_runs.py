"""Issue 16 on whole runs over a fixture mirror that holds SMoES, two SMoE look-alikes, HAWK and
a 'Hawk Eye' paper: the five seed questions and the control resolve the right paper and never
count the look-alike; facets count only when one passage states them together; every sentence
of the Answer traces to a passage; revision searches the gap and a round that adds nothing ends
the loop; an LLM's wording is kept only where grounded."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from agents.plain import plain
from graph import build_graph
from graph.settings import Settings
from memory.fulltext.model import FullText, Paragraph, Section
from memory.run import RunRecord
from tests.answer_trace import answer_traces
from tests.unit.graph_fakes import FakeFullText, KeywordSearch, fake_services, load_fixture

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "smoes" / "mirror.jsonl"
SMOES = "2604.23996"
LOOK_ALIKES = {"2409.10001", "2410.20002"}  # DERN (an SMoE paper) and SMoE itself
ROBUST = (
    "SMoES is robust to adversarial perturbations on MMMU: at 7B it keeps 91.2% of its clean "
    "accuracy, and at 13B it keeps 93.0%."
)
SEEDS = {
    "Q1": "How does SMOES's inference throughput (tokens/sec) on Winoground compare to "
    "modality-agnostic MoE-VLMs when scaling the number of experts from 16 to 128 with top-2 "
    "routing?",
    "Q2": "How does the robustness of SMoES-based MoE-VLMs with soft modality-guided routing "
    "compare to dense models of equivalent size on adversarial multimodal inputs from the MMMU "
    "benchmark at 7B and 13B scales?",
    "Q3": "Does soft MoE routing with token-level gating improve ANLS on InfographicsVQA and "
    "ChartQA compared to hard top-2 routing in MoE-VLMs under distribution shift (e.g., style "
    "transfer or domain adaptation)?",
    "Q4": "How does the inference throughput (tokens/sec) of SMoES-routed multimodal models "
    "compare to hard-routed MoE-VLMs when scaling from 7B to 70B parameters on document "
    "understanding benchmarks like DocVQA?",
    "Q5": "What is the inference throughput and memory efficiency trade-off of SMOES MoE-VLMs "
    "relative to dense VLMs of equivalent parameter count (7B and 34B) on multimodal reasoning "
    "benchmarks like MMMU and MathVista?",
    "control": "Does SMoES reduce TTFT on MMMU?",
}
# Q3 names no paper: the old system analysed SMoES for it because it was handed the paper
PAPER_ARG = {"Q3": "https://arxiv.org/abs/2604.23996v1"}


def _fulltext() -> FakeFullText:
    sections = [Section(id="sec0", number="4.3", title="Robustness")]
    para = Paragraph.build(0, ROBUST + " We attribute this to soft routing.", section_id="sec0")
    text = FullText(paper_id=SMOES, source_format="latexml", sections=sections, paragraphs=[para])
    return FakeFullText({SMOES: text})


def run(tmp: Path, question: str, paper: str | None = None, llm: Any = None, **settings: Any):
    values = {"home": tmp / "home", "verifier": "tfidf", **settings}
    if llm is not None:
        values["llm_base_url"] = "http://127.0.0.1:9/v1"
    cfg = Settings.model_validate(values)
    services = fake_services(cfg, KeywordSearch(load_fixture(FIXTURE)), _fulltext())
    if llm is not None:
        services.llm_factory = lambda: llm
    graph = build_graph(cfg, services=services)
    state = dict(graph.invoke({"question": question, "paper": paper, "out_dir": str(tmp / "out")}))
    return RunRecord.from_state(state), Path(state["report_path"]).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[RunRecord, str]]:
    out = {}
    for key, question in SEEDS.items():
        out[key] = run(tmp_path_factory.mktemp(key), question, PAPER_ARG.get(key))
    return out


def _entity_ids(record: RunRecord) -> set[str]:
    first = record.facets.entity[0]
    return {
        sid
        for c in record.coverage
        if c.facet == "entity" and c.value == first
        for sid in c.source_ids
    }


@pytest.mark.parametrize("key", sorted(SEEDS))
def test_seed_questions_resolve_smoes_and_never_count_a_look_alike(
    seeds: dict[str, tuple[RunRecord, str]], key: str
) -> None:
    record, report = seeds[key]
    assert record.target is not None and record.target.arxiv_id == SMOES, record.target_note
    assert record.target_match is not None and record.target_match.reason in report
    if key == "Q3":
        return  # a literature question about soft MoE routing, analysed against SMoES by id
    assert record.facets.entity[0] == "SMoES"
    assert not _entity_ids(record) & LOOK_ALIKES  # SMoE papers do not mention SMoES
    for combo in record.joint_coverage:
        if combo.best and combo.best.source_id in LOOK_ALIKES:
            assert "entity: SMoES" not in combo.stated, combo
    answered = [s for part in record.answer.parts for s in part.statements] if record.answer else []
    assert not {s.source_id for s in answered} & LOOK_ALIKES


def test_the_control_answers_from_smoes_not_from_dern(
    seeds: dict[str, tuple[RunRecord, str]],
) -> None:
    record, report = seeds["control"]
    (part,) = record.answer.parts  # type: ignore[union-attr]
    assert part.label == "SMoES: latency on MMMU" and part.status == "covered"
    assert {s.source_id for s in part.statements} == {SMOES}
    assert "18.5%" not in report.split("## 1 Introduction")[0]  # DERN's SMoE figure


def test_conditions_count_only_stated_with_the_entity(
    seeds: dict[str, tuple[RunRecord, str]],
) -> None:
    record, _ = seeds["Q2"]
    by_label = {c.label: c for c in record.joint_coverage}
    robust = by_label["SMoES: robustness on MMMU, at 7B and 13B scales"]
    # covered by the SMoES body sentence, not by the dense-VLM paper that mentions 7B and 13B
    assert robust.status == "covered" and robust.best is not None
    assert robust.best.source_id == SMOES and robust.best.location == "§4.3 Robustness"
    versus = by_label["SMoES: robustness compared with dense models of equivalent size"]
    assert versus.status != "covered"
    assert any(c.facet == "combination" and not c.covered for c in record.coverage)
    assert record.policy == "ESCALATE_TO_OWNER"


def test_q1_says_no_source_reports_throughput_on_winoground(
    seeds: dict[str, tuple[RunRecord, str]],
) -> None:
    record, report = seeds["Q1"]
    answer = report.split("## Answer", 1)[1].split("## 1 Introduction", 1)[0]
    assert "No retrieved source reports SMoES: throughput on Winoground" in answer
    synth = next(r for r in record.final_reviews() if r.role == "SYNTHESIZER")
    assert synth.rubric["answerability"] < 10.0
    assert record.policy == "ESCALATE_TO_OWNER"


# --- every sentence of the Answer traces to a passage ---------------------------------------


def _sources(record: RunRecord) -> dict[str, str]:
    texts = {p.arxiv_id: f"{p.title} {p.abstract}" for p in record.papers}
    texts[SMOES] += " " + ROBUST
    return texts


@pytest.mark.parametrize("key", sorted(SEEDS))
def test_every_answer_sentence_traces_to_a_passage(
    seeds: dict[str, tuple[RunRecord, str]], key: str
) -> None:
    record, report = seeds[key]
    answer_traces(record, report, _sources(record))


# --- revision aims at the gap; a round that adds nothing ends the loop ------------------------

GENERIC = {"experiment", "four", "applied", "retain", "original", "vl", "based"}


def test_revision_queries_name_the_entity_and_the_missing_facets(tmp_path: Path) -> None:
    record, report = run(tmp_path, SEEDS["Q1"], consensus_threshold=9.9, max_revisions=2)
    assert record.revision_plans, "the tribunal did not pass: the loop must revise"
    first = record.revision_plans[0].queries
    assert first[0].text.startswith("SMoES") and "Winoground" in first[0].text
    # the entity's full name is searched too
    assert any(q.text.startswith("soft modality guided expert specialization") for q in first)
    words = {w.lower() for p in record.revision_plans for q in p.queries for w in q.text.split()}
    assert not words & GENERIC
    # the fixture holds nothing more on Winoground: the second round adds nothing and says so
    assert "the loop ended early" in report or record.revision_exhausted
    held = [h.round for h in record.consensus_history]
    assert held[-1] < record.revision_round or record.revision_exhausted


# --- an LLM's wording, sentence by sentence ----------------------------------------------------


class AnswerLLM:
    """Fails every role but 'answer', where it rewords two passages: one faithfully, one with
    a number its passage does not state."""

    def __init__(self) -> None:
        self.calls = 0

    def structured(
        self,
        role: str,
        output_model: type[Any],
        prompt_vars: Mapping[str, Any],
        feedback: Any = None,
    ) -> Any:
        if role != "answer":
            raise ValueError("no answer for this role")
        self.calls += 1
        passages = [p for part in prompt_vars["parts"] for p in part["passages"]]
        good, bad = passages[0], passages[1]
        return output_model.model_validate(
            {
                "sentences": [
                    {"passage_id": good["id"], "text": "SMoES cuts TTFT on MMMU by 10.3%."},
                    {"passage_id": bad["id"], "text": "SMoES cuts TTFT on MMMU by 40%."},
                ]
            }
        )


def test_an_llm_sentence_is_kept_only_when_grounded(tmp_path: Path) -> None:
    llm = AnswerLLM()
    record, report = run(tmp_path, SEEDS["control"], llm=llm)
    assert llm.calls >= 1 and record.answer is not None and record.answer.origin == "llm"
    statements = [s for p in record.answer.parts for s in p.statements]
    kept = [s for s in statements if s.origin == "llm"]
    replaced = [s for s in statements if s.origin == "replaced"]
    assert [s.text for s in kept] == ["SMoES cuts TTFT on MMMU by 10.3%."]
    assert len(replaced) == 1 and "numbers not in the passage: 40" in replaced[0].note
    assert replaced[0].text == plain(replaced[0].quote)  # back to the passage's own words
    assert "1 kept, 1 replaced" in report
    assert answer_traces(record, report, _sources(record)) == len(statements)


def test_run_json_keeps_the_match_reason_and_the_verbatim_quotes(tmp_path: Path) -> None:
    record, _ = run(tmp_path, SEEDS["Q2"])
    data = json.loads(Path(str(record.json_path)).read_text(encoding="utf-8"))["state"]
    assert data["target_match"]["form"] == "X-based"
    assert data["target_match"]["matched"] == "SMoES-based"
    assert all(s["quote"] for p in data["answer"]["parts"] for s in p["statements"])
