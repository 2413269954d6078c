"""The public site, built from real research-graph runs, in headless Chromium: pages load
without console errors, the index filter and sort work, a report page shows every field, paper
strings stay text, the graph draws. Screenshots go to tests/artifacts/site/."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.cli.publication import serve
from graph.site.builder import build_site
from memory.publication import report_id_for, store_for
from tests.conftest import REPO, console_script, get_free_port, import_component

pytestmark = pytest.mark.integration

ARTIFACTS = REPO / "tests" / "artifacts" / "site"
EVIL_PREFIX = 'FlexMoE <script>window.__pwned = 1</script> & "friends":'
FIELDS = (
    "report-id", "question", "submitted", "review-score", "verification", "tier", "abstract",
    "paper-level", "grounded-claims", "claim-record-source", "tier-name", "tier-basis",
    "dim-evidence_strength", "dim-uncertainty_disclosure", "dim-reproducibility",
    "correction-status", "correction-count", "manifest-contract", "correction-contract",
    "publisher", "public-provenance", "report-artifact", "external-record", "claim-lineage",
    "review-method", "quality-guide", "provenance-contract", "note", "policy", "history",
)  # fmt: skip


RUNS = (
    # (run id, question, target paper, owner decision if the policy escalates it)
    (
        "site-flexmoe",
        "How does FlexMoE token-adaptive routing affect MMMU accuracy and throughput compared "
        "to dense VLMs?",
        "2601.00001",
        "approve",
    ),
    (
        "site-expert-choice",
        "Does expert choice routing improve multimodal transformer accuracy on VQAv2?",
        None,
        "approve",
    ),
    (
        "site-quantized",
        "How does 4-bit quantization of experts change memory and accuracy of "
        "Mixture-of-Experts inference?",
        "2601.00018",
        "approve",
    ),
    (
        "site-upcycling",
        "Does sparse upcycling of dense checkpoints beat training MoE from scratch on MMMU?",
        "2601.00017",
        "reject",
    ),
)


def _real_runs(settings: Any) -> list[str]:
    """Real research-graph runs (in-process stand-in services over the mirror fixture, one
    target title carrying a <script> tag), escalations answered through the graph's resume.
    Returns the report ids that must be on the site."""
    from graph import transcript
    from graph.runner import resume_run, run_research
    from tests.unit.graph_fakes import KeywordSearch, fake_services, load_fixture

    transcript.configure(log_file=settings.home / "events.jsonl", to_stderr=False)
    papers = load_fixture()
    for paper in papers:
        if paper.arxiv_id == "2601.00001":
            paper.title = paper.title.replace("FlexMoE:", EVIL_PREFIX)
    services = fake_services(settings, KeywordSearch(papers))
    published = []
    for run_id, question, target, decision in RUNS:
        values = run_research(question, settings, paper=target, run_id=run_id, services=services)
        if values.get("_interrupts"):
            answer = {"decision": decision, "note": "site test", "who": "tester"}
            resume_run(run_id, answer, settings, services=services)
        if decision == "approve" or values.get("policy") == "AUTO_APPROVE":
            published.append(report_id_for(run_id))
    return published


@pytest.fixture(scope="module")
def site() -> Iterator[dict[str, Any]]:
    from graph.settings import load_settings

    tmp = Path(tempfile.mkdtemp(prefix="sovereign-site-test-"))
    settings = load_settings().with_overrides(home=tmp / "home")
    ids = _real_runs(settings)
    out = tmp / "site"
    summary = build_site(store_for(settings.publications_path), out)
    assert summary.reports == len(ids)
    server = serve(out, get_free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    manifests = {
        rid: json.loads((out / "reports" / rid[5:] / "manifest.json").read_text()) for rid in ids
    }
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "ids": ids, "out": out,
           "manifests": manifests}  # fmt: skip
    server.shutdown()
    server.server_close()
    from graph import transcript

    transcript.configure(to_stderr=True)  # _real_runs sent the transcript to a file in tmp
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = console_script("chromium", "chromium-browser", hint="apt-get install chromium")
    chromedriver = console_script("chromedriver", hint="apt-get install chromium-driver")
    webdriver: Any = import_component("selenium.webdriver", "pip install -e '.[dev]'")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="sovereign-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=1280,1600",
    ):  # fmt: skip
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=opts)
    driver.set_page_load_timeout(60)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # only this run's screenshots
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(driver: Any, url: str) -> list[dict[str, Any]]:
    """Load a page; return its console errors (SEVERE entries, e.g. uncaught exceptions)."""
    driver.get_log("browser")  # drop anything left from the previous page
    driver.get(url)
    driver.execute_script("return document.readyState")
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def _shot(driver: Any, name: str) -> None:
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, min(max(int(height) + 100, 800), 6000))
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    driver.set_window_size(1280, 1600)


def test_pages_load_without_console_errors(site: dict[str, Any], browser: Any) -> None:
    pages = ["index", "benchmarks", "mathematics", "graph", "about"]
    pages += [f"reports/{rid[5:]}" for rid in site["ids"]]
    for name in pages:
        errors = _open(browser, site["url"] + name + ".html")
        assert errors == [], f"{name}: {errors}"
        assert "sovereign" in browser.title
        _shot(browser, name.replace("/", "_"))


def test_index_filter_and_sort(site: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _open(browser, site["url"] + "index.html")
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.report")
    assert sorted(r.get_attribute("data-id") for r in rows) == sorted(site["ids"])
    tiers = {rid: m["quality"]["tier"] for rid, m in site["manifests"].items()}
    scores = {rid: m["scores"]["review_score"] for rid, m in site["manifests"].items()}

    def visible() -> list[str]:
        return [r.get_attribute("data-id") for r in rows if r.is_displayed()]

    for tier in set(tiers.values()):
        Select(browser.find_element(By.ID, "f-tier")).select_by_value(tier)
        assert sorted(visible()) == sorted(r for r, t in tiers.items() if t == tier), tier
        want = sum(t == tier for t in tiers.values())
        assert browser.find_element(By.ID, "shown-count").text.startswith(f"{want} of {len(rows)}")
    Select(browser.find_element(By.ID, "f-tier")).select_by_value("Quarantine candidate")
    _shot(browser, "index_filtered_quarantine")
    Select(browser.find_element(By.ID, "f-tier")).select_by_value("")
    low = browser.find_element(By.ID, "f-min")
    low.clear()
    low.send_keys("5")
    assert sorted(visible()) == sorted(r for r, s in scores.items() if s >= 5)
    low.clear()
    low.send_keys("0")
    browser.find_element(By.CSS_SELECTOR, 'button.sort[data-sort="score"]').click()
    order = [
        r.get_attribute("data-id") for r in browser.find_elements(By.CSS_SELECTOR, "tr.report")
    ]
    assert [scores[r] for r in order] == sorted(scores.values(), reverse=True)
    browser.find_element(By.CSS_SELECTOR, 'button.sort[data-sort="score"]').click()
    order = [
        r.get_attribute("data-id") for r in browser.find_elements(By.CSS_SELECTOR, "tr.report")
    ]
    assert [scores[r] for r in order] == sorted(scores.values())


def test_report_page_shows_every_field(site: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    for rid, manifest in site["manifests"].items():
        _open(browser, f"{site['url']}reports/{rid[5:]}.html")
        for field in FIELDS:
            el = browser.find_element(By.CSS_SELECTOR, f'[data-field="{field}"]')
            assert el.is_displayed() and el.text.strip(), f"{rid} {field} empty"

        def text(field: str) -> str:
            return str(browser.find_element(By.CSS_SELECTOR, f'[data-field="{field}"]').text)

        q = manifest["quality"]
        assert rid in text("report-id")
        assert f"{manifest['scores']['review_score']:.2f}/10" in text("review-score")
        lvl = q["verification_level"]
        assert f"{lvl['code']}, {lvl['name']}" in text("verification")
        assert q["tier"] in text("tier") and q["basis"] in text("tier-basis")
        assert str(manifest["counts"]["source_grounded"]) in text("grounded-claims")
        for key, grade in q["dimensions"].items():
            assert grade in text(f"dim-{key}")
        assert "paper-manifest-v1.1" in text("manifest-contract")
        assert "source-provenance-v1" in text("provenance-contract")
        claims = browser.find_elements(By.CSS_SELECTOR, "tr.claim")
        assert len(claims) == manifest["counts"]["claims"]
        links = browser.find_elements(By.CSS_SELECTOR, "ul.evl a")
        assert links and all(a.get_attribute("href").startswith("https://arxiv.org/abs/")
                             for a in links)  # fmt: skip
        reviews = browser.find_elements(By.CSS_SELECTOR, "div.review")
        assert len(reviews) == manifest["counts"]["reviews"]
        for name in ("report.md", "manifest.json", "provenance.json"):
            link = browser.find_element(By.CSS_SELECTOR, f'a[href$="/{name}"]')
            assert link.get_attribute("download") is not None
    _shot(browser, "report_last_checked")


def test_script_in_title_is_text(site: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    evil = next(
        r for r, m in site["manifests"].items() if m["paper"] and EVIL_PREFIX in m["paper"]["title"]
    )
    for url in (f"reports/{evil[5:]}.html", "index.html", "graph.html"):
        assert _open(browser, site["url"] + url) == []
        assert browser.execute_script("return window.__pwned === undefined")
    _open(browser, f"{site['url']}reports/{evil[5:]}.html")
    title = browser.find_element(By.CSS_SELECTOR, '[data-field="paper-title"]').text
    assert EVIL_PREFIX in title
    _shot(browser, "report_script_title")


def test_graph_page_draws_its_nodes(site: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, site["url"] + "graph.html")
    data = browser.execute_script(
        "return JSON.parse(document.getElementById('graph-data').textContent)"
    )
    n_claims = sum(m["counts"]["claims"] for m in site["manifests"].values())
    assert sum(n["kind"] == "claim" for n in data["nodes"]) == n_claims
    assert sum(n["kind"] == "report" for n in data["nodes"]) == len(site["ids"])
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script("return document.getElementById('graph').dataset.settled")
    )
    drawn = browser.execute_script("return document.getElementById('graph').dataset.nodesDrawn")
    assert int(drawn) == len(data["nodes"])
    coloured = browser.execute_script(
        """
        const c = document.getElementById('graph');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = {};
        for (let i = 0; i < px.length; i += 4) {
          const key = px[i] + ',' + px[i + 1] + ',' + px[i + 2];
          seen[key] = (seen[key] || 0) + 1;
        }
        return [seen['31,95,191'] || 0, seen['199,119,0'] || 0, seen['107,114,128'] || 0];
        """
    )
    # every node kind is actually painted (report blue, claim orange, paper grey)
    assert all(count > 20 for count in coloured), coloured
    _shot(browser, "graph")
