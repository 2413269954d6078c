"""The graph's verify_claims node checks claims' figures against the tables of the sources
read in full, keeps the results in `table_checks`, and the report's Uncertainties names an
abstract figure no table of its paper states and another paper's table that disagrees."""

from __future__ import annotations

from pathlib import Path

from graph import build_graph
from graph.settings import Settings
from memory.fulltext.model import FullText, Paragraph, Table
from memory.run import RunRecord
from tests.unit.graph_fakes import FakeFullText, fake_services

FLEX_Q = (
    "What accuracy does FlexMoE reach on MMMU compared with dense VLMs of similar activated size?"
)


def _text(pid: str, table: Table) -> FullText:
    para = Paragraph.build(0, "We evaluate the models on MMMU; Table 1 gives the results.")
    return FullText(paper_id=pid, source_format="latexml", paragraphs=[para], tables=[table])


def test_verify_claims_records_table_checks_and_the_report_flags_them(tmp_path: Path) -> None:
    # the target's own table does not state its abstract's 78.4%; a reproduction's does not
    # agree either (71.2 for FlexMoE on MMMU)
    own = Table.from_rows(
        ["Model", "MMMU"],
        [["Dense-3B", "72.2"], ["FlexMoE", "77.9"]],
        caption="Accuracy.",
        label="Table 1",
    )
    repro = Table.from_rows(
        ["Method", "MMMU"],
        [["FlexMoE", "71.2"], ["Dense", "69.8"]],
        caption="Accuracy on MMMU in our reproduction.",
        label="Table 1",
    )
    texts = FakeFullText(
        {"2601.00001": _text("2601.00001", own), "2601.00002": _text("2601.00002", repro)}
    )
    settings = Settings.model_validate({"home": tmp_path / "home", "verifier": "tfidf"})
    graph = build_graph(settings, services=fake_services(settings, fulltext=texts))
    state = dict(graph.invoke({"question": FLEX_Q, "out_dir": str(tmp_path / "out")}))
    record = RunRecord.from_state(state)
    full = {r.source_id for r in record.fulltext_log if r.status == "full"}
    assert "2601.00001" in full
    by_claim = {c.id: c for c in record.claims}
    internal = [t for t in record.table_checks if t.kind == "internal"]
    flagged = [t for t in internal if t.status == "not_found"]
    assert any(
        t.value == "78.4%" and by_claim[t.claim_id].source_id == "2601.00001" for t in flagged
    )
    report = Path(state["report_path"]).read_text(encoding="utf-8")
    for t in flagged:
        assert (
            f"{t.claim_id}: the abstract's {t.value} appears in no table of {t.source_id}" in report
        )
    # the reproduction's table gives FlexMoE 71.2 on MMMU: a conflict with the 78.4%, cited
    assert "2601.00002" in full
    conflicts = [t for t in record.table_checks if t.kind == "cross" and t.status == "conflict"]
    assert any(
        by_claim[t.claim_id].value == 78.4
        and [(c.location, c.text) for c in t.cells]
        == [("Table 1, row FlexMoE, column MMMU", "71.2")]
        for t in conflicts
    )
    # the reproduction's own abstract figure is a cell of its own table
    supported = [t for t in internal if t.status == "supported" and t.source_id == "2601.00002"]
    assert any(t.value == "71.2%" for t in supported)
