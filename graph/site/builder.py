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
from graph.site.pages import (
    SiteReport,
    about_page,
    benchmarks_page,
    graph_page,
    index_page,
    mathematics_page,
    report_page,
)
from memory.publication.contracts import CONTRACTS, schema
from memory.publication.runview import canonical_json, html_safe_json, sha256_text, unanswered
from memory.publication.service import to_record
from memory.publication.store import PublicationStore

VISIBLE = ("published", "retracted")
ASSETS = ("site.css", "site.js", "graph.js")


@dataclass(frozen=True)
class SiteSummary:
    out_dir: Path
    reports: int
    pages: int


def collect(store: PublicationStore) -> list[SiteReport]:
    """The visible reports, newest first, each as its latest version."""
    reports: list[SiteReport] = []
    for report_id in store.report_ids():
        stored = store.get(report_id)
        if stored.status not in VISIBLE or unanswered(stored.record()):
            continue  # drafts, and runs that never answered (recorded by older versions)
        rec = to_record(stored)
        reports.append(
            SiteReport(
                report_id=report_id,
                status=stored.status,
                manifest=rec.manifest,
                provenance=rec.provenance,
                corrections=rec.corrections,
                record=stored.record(),
                markdown=stored.markdown,
                history=stored.history,
            )
        )
    reports.sort(key=lambda r: (r.manifest["submitted_at"], r.report_id), reverse=True)
    return reports


def _benchmark_names(rep: SiteReport, claim: dict[str, Any]) -> set[str]:
    """Benchmarks a claim names: recognised in its text or quote, plus the question's benchmark
    facets that the claim mentions (the claim's `setting` also holds conditions, so it is not
    used as a name)."""
    text = f"{claim['text']} {claim['quote']}"
    names = set(benchmark_mentions(text))  # known names plus *QA/*Bench-shaped tokens
    folded = f" {text.casefold()} "
    for bench in rep.record.facets.benchmark:
        if bench.strip() and bench.casefold() in folded:
            names.add(bench.strip())
    return names


def benchmark_groups(
    reports: list[SiteReport],
) -> list[tuple[str, list[tuple[SiteReport, dict[str, Any]]]]]:
    """Claims grouped by the benchmark they name (case-folded; the first spelling is shown)."""
    groups: dict[str, tuple[str, list[tuple[SiteReport, dict[str, Any]]]]] = {}
    for rep in reports:
        for claim in rep.provenance["claims"]:
            for name in sorted(_benchmark_names(rep, claim)):
                groups.setdefault(name.casefold(), (name, []))[1].append((rep, claim))
    return [groups[key] for key in sorted(groups)]


def graph_data(reports: list[SiteReport]) -> dict[str, Any]:
    """Nodes: reports, claims, papers. Edges: report-claim, claim-source paper, claim-evidence
    paper (labelled with the verifier's label)."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, str]] = []
    for rep in reports:
        rid = rep.report_id
        nodes[rid] = {
            "id": rid,
            "kind": "report",
            "label": f"{rid} · {rep.manifest['quality']['tier']}",
            "href": f"reports/{rep.hex}.html",
        }
        titles = {s["id"]: s for s in rep.provenance["sources"]}
        for claim in rep.provenance["claims"]:
            cid = f"{rid}/{claim['claim_id']}"
            nodes[cid] = {
                "id": cid,
                "kind": "claim",
                "label": f"{claim['claim_id']} ({claim['status']}): {claim['text']}",
                "href": f"reports/{rep.hex}.html#claims",
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


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _write_report_files(out_dir: Path, rep: SiteReport) -> None:
    """report.md and the three public documents beside the report's page; the page lists them
    as downloads (provenance is written canonically so its sha256 matches the manifest's)."""
    base = out_dir / "reports" / rep.hex
    if rep.markdown is not None:
        _write(base / "report.md", rep.markdown)
        rep.downloads["report.md"] = (f"{rep.hex}/report.md", sha256_text(rep.markdown))
    for name, doc in (
        ("manifest.json", rep.manifest),
        ("provenance.json", rep.provenance),
        ("corrections.json", rep.corrections),
    ):
        canonical = name == "provenance.json"
        text = canonical_json(doc) if canonical else html_safe_json(json.dumps(doc, indent=2))
        _write(base / name, text)
        rep.downloads[name] = (f"{rep.hex}/{name}", sha256_text(text) if canonical else "")


def _write_static(out_dir: Path) -> None:
    assets = resources.files("graph.site").joinpath("assets")
    for name in ASSETS:
        _write(out_dir / "assets" / name, assets.joinpath(name).read_text(encoding="utf-8"))
    for contract in CONTRACTS:
        _write(out_dir / "schemas" / f"{contract}.json", json.dumps(schema(contract), indent=2))


def build_site(store: PublicationStore, out_dir: Path, progress: bool = False) -> SiteSummary:
    """Write the whole site into `out_dir` (created; existing files are overwritten)."""
    out_dir = Path(out_dir)
    reports = collect(store)
    _write_static(out_dir)
    for i, rep in enumerate(reports, 1):
        _write_report_files(out_dir, rep)
        _write(out_dir / "reports" / f"{rep.hex}.html", report_page(rep))
        if progress:
            print(f"  report {i}/{len(reports)} {rep.report_id}", file=sys.stderr)
    _write(out_dir / "index.html", index_page(reports))
    _write(out_dir / "benchmarks.html", benchmarks_page(benchmark_groups(reports)))
    _write(out_dir / "mathematics.html", mathematics_page())
    _write(out_dir / "graph.html", graph_page(graph_data(reports)))
    _write(out_dir / "about.html", about_page(reports))
    return SiteSummary(out_dir=out_dir, reports=len(reports), pages=len(reports) + 5)


def clean_dir(out_dir: Path) -> None:
    """Remove a previously built site (only if it looks like one)."""
    if (out_dir / "index.html").exists() and (out_dir / "assets").is_dir():
        shutil.rmtree(out_dir)
