"""Issue 18.9: text enters the kernel through one hygiene pass (NFC; control, terminal-escape and
bidi-override characters removed, with a space where they separated words), and the Markdown and
JSON downloads of the site neutralise HTML an abstract may carry."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from graph.settings import Settings
from memory.models import Paper
from memory.text import clean_whitespace, neutralise_html, normalize_text
from tests.unit.graph_fakes import KeywordSearch, fake_services, load_fixture

QUESTION = "Does FlexMoE improve MMMU accuracy over dense vision-language models?"
TARGET = "2601.00001"
TAG = "<img src=x onerror=alert(1)>"
DIRTY = (
    f"FlexMoE reaches 80.1% accuracy on MMMU {TAG} with \x1b[31mred\x1b[0m routing\x00tables "
    "and \u202eno dense baseline\u202c at all."
)
UNWANTED = ("\x1b", "[31m", "[0m", "\x00", "\u202e", "\u202c")


def test_one_pass_removes_controls_without_gluing_words() -> None:
    assert normalize_text("accuracy\x00on MMMU") == "accuracy on MMMU"
    assert normalize_text("a \x1b[1;31mred\x1b[0m b") == "a red b"  # the whole sequence goes
    assert normalize_text("x\u202etxt.exe") == "x txt.exe"
    assert normalize_text("line one\nline two\tend") == "line one\nline two\tend"
    assert normalize_text("Caf" + "e\u0301") == "Café" and unicodedata.is_normalized("NFC", "Café")
    cleaned = clean_whitespace(DIRTY)
    assert not any(u in cleaned for u in UNWANTED)
    assert "red routing tables" in cleaned and "and no dense baseline at all." in cleaned


def test_records_are_clean_wherever_they_are_made() -> None:
    paper = Paper(arxiv_id=TARGET, title="Flex\u202eMoE", abstract=DIRTY, comment="a\x07b")
    assert paper.title == "Flex MoE" and paper.comment == "a b"
    assert not any(u in paper.abstract for u in UNWANTED)
    assert TAG in paper.abstract  # data is kept as written; downloads neutralise it


def test_table_cells_of_full_texts_get_the_same_pass() -> None:
    from memory.fulltext.model import Cell

    cell = Cell.parse("\x1b[1m78.4\x1b[0m\u202e%")
    assert cell.text == "78.4 %" and cell.number == 78.4


def test_html_is_neutralised_but_comparisons_are_not() -> None:
    assert neutralise_html(f"x {TAG} </b>") == "x &lt;img src=x onerror=alert(1)> &lt;/b>"
    assert neutralise_html("error < 5% and x<0.5") == "error < 5% and x<0.5"


def planted() -> list[Paper]:
    return [
        p.model_copy(update={"abstract": f"{p.abstract} {DIRTY}"}) if p.arxiv_id == TARGET else p
        for p in load_fixture()
    ]


def test_downloads_carry_no_live_html_and_no_hidden_characters(tmp_path: Path) -> None:
    from graph.runner import run_research
    from graph.site.builder import build_site
    from memory.publication.service import apply_decision, store_for

    settings = Settings.model_validate({"home": str(tmp_path), "max_revisions": 0})
    services = fake_services(settings, KeywordSearch(planted()))
    state: dict[str, Any] = run_research(QUESTION, settings, services=services, owner_review=False)
    assert any("80.1%" in c["quote"] and TAG in c["quote"] for c in state["claims"]), (
        "the planted sentence must reach the claims for this test to mean anything"
    )
    store = store_for(settings.publications_path)
    report_id = state["publication"]["report_id"]
    if state["publication"]["status"] == "escalated":
        apply_decision(store, report_id, "approve", "ok", "owner")
    assert build_site(store, tmp_path / "site").reports == 1
    downloads = [p for p in (tmp_path / "site").rglob("*") if p.suffix in (".md", ".json")]
    assert {"report.md", "provenance.json", "manifest.json"} <= {p.name for p in downloads}
    for path in [*downloads, Path(state["report_path"])]:
        text = path.read_text(encoding="utf-8")
        assert "<img" not in text, path
        if path.suffix == ".json":
            json.loads(text)  # still valid JSON, same data
    provenance = next(p for p in downloads if p.name == "provenance.json")
    assert TAG in provenance.read_text(encoding="utf-8").encode().decode("unicode_escape")
    for path in (tmp_path / "site").rglob("*"):
        if path.is_file() and path.suffix in (".md", ".json", ".html"):
            text = path.read_text(encoding="utf-8")
            assert not any(u in text for u in ("\x1b", "[31m", "\x00", "\u202e")), path
