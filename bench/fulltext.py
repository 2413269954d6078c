"""Full-text readers on the shared data: speed, GROBID-TEI paragraph recall, tables found.

    python bench/fulltext.py [--data DIR] [--json OUT]

Prints, from one run over every file in ../shared/data/fulltext (or --data):
  - PDF: pages, seconds and pages/s per file and overall (pdfplumber/pdfminer, one core);
  - unarXive: papers/s for the 34-paper JSONL, with and without JSON decoding;
  - LaTeXML HTML: files/s;
  - TEI paragraph recall per PDF that has GROBID output beside it, in the three comparison
    forms of memory.fulltext.tei (strict; spaces ignored; spaces and 1-2 digit footnote marks
    ignored, the acceptance figure), with the missed paragraphs' count;
  - sections, paragraphs, references and tables (with cell counts) found per file;
  - the LaTeX e-print reader on arxiv_src/*.gz;
  - mirror ingest: unarXive papers/s into a fresh temp mirror, and the re-ingest of the same file.
  - a research run over a mirror of the unarXive papers (no LLM, one revision round at most):
    wall time reading full text vs the same run reading abstracts only, and wall / critical
    path of each (the orchestration's own cost; target at most 1.15).
Every figure is measured in this run; CPU load from other processes skews the speeds."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memory.fulltext import FullText, read_fulltext  # noqa: E402
from memory.fulltext.latexml import parse_latexml  # noqa: E402
from memory.fulltext.pdf import parse_pdf  # noqa: E402
from memory.fulltext.tei import paragraph_recall, read_tei  # noqa: E402
from memory.fulltext.unarxive import parse_record, read_unarxive  # noqa: E402

DATA = Path(os.environ.get("SOVEREIGN_SHARED_DATA", REPO.parent / "shared" / "data")) / "fulltext"


def _shape(doc: FullText) -> dict[str, Any]:
    """What was found in one file."""
    return {
        "sections": len(doc.sections),
        "paragraphs": len(doc.paragraphs),
        "references": len(doc.references),
        "tables": len(doc.tables),
        "tables_with_cells": sum(1 for t in doc.tables if t.rows),
        "cells": sum(len(r) for t in doc.tables for r in t.header_rows + t.rows),
        "figures": len(doc.figures),
        "warnings": doc.warnings,
    }


def _pdf_pages(data: bytes) -> int:
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def bench_pdf(folder: Path) -> dict[str, Any]:
    files: dict[str, Any] = {}
    total_pages, total_s = 0, 0.0
    for path in sorted(folder.glob("*.pdf")):
        data = path.read_bytes()
        pages = _pdf_pages(data)
        start = time.perf_counter()
        doc = parse_pdf(data)
        seconds = time.perf_counter() - start
        total_pages += pages
        total_s += seconds
        row: dict[str, Any] = {"pages": pages, "seconds": round(seconds, 2)}
        row["pages_per_s"] = round(pages / seconds, 2) if seconds else None
        row.update(_shape(doc))
        tei = path.with_name(path.stem + ".tei.xml")
        if tei.exists():
            sections = read_tei(tei)
            row["tei_recall"] = {}
            for name, squash, marks in (
                ("strict", False, False),
                ("no_spaces", True, False),
                ("no_spaces_no_marks", True, True),
            ):
                r = paragraph_recall(sections, doc, squash=squash, drop_marks=marks)
                row["tei_recall"][name] = {
                    "recovered": r.recovered,
                    "total": r.total,
                    "ratio": round(r.ratio, 3),
                }
        files[path.name] = row
    overall = round(total_pages / total_s, 2) if total_s else None
    return {
        "files": files,
        "pages": total_pages,
        "seconds": round(total_s, 2),
        "pages_per_s": overall,
    }


def bench_unarxive(folder: Path) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for path in sorted(folder.glob("*.jsonl")):
        start = time.perf_counter()
        papers, skipped = read_unarxive(path)
        with_json = time.perf_counter() - start
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        start = time.perf_counter()
        for rec in records:
            parse_record(rec)
        parse_only = time.perf_counter() - start
        files[path.name] = {
            "papers": len(papers),
            "skipped": len(skipped),
            "papers_per_s": round(len(papers) / with_json, 1),
            "papers_per_s_parse_only": round(len(records) / parse_only, 1),
            "sections": sum(len(p.sections) for p in papers),
            "paragraphs": sum(len(p.paragraphs) for p in papers),
            "references": sum(len(p.references) for p in papers),
            "tables_caption_only": sum(len(p.tables) for p in papers),
        }
    return files


def bench_html(folder: Path) -> dict[str, Any]:
    files: dict[str, Any] = {}
    total_s = 0.0
    for path in sorted(folder.glob("*.html")):
        data = path.read_bytes()
        start = time.perf_counter()
        doc = parse_latexml(data, paper_id=path.stem)
        seconds = time.perf_counter() - start
        total_s += seconds
        files[path.name] = {"seconds": round(seconds, 3), **_shape(doc)}
    rate = round(len(files) / total_s, 1) if total_s else None
    return {"files": files, "files_per_s": rate}


def bench_eprint(folder: Path) -> dict[str, Any]:
    """The LaTeX e-print reader, when one is present and readable."""
    out: dict[str, Any] = {}
    for path in sorted(folder.glob("*.gz")):
        start = time.perf_counter()
        try:
            doc = read_fulltext(path, fmt="latex")
        except Exception as e:  # report, do not stop the bench
            out[path.name] = {"error": str(e)}
            continue
        out[path.name] = {"seconds": round(time.perf_counter() - start, 2), **_shape(doc)}
    return out


def _print(results: dict[str, Any]) -> None:
    pdf = results["pdf"]
    print(f"PDF: {pdf['pages']} pages in {pdf['seconds']} s = {pdf['pages_per_s']} pages/s")
    for name, row in pdf["files"].items():
        print(
            f"  {name:28} {row['pages']:3} p {row['pages_per_s']:6} p/s  "
            f"sec {row['sections']:3} para {row['paragraphs']:4} ref {row['references']:4} "
            f"tables {row['tables']} ({row['tables_with_cells']} with cells, {row['cells']} cells)"
        )
        for form, r in row.get("tei_recall", {}).items():
            print(f"      TEI recall [{form}]: {r['recovered']}/{r['total']} = {r['ratio']:.3f}")
    for name, row in results["unarxive"].items():
        print(
            f"unarXive {name}: {row['papers']} papers ({row['skipped']} skipped), "
            f"{row['papers_per_s']} papers/s with JSON decoding, "
            f"{row['papers_per_s_parse_only']} parse only; {row['paragraphs']} paragraphs, "
            f"{row['references']} references, {row['tables_caption_only']} caption-only tables"
        )
    html = results["html"]
    print(f"LaTeXML HTML: {html['files_per_s']} files/s")
    for name, row in html["files"].items():
        print(
            f"  {name:30} sec {row['sections']:3} para {row['paragraphs']:4} "
            f"ref {row['references']:3} tables {row['tables']} ({row['cells']} cells)"
        )
    for name, row in results["eprint"].items():
        print(f"e-print {name}: {row}")
    run = results.get("research_run_full_text_vs_abstract")
    if run:
        for mode in ("full_text", "abstract_only"):
            r = run[mode]
            print(
                f"research run, {mode.replace('_', ' ')}: wall {r['wall_s']} s, critical path "
                f"{r['critical_s']} s, wall/critical {r['wall_over_critical']} (target <= 1.15); "
                f"{r['read_in_full']} source(s) read in full, {r['claims']} claims, "
                f"{r['body_claims']} from body or tables"
            )
        print(f"research run: full text costs {run['ratio']}x the abstract-only wall time")


# --- a research run reading full text vs abstracts only -------------------------------------

RUN_QUESTION = (
    "What detection accuracy does the RoBERTa detector reach on mutation-based generated text "
    "in arXiv 2212.11808?"
)


@dataclass
class _NoFullText:
    """The abstract-only arm: every fetch answers that no full text exists."""

    fulltext: FullText | None = None
    reason: str | None = "abstract-only bench arm"

    def fetch(self, arxiv_id: str, version: int | None = None) -> _NoFullText:
        return self


def _research(settings: Any, abstract_only: bool) -> dict[str, Any]:
    from graph import build_graph
    from graph.services import Services
    from memory.run import RunRecord, critical_path

    services = Services(settings, fulltext_factory=_NoFullText if abstract_only else None)
    try:
        start = time.perf_counter()
        state = build_graph(settings, services=services).invoke({"question": RUN_QUESTION})
        wall = time.perf_counter() - start
    finally:
        services.close()
    record = RunRecord.from_state(dict(state))
    critical = critical_path((t.start, t.end) for t in record.timings)
    return {
        "wall_s": round(wall, 2),
        "critical_s": round(critical, 2),
        "wall_over_critical": round(wall / critical, 3) if critical else None,
        "read_in_full": len(record.read_in_full()),
        "claims": len(record.claims),
        "body_claims": sum(1 for c in record.claims if (c.location or "Abstract") != "Abstract"),
    }


def bench_research(folder: Path) -> dict[str, Any]:
    """One warm-up run, then the full-text and the abstract-only run on the same mirror."""
    import tempfile

    from graph.settings import load_settings
    from graph.transcript import configure
    from memory.mirror.fulltext_ingest import ingest_fulltext

    home = Path(tempfile.mkdtemp(prefix="sovereign-bench-fulltext-"))
    os.environ["SOVEREIGN_HOME"] = str(home)
    configure(home / "events.jsonl", to_stderr=False)
    settings = load_settings(home=str(home), max_revisions=1)
    ingest_fulltext(settings.mirror_path, sorted(folder.glob("*.jsonl")), progress=False)
    _research(settings, abstract_only=False)  # warm-up: model loads, collections, caches
    full = _research(settings, abstract_only=False)
    abstract = _research(settings, abstract_only=True)
    ratio = round(full["wall_s"] / abstract["wall_s"], 2) if abstract["wall_s"] else None
    return {"full_text": full, "abstract_only": abstract, "ratio": ratio}


# --- mirror full-text ingest (memory/mirror/fulltext_ingest.py) ------------------------------


def bench_mirror_ingest(folder: Path, runs: int = 3) -> dict[str, Any]:
    """unarXive papers/s through the mirror's full-text ingest into a fresh temp mirror (read,
    parse, compress, store, index paragraphs, add metadata rows), best of `runs`; then the
    re-ingest of the same file, where matching input hashes mean nothing is parsed."""
    import tempfile

    from memory.mirror.fulltext_ingest import ingest_fulltext

    out: dict[str, Any] = {}
    for path in sorted(folder.glob("*.jsonl")):
        best, again_s, size = float("inf"), 0.0, 0
        papers = 0
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "mirror.db"
                first = ingest_fulltext(db, [path], progress=False)
                again = ingest_fulltext(db, [path], progress=False)
                size = db.stat().st_size
            papers = first.inserted
            if first.seconds < best:
                best, again_s = first.seconds, again.seconds
        out[path.name] = {
            "papers": papers,
            "seconds": round(best, 2),
            "papers_per_s": round(papers / best, 1) if best else None,
            "reingest_papers_per_s": round(papers / again_s, 1) if again_s else None,
            "db_mb": round(size / 1e6, 2),
            "input_mb": round(path.stat().st_size / 1e6, 2),
        }
    return out


def _print_mirror(rows: dict[str, Any]) -> None:
    for name, row in rows.items():
        print(
            f"mirror ingest {name}: {row['papers']} papers in {row['seconds']} s = "
            f"{row['papers_per_s']} papers/s (re-ingest {row['reingest_papers_per_s']} papers/s); "
            f"DB {row['db_mb']} MB for {row['input_mb']} MB of JSONL"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA, help="the shared fulltext/ folder")
    ap.add_argument("--json", dest="json_out", type=Path)
    args = ap.parse_args()
    if not args.data.exists():
        print(f"shared data {args.data} is absent (set SOVEREIGN_SHARED_DATA)", file=sys.stderr)
        return 2
    results = {
        "pdf": bench_pdf(args.data / "pdf"),
        "unarxive": bench_unarxive(args.data / "unarxive"),
        "html": bench_html(args.data / "arxiv_html"),
        "eprint": bench_eprint(args.data / "arxiv_src"),
        "mirror_ingest": bench_mirror_ingest(args.data / "unarxive"),
        "research_run_full_text_vs_abstract": bench_research(args.data / "unarxive"),
    }
    _print(results)
    _print_mirror(results["mirror_ingest"])
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
