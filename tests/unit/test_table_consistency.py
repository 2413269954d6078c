"""Claims' figures against tables (issue 14, point 4): an abstract figure its own paper's
tables state (cited by cell), one they do not (flagged), and another paper's table giving
the same method on the same benchmark and metric a different value (a conflict)."""

from __future__ import annotations

from agents.reporter import uncertainties
from agents.verification.tables.consistency import check_claim_tables
from memory.fulltext.model import Table
from memory.models import Claim
from memory.run import RunInfo, RunRecord

OWN = "2604.07812"
OTHER = "2604.09999"


def claim(value: float, quote: str, cid: str = "C3", location: str = "Abstract") -> Claim:
    return Claim(
        id=cid,
        text=quote,
        quote=quote,
        source_id=OWN,
        location=location,
        metric="accuracy",
        value=value,
        unit="%",
        setting="MMMU",
    )


def own_table() -> Table:
    return Table.from_rows(
        ["Model", "MMMU", "MMBench"],
        [["Dense-7B", "21.0", "60.1"], ["FlexMoE", "23.9", "62.0"]],
        caption="Accuracy (%) of the models on multimodal benchmarks.",
        label="Table 2",
    )


def test_abstract_figure_in_its_own_table_is_supported_with_the_cell() -> None:
    c = claim(23.9, "FlexMoE reaches 23.9% accuracy on MMMU.")
    [check] = check_claim_tables([c], {OWN: [own_table()]})
    assert (check.kind, check.status, check.value) == ("internal", "supported", "23.9%")
    assert [(x.location, x.text) for x in check.cells] == [
        ("Table 2, row FlexMoE, column MMMU", "23.9")
    ]


def test_fraction_cell_supports_a_percent_figure() -> None:
    table = Table.from_rows(["Model", "MMMU"], [["FlexMoE", "0.239"]], label="Table 1")
    [check] = check_claim_tables([claim(23.9, "FlexMoE reaches 23.9% on MMMU.")], {OWN: [table]})
    assert check.status == "supported"


def test_abstract_figure_in_no_table_is_flagged_and_reported() -> None:
    c = claim(25.4, "FlexMoE reaches 25.4% accuracy on MMMU.")
    [check] = check_claim_tables([c], {OWN: [own_table()]})
    assert check.status == "not_found" and not check.cells
    assert check.note == f"the abstract's 25.4% appears in no table of {OWN}"
    record = RunRecord(claims=[c], table_checks=[check])
    assert f"C3: the abstract's 25.4% appears in no table of {OWN}" in uncertainties(
        record, RunInfo()
    )


def test_figure_elsewhere_in_the_table_is_not_called_supported() -> None:
    c = claim(60.1, "FlexMoE reaches 60.1% accuracy on MMMU.")
    [check] = check_claim_tables([c], {OWN: [own_table()]})
    assert check.status == "unlinked"
    assert check.cells[0].location == "Table 2, row Dense-7B, column MMBench"


def test_no_tables_and_body_claims() -> None:
    c = claim(23.9, "FlexMoE reaches 23.9% accuracy on MMMU.")
    [check] = check_claim_tables([c], {OWN: []})
    assert check.status == "no_tables"
    [check] = check_claim_tables([c], {}, abstract_only=[OWN])
    assert check.status == "no_tables" and "abstract only" in check.note
    body = claim(25.4, "FlexMoE reaches 25.4% accuracy on MMMU.", location="§4 Results")
    assert check_claim_tables([body], {OWN: [own_table()]}) == []


def test_other_papers_table_conflict_and_agreement() -> None:
    c = claim(23.9, "FlexMoE reaches 23.9% accuracy on MMMU.")
    other = Table.from_rows(
        ["Method", "MMMU", "MathVista"],
        [["FlexMoE", "21.5", "40.2"], ["Ours", "25.0", "44.0"]],
        caption="Accuracy on MMMU and MathVista.",
        label="Table 3",
    )
    checks = check_claim_tables([c], {OWN: [own_table()], OTHER: [other]})
    [cross] = [t for t in checks if t.kind == "cross"]
    assert (cross.status, cross.source_id) == ("conflict", OTHER)
    assert [(x.location, x.text) for x in cross.cells] == [
        ("Table 3, row FlexMoE, column MMMU", "21.5")
    ]
    record = RunRecord(claims=[c], table_checks=checks)
    lines = uncertainties(record, RunInfo())
    assert any(line.startswith("C3: ") and "21.5 (Table 3, row FlexMoE" in line for line in lines)
    agree = Table.from_rows(
        ["Method", "MMMU"], [["FlexMoE", "23.9"]], caption="Accuracy on MMMU.", label="Table 1"
    )
    [cross] = [t for t in check_claim_tables([c], {OTHER: [agree]}) if t.kind == "cross"]
    assert cross.status == "agreement" and cross.cells[0].text == "23.9"


def test_other_table_on_another_benchmark_or_without_the_method_is_silent() -> None:
    c = claim(23.9, "FlexMoE reaches 23.9% accuracy on MMMU.")
    wrong_bench = Table.from_rows(
        ["Method", "DocVQA"], [["FlexMoE", "80.0"]], caption="Accuracy on DocVQA."
    )
    no_method = Table.from_rows(["Method", "MMMU"], [["Ours", "30.0"]], caption="Accuracy.")
    assert check_claim_tables([c], {OTHER: [wrong_bench, no_method]}) == []
