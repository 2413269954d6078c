"""Static site: index, one page per report (with downloads), benchmarks, mathematics, graph and
about. Only published (and retracted, marked as such) reports appear; drafts never do."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from agents.facets import benchmark_mentions
from graph.site.docs_pages import about_page, mathematics_page
from graph.site.html import esc, fmt_date, page, script_json
from graph.site.report_page import report_page
from memory.publication.contracts import CONTRACTS, schema
from memory.publication.quality import TIER_NAMES
from memory.publication.runview import canonical_json, sha256_text
from memory.publication.service import to_record
from memory.publication.store import PublicationStore

VISIBLE = ("published", "retracted")
ASSETS = ("site.css", "site.js", "graph.js")


@dataclass(frozen=True)
class SiteSummary:
    out_dir: Path
    reports: int
    pages: int


def _hex(report_id: str) -> str:
    return report_id.split(":", 1)[1]


def collect(store: PublicationStore) -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = []
    for report_id in store.report_ids():
        stored = store.get(report_id)
        if stored.status not in VISIBLE:
            continue
        rec = to_record(stored)
        reports.append(
            {
                "report_id": report_id,
                "hex": _hex(report_id),
                "status": stored.status,
                "manifest": rec.manifest,
                "provenance": rec.provenance,
                "corrections": rec.corrections,
                "state": stored.state,
                "markdown": stored.markdown,
                "history": [h.__dict__ for h in stored.history],
                "extra": {
                    k: stored.state[k]
                    for k in ("target_status", "target_note", "halted", "input_error")
                    if stored.state.get(k)
                },
            }
        )
    reports.sort(key=lambda r: (r["manifest"]["submitted_at"], r["report_id"]), reverse=True)
    return reports


def _index_page(reports: list[dict[str, Any]]) -> str:
    rows = []
    for r in reports:
        m = r["manifest"]
        q = m["quality"]
        title = m["paper"]["title"] if m["paper"] else "—"
        score = float(m["scores"]["review_score"])
        rows.append(
            f'<tr class="report" data-tier="{esc(q["tier"])}" data-score="{score:.4f}" '
            f'data-date="{esc(m["submitted_at"])}" data-id="{esc(r["report_id"])}" '
            f'data-status="{esc(r["status"])}">'
            f'<td><a href="reports/{esc(r["hex"])}.html">{esc(r["report_id"])}</a></td>'
            f"<td>{esc(m['question'])}<br><small>{esc(title)}</small></td>"
            f"<td>{esc(fmt_date(m['submitted_at']))}</td><td>{score:.2f}</td>"
            f"<td>{esc(q['verification_level']['code'])}</td><td>{esc(q['tier'])}</td>"
            f"<td>{esc(r['corrections']['status'])}</td></tr>"
        )
    options = "".join(f'<option value="{esc(t)}">{esc(t)}</option>' for t in TIER_NAMES)
    heads = (
        ("id", "Report"),
        ("", "Question / paper"),
        ("date", "Submitted"),
        ("score", "Score"),
        ("", "Level"),
        ("tier", "Tier"),
        ("", "Record"),
    )
    head = "".join(
        f'<th><button class="sort" data-sort="{k}">{esc(label)}</button></th>'
        if k
        else f"<th>{esc(label)}</th>"
        for k, label in heads
    )
    body = (
        "<h1>Published reports</h1>"
        '<form class="filters" id="filters" onsubmit="return false">'
        f'<label>Tier <select id="f-tier"><option value="">All tiers</option>{options}</select>'
        "</label>"
        '<label>Score from <input id="f-min" type="number" min="0" max="10" step="0.1" '
        'value="0"></label>'
        '<label>to <input id="f-max" type="number" min="0" max="10" step="0.1" value="10">'
        "</label>"
        f'<span id="shown-count">{len(reports)} of {len(reports)} reports shown</span></form>'
        f'<table class="grid index" id="reports"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        + ("" if reports else '<p class="empty">No report is published yet.</p>')
    )
    return page("Index", body, scripts=("site.js",))


def _benchmark_names(rep: dict[str, Any], claim: dict[str, Any]) -> set[str]:
    """Benchmarks a claim names: recognised in its text or quote, plus the question's benchmark
    facets that the claim mentions (the claim's `setting` also holds conditions, so it is not
    used as a name)."""
    text = f"{claim['text']} {claim['quote']}"
    names = set(benchmark_mentions(text))  # known names plus *QA/*Bench-shaped tokens
    folded = f" {text.casefold()} "
    for bench in (rep["state"].get("facets") or {}).get("benchmark") or []:
        if str(bench).strip() and str(bench).casefold() in folded:
            names.add(str(bench).strip())
    return names


def _benchmarks_page(reports: list[dict[str, Any]]) -> str:
    groups: dict[str, tuple[str, list[str]]] = {}
    for rep in reports:
        for claim in rep["provenance"]["claims"]:
            for name in sorted(_benchmark_names(rep, claim)):
                label, items = groups.setdefault(name.casefold(), (name, []))
                items.append(
                    f'<li><a href="reports/{esc(rep["hex"])}.html#claims">'
                    f"{esc(rep['report_id'])} {esc(claim['claim_id'])}</a> "
                    f"[{esc(claim['status'])}, {float(claim['confidence']):.2f}] "
                    f"{esc(claim['text'])}</li>"
                )
    sections = "".join(
        f'<section class="bench" data-bench="{esc(label)}"><h2>{esc(label)}</h2>'
        f"<p>{len(items)} claim(s)</p><ul>{''.join(items)}</ul></section>"
        for _, (label, items) in sorted(groups.items())
    )
    body = (
        "<h1>Benchmarks and datasets</h1><p>Every benchmark or dataset named by a claim in a "
        "published report (recognised in the claim's text or verbatim quote), with the claims "
        "about it.</p>" + (sections or '<p class="empty">No claim names a benchmark yet.</p>')
    )
    return page("Benchmarks", body)


def graph_data(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Nodes: reports, claims, papers. Edges: report-claim, claim-source paper, claim-evidence
    paper (labelled with the verifier's label)."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, str]] = []
    for rep in reports:
        rid = rep["report_id"]
        nodes[rid] = {
            "id": rid,
            "kind": "report",
            "label": f"{rid} · {rep['manifest']['quality']['tier']}",
            "href": f"reports/{rep['hex']}.html",
        }
        titles = {s["id"]: s for s in rep["provenance"]["sources"]}
        for claim in rep["provenance"]["claims"]:
            cid = f"{rid}/{claim['claim_id']}"
            nodes[cid] = {
                "id": cid,
                "kind": "claim",
                "label": f"{claim['claim_id']} ({claim['status']}): {claim['text']}",
                "href": f"reports/{rep['hex']}.html#claims",
            }
            edges.append({"source": rid, "target": cid, "kind": "has"})
            links = [(claim["source_id"], "from")]
            links += [(e["doc_id"], e["label"]) for e in claim["evidence"]]
            for pid, kind in links:
                key = f"arxiv:{pid}"
                if key not in nodes:
                    src = titles.get(pid, {})
                    nodes[key] = {
                        "id": key,
                        "kind": "paper",
                        "label": f"{pid} {src.get('title', '')}".strip(),
                        "href": src.get("url") or f"https://arxiv.org/abs/{pid}",
                    }
                edges.append({"source": cid, "target": key, "kind": kind})
    return {"nodes": list(nodes.values()), "edges": edges}


def _graph_page(reports: list[dict[str, Any]]) -> str:
    data = graph_data(reports)
    body = (
        "<h1>Papers ↔ claims ↔ reports</h1><p>Drag nodes to move them; hover for a label; "
        "click a node to open it. "
        f"{sum(n['kind'] == 'report' for n in data['nodes'])} reports, "
        f"{sum(n['kind'] == 'claim' for n in data['nodes'])} claims, "
        f"{sum(n['kind'] == 'paper' for n in data['nodes'])} papers.</p>"
        '<p class="legend"><span class="k-report">● report</span> '
        '<span class="k-claim">● claim</span> <span class="k-paper">● paper</span> '
        "— edges: grey from/has, green SUPPORT, red CONTRADICT, dotted NOT_ENOUGH_INFO</p>"
        '<div class="graphwrap"><canvas id="graph" width="1100" height="700"></canvas>'
        '<div id="tip" class="tip" hidden></div></div>'
        f'<script type="application/json" id="graph-data">{script_json(data)}</script>'
    )
    return page("Graph", body, scripts=("graph.js",))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build_site(store: PublicationStore, out_dir: Path, progress: bool = False) -> SiteSummary:
    """Write the whole site into `out_dir` (created; existing files are overwritten)."""
    out_dir = Path(out_dir)
    reports = collect(store)
    assets = resources.files("graph.site").joinpath("assets")
    (out_dir / "assets").mkdir(parents=True, exist_ok=True)
    for name in ASSETS:
        _write(out_dir / "assets" / name, assets.joinpath(name).read_text(encoding="utf-8"))
    for contract in CONTRACTS:
        _write(out_dir / "schemas" / f"{contract}.json", json.dumps(schema(contract), indent=2))
    pages = 0
    for i, rep in enumerate(reports, 1):
        base = out_dir / "reports" / rep["hex"]
        downloads: dict[str, tuple[str, str]] = {}
        if rep["markdown"] is not None:
            _write(base / "report.md", rep["markdown"])
            downloads["report.md"] = (f"{rep['hex']}/report.md", sha256_text(rep["markdown"]))
        for name, doc in (
            ("manifest.json", rep["manifest"]),
            ("provenance.json", rep["provenance"]),
            ("corrections.json", rep["corrections"]),
        ):
            # provenance is written canonically so its sha256 matches the manifest's
            text = canonical_json(doc) if name == "provenance.json" else json.dumps(doc, indent=2)
            _write(base / name, text)
            downloads[name] = (
                f"{rep['hex']}/{name}",
                sha256_text(text) if name == "provenance.json" else "",
            )
        rep["downloads"] = downloads
        _write(out_dir / "reports" / f"{rep['hex']}.html", report_page(rep))
        pages += 1
        if progress:
            print(f"  report {i}/{len(reports)} {rep['report_id']}", file=sys.stderr)
    _write(out_dir / "index.html", _index_page(reports))
    _write(out_dir / "benchmarks.html", _benchmarks_page(reports))
    _write(out_dir / "mathematics.html", mathematics_page())
    _write(out_dir / "graph.html", _graph_page(reports))
    _write(out_dir / "about.html", about_page(reports))
    return SiteSummary(out_dir=out_dir, reports=len(reports), pages=pages + 5)


def clean_dir(out_dir: Path) -> None:
    """Remove a previously built site (only if it looks like one)."""
    if (out_dir / "index.html").exists() and (out_dir / "assets").is_dir():
        shutil.rmtree(out_dir)
