"""Acceptance: ingest the real shared arXiv files with the CLI, serve them with
`sovereign mirror serve` as a subprocess, and query with the official `arxiv` client."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import arxiv
import pytest
import requests

from tests.conftest import get_free_port, run_cli, shared_file

pytestmark = pytest.mark.integration


def _sovereign(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=dict(os.environ, SOVEREIGN_HOME=str(home)))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    listing = shared_file("arxiv/arxiv_cs_daily_sample_5000.jsonl")
    bulk = shared_file("arxiv/kaggle_arxiv_metadata_first200.jsonl")
    home = tmp_path_factory.mktemp("home")
    db = home / "mirror.db"
    ingested = _sovereign("mirror", "ingest", str(listing), str(bulk), "--quiet", home=home)
    assert ingested.returncode == 0, ingested.stderr
    port = get_free_port()
    env = dict(os.environ, SOVEREIGN_HOME=str(home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "mirror", "serve", "--port", str(port), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    banner = proc.stdout.readline()  # printed once the socket listens
    assert f"127.0.0.1:{port}/api/query" in banner, proc.stderr.read() if proc.stderr else ""
    client = arxiv.Client(page_size=100, delay_seconds=0, num_retries=0)
    client.query_url_format = f"http://127.0.0.1:{port}/api/query?{{}}"
    sample = [json.loads(line) for line in listing.open(encoding="utf-8")]
    yield {
        "client": client,
        "url": f"http://127.0.0.1:{port}/api/query",
        "db": db,
        "ingest_out": ingested.stdout,
        "sample": sample,
    }
    proc.terminate()
    proc.wait(timeout=10)


def _run(served: dict[str, object], **kw: object) -> list[arxiv.Result]:
    client = served["client"]
    assert isinstance(client, arxiv.Client)
    return list(client.results(arxiv.Search(**kw)))


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower())


def test_ingest_reports_both_files(served: dict[str, object]) -> None:
    out = str(served["ingest_out"])
    assert "ingested 5,200 records from 5,200 lines" in out and "5,200 new" in out


def test_field_queries(served: dict[str, object]) -> None:
    by_title = _run(served, query="ti:hallucination", max_results=50)
    assert by_title and all("hallucinat" in r.title.lower() for r in by_title)
    by_cat = _run(served, query="cat:cs.RO", max_results=30)
    assert by_cat and all("cs.RO" in r.categories for r in by_cat)
    by_author = _run(served, query="au:Nadolsky", max_results=10)
    assert [r.get_short_id() for r in by_author] == ["0704.0001v2"]
    by_abs = _run(served, query='abs:"load balancing"', max_results=20)
    assert by_abs and all("load balancing" in _norm(r.summary) for r in by_abs)


def test_booleans_and_phrases(served: dict[str, object]) -> None:
    moe = {r.entry_id for r in _run(served, query='all:"mixture of experts"', max_results=200)}
    routing = {r.entry_id for r in _run(served, query="all:routing", max_results=500)}
    both = _run(served, query='all:"mixture of experts" AND all:routing', max_results=200)
    either = {
        r.entry_id
        for r in _run(served, query='all:"mixture of experts" OR all:routing', max_results=1000)
    }
    minus = {
        r.entry_id
        for r in _run(served, query='all:"mixture of experts" ANDNOT all:routing', max_results=200)
    }
    assert 20 <= len(moe) <= 100  # the sample holds about 40 MoE papers
    assert {r.entry_id for r in both} == moe & routing and both
    assert either == moe | routing
    assert minus == moe - routing
    for r in both:
        assert "mixture of experts" in _norm(r.title + " " + r.summary)


def test_plain_multi_word_query_is_ranked_not_empty(served: dict[str, object]) -> None:
    hits = _run(served, query="all:mixture of experts routing", max_results=10)
    assert len(hits) == 10
    text = _norm(hits[0].title + " " + hits[0].summary)
    assert all(w in text for w in ("mixture", "expert", "rout"))


def test_entries_carry_every_arxiv_field(served: dict[str, object]) -> None:
    [bulk] = _run(served, id_list=["0704.0001"])
    assert bulk.get_short_id() == "0704.0001v2"
    assert bulk.title.startswith("Calculation of prompt diphoton production")
    assert bulk.journal_ref == "Phys.Rev.D76:013009,2007"
    assert bulk.doi == "10.1103/PhysRevD.76.013009"
    assert bulk.comment == "37 pages, 15 figures; published version"
    assert bulk.primary_category == "hep-ph" and bulk.categories == ["hep-ph"]
    assert [a.name for a in bulk.authors][:2] == ["C. Balázs", "E. L. Berger"]
    assert bulk.published.isoformat() == "2007-04-02T19:18:42+00:00"
    assert bulk.updated.isoformat() == "2007-07-24T20:10:27+00:00"
    assert bulk.pdf_url == "https://arxiv.org/pdf/0704.0001v2"
    assert any(link.rel == "alternate" for link in bulk.links)
    assert "perturbative quantum chromodynamics" in " ".join(bulk.summary.split())


def test_id_list_with_and_without_versions(served: dict[str, object]) -> None:
    sample = served["sample"]
    assert isinstance(sample, list)
    a, b = sample[0], sample[1]
    got = _run(served, id_list=[a["id"], b["id"] + "v1"])
    assert [r.get_short_id() for r in got] == [a["id"] + "v1", b["id"] + "v1"]
    assert got[0].title == a["title"]
    assert got[0].summary == a["summary"]  # served whole, exactly as stored
    assert got[0].categories[0] == a["categories"][0]


def test_unknown_id_and_empty_result(served: dict[str, object]) -> None:
    assert _run(served, id_list=["2999.99999"]) == []
    assert _run(served, query="all:zzyzxqqq") == []
    assert _run(served, query="all:routing", id_list=["0704.0001"]) == []


def test_paging_across_pages_matches_one_big_page(served: dict[str, object]) -> None:
    client = served["client"]
    assert isinstance(client, arxiv.Client)
    small = arxiv.Client(page_size=7, delay_seconds=0, num_retries=0)
    small.query_url_format = client.query_url_format
    search = arxiv.Search(query="cat:cs.CL AND all:language", max_results=40)
    paged = [r.entry_id for r in small.results(search)]
    whole = [r.entry_id for r in client.results(search)]
    assert len(paged) == 40 and paged == whole and len(set(paged)) == 40
    # to the very end: the client stops on totalResults without an empty page
    tail = list(small.results(arxiv.Search(query="ti:hallucination", max_results=None)))
    assert len(tail) == len({r.entry_id for r in tail}) > 7


def test_sorting(served: dict[str, object]) -> None:
    newest = _run(
        served, query="cat:cs.CV", max_results=60, sort_by=arxiv.SortCriterion.SubmittedDate
    )
    dates = [r.published for r in newest]
    assert dates == sorted(dates, reverse=True)
    oldest = _run(
        served,
        query="cat:cs.CV",
        max_results=60,
        sort_by=arxiv.SortCriterion.LastUpdatedDate,
        sort_order=arxiv.SortOrder.Ascending,
    )
    assert [r.updated for r in oldest] == sorted(r.updated for r in oldest)


def test_malformed_query_answers_400_with_atom_error(served: dict[str, object]) -> None:
    url = str(served["url"])
    resp = requests.get(url, params={"search_query": "ti:(unbalanced"}, timeout=10)
    assert resp.status_code == 400
    assert "application/atom+xml" in resp.headers["Content-Type"]
    assert "<title>Error</title>" in resp.text and "unbalanced parentheses" in resp.text
    bad_id = requests.get(url, params={"id_list": "2501.00001,abc.123"}, timeout=10)
    assert bad_id.status_code == 400 and "incorrect id format for abc.123" in bad_id.text
    with pytest.raises(arxiv.HTTPError) as info:
        _run(served, query="xx:unknownfield")
    assert info.value.status == 400


def test_max_results_capped_at_2000(served: dict[str, object]) -> None:
    resp = requests.get(
        str(served["url"]), params={"search_query": "cat:cs", "max_results": "5000"}, timeout=30
    )
    assert resp.status_code == 200
    assert resp.text.count("<entry>") == 2000
    assert "<opensearch:itemsPerPage>2000</opensearch:itemsPerPage>" in resp.text


def test_serve_without_db_says_run_ingest(tmp_path: Path) -> None:
    res = _sovereign("mirror", "serve", "--port", "0", home=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "sovereign mirror ingest" in res.stderr
