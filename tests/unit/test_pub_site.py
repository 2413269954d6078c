"""Static site content (the browser test checks behaviour; this checks what is written)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from jinja2 import DictLoader, Environment

from graph.site.builder import build_site, collect, graph_data
from graph.site.pages import index_page, report_page
from graph.site.render import CompactLayout
from memory.publication import apply_decision, record_run, store_for
from memory.run import RunRecord
from tests.pub_samples import sample_record, sample_state

REPO = Path(__file__).resolve().parents[2]

EVIL = 'Attack <script>window.__pwned = 1</script> & "quotes"'


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    db = tmp_path / "pub.sqlite"
    escalated = {"policy": "ESCALATE_TO_OWNER"}
    ids = {
        "auto": record_run(sample_record(tmp_path, "auto"), db).report_id,
        "evil": record_run(sample_record(tmp_path, "evil", title=EVIL), db).report_id,
        "low": record_run(
            sample_record(tmp_path, "low", scores=(2.0, 3.0, 1.5), verified=0), db
        ).report_id,
        "waiting": record_run(sample_record(tmp_path, "waiting", **escalated), db).report_id,
        "rejected": record_run(sample_record(tmp_path, "rejected", **escalated), db).report_id,
    }
    apply_decision(store_for(db), ids["rejected"], "reject", "no", "owner")
    out = tmp_path / "site"
    summary = build_site(store_for(db), out)
    assert summary.reports == 3
    return out, ids


def test_only_published_reports_appear(site: tuple[Path, dict[str, str]]) -> None:
    out, ids = site
    index = (out / "index.html").read_text()
    for key in ("auto", "evil", "low"):
        assert ids[key] in index
        assert (out / "reports" / f"{ids[key][5:]}.html").exists()
    for key in ("waiting", "rejected"):
        assert ids[key] not in index
        assert not (out / "reports" / f"{ids[key][5:]}.html").exists()


def test_paper_strings_are_escaped(site: tuple[Path, dict[str, str]]) -> None:
    out, ids = site
    for page in [
        out / "index.html",
        out / "graph.html",
        out / "reports" / f"{ids['evil'][5:]}.html",
    ]:
        text = page.read_text()
        assert "<script>window.__pwned" not in text
    report = (out / "reports" / f"{ids['evil'][5:]}.html").read_text()
    assert "Attack &lt;script&gt;window.__pwned = 1&lt;/script&gt; &amp; &#34;quotes&#34;" in report


def test_report_page_fields_and_downloads(site: tuple[Path, dict[str, str]]) -> None:
    out, ids = site
    hexid = ids["low"][5:]
    html = (out / "reports" / f"{hexid}.html").read_text()
    for field in (
        "report-id",
        "submitted",
        "review-score",
        "verification",
        "tier",
        "paper-level",
        "grounded-claims",
        "tier-basis",
        "dim-evidence_strength",
        "dim-uncertainty_disclosure",
        "dim-reproducibility",
        "correction-status",
        "correction-count",
        "manifest-contract",
        "correction-contract",
        "publisher",
        "public-provenance",
        "report-artifact",
        "external-record",
        "claim-lineage",
        "review-method",
        "quality-guide",
        "provenance-contract",
        "note",
    ):
        assert f'data-field="{field}"' in html, field
    assert "Quarantine candidate" in html and "2.17/10" in html
    assert "Review score is below 5.0" in html
    manifest = json.loads((out / "reports" / hexid / "manifest.json").read_text())
    prov_bytes = (out / "reports" / hexid / "provenance.json").read_bytes()
    md_bytes = (out / "reports" / hexid / "report.md").read_bytes()
    digests = {a["name"]: a["sha256"] for a in manifest["artifacts"]}
    assert digests["provenance.json"] == hashlib.sha256(prov_bytes).hexdigest()
    assert digests["report.md"] == hashlib.sha256(md_bytes).hexdigest()
    for name in ("report.md", "manifest.json", "provenance.json", "corrections.json"):
        assert f'href="{hexid}/{name}" download' in html


def test_benchmarks_page_groups_claims(site: tuple[Path, dict[str, str]]) -> None:
    out, _ = site
    html = (out / "benchmarks.html").read_text()
    found = re.findall(r'data-bench="([^"]+)"><h2>[^<]+</h2><p>(\d+) claim', html)
    # every report has two MMMU claims and one DocVQA claim
    assert dict(found) == {"DocVQA": "3", "MMMU": "6"}


def test_graph_data_links_reports_claims_papers(site: tuple[Path, dict[str, str]]) -> None:
    out, _ = site
    raw = re.search(
        r'<script type="application/json" id="graph-data">(.*?)</script>',
        (out / "graph.html").read_text(),
        re.S,
    )
    assert raw is not None
    data = json.loads(raw.group(1))
    kinds = [n["kind"] for n in data["nodes"]]
    assert kinds.count("report") == 3 and kinds.count("claim") == 9 and kinds.count("paper") == 3
    assert {e["kind"] for e in data["edges"]} >= {"has", "from", "SUPPORT"}
    assert graph_data([]) == {"nodes": [], "edges": []}


def test_about_and_mathematics_document_the_rules(site: tuple[Path, dict[str, str]]) -> None:
    out, _ = site
    about = (out / "about.html").read_text()
    for word in (
        "Quarantine candidate",
        "Source-grounded",
        "Reviewed synthesis",
        "Provisional",
        "L1",
        "L4",
        "paper-manifest-v1.1",
        "source-provenance-v1",
        "correction-record-v1",
        "Evidence strength",
        "all-MiniLM-L6-v2",
    ):
        assert word in about, word
    for name in ("paper-manifest-v1.1", "source-provenance-v1", "correction-record-v1"):
        assert json.loads((out / "schemas" / f"{name}.json").read_text())["title"] == name
    math = (out / "mathematics.html").read_text()
    for word in ("TF-IDF", "cos(c, d)", "consensus", "ECE"):
        assert word in math
    # not only the baseline: the ranking, the nearest sources and the default verifier too
    for word in ("BM25F", "k<sub>1</sub> = 1.2", "all-MiniLM-L6-v2", "P(SUPPORT) = r · s"):
        assert word in math, word


def test_benchmarks_come_from_claim_text_not_conditions(tmp_path: Path) -> None:
    db = tmp_path / "pub.sqlite"
    state = sample_state(tmp_path, "bench")
    state["claims"][2]["text"] = "At batch size 16 the model reaches 58.1% on MathVista."
    state["claims"][2]["quote"] = state["claims"][2]["text"]
    state["claims"][2]["setting"] = "batch size 16"
    record_run(RunRecord.from_state(state), db)
    build_site(store_for(db), tmp_path / "site")
    html = (tmp_path / "site" / "benchmarks.html").read_text()
    names = set(re.findall(r'data-bench="([^"]+)"', html))
    assert names == {"MMMU", "MathVista"}


def test_retracted_report_stays_visible_and_marked(tmp_path: Path) -> None:
    from memory.publication import correct

    db = tmp_path / "pub.sqlite"
    rid = record_run(sample_record(tmp_path, "gone"), db).report_id
    correct(store_for(db), rid, "ann", "report", "target paper was wrong", retract=True)
    build_site(store_for(db), tmp_path / "site")
    page = (tmp_path / "site" / "reports" / f"{rid[5:]}.html").read_text()
    assert "RETRACTED" in page and "target paper was wrong" in page
    index = (tmp_path / "site" / "index.html").read_text()
    assert f'data-id="{rid}" data-status="retracted"' in index


def test_template_escapes_an_html_title(tmp_path: Path) -> None:
    """The report page's template escapes what came from a paper: no hand-written escaping."""
    db = tmp_path / "pub.sqlite"
    title = '<img src=x onerror="alert(1)"> & <b>bold</b>'
    record_run(sample_record(tmp_path, "html-title", title=title), db)
    (report,) = collect(store_for(db))
    html = report_page(report)
    assert "<img" not in html and "<b>bold" not in html
    escaped = "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    assert f'<p class="ptitle" data-field="paper-title">{escaped} (' in html
    assert f"<td>{escaped}</td>" in html  # the sources table
    assert escaped in index_page([report])
    site_code = "".join(p.read_text() for p in (REPO / "graph" / "site").glob("*.py"))
    assert "html.escape" not in site_code and "import html" not in site_code


def test_compact_templates_drop_layout_and_keep_inline_spaces() -> None:
    env = Environment(loader=DictLoader({}), autoescape=True, extensions=[CompactLayout])
    compact = env.from_string(
        "{# compact #}\n<ul>\n  {% for x in xs\n     if x %}\n"
        "    <li>{{ x }} !</li>\n  {% endfor %}\n</ul>\n"
    )
    assert compact.render(xs=["a<", "", "b"]) == "<ul><li>a&lt; !</li><li>b !</li></ul>"
    as_written = env.from_string("<p>one\n  two</p>")
    assert as_written.render() == "<p>one\n  two</p>"
