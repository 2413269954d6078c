"""Does the Answer carry figures only a paper's body states, cited to the right paper and place?

    python bench/answer.py [--data DIR] [--json OUT] [--max-revisions N] [--only ID,...]

A question set built from the shared unarXive full texts (../shared/data/fulltext/unarxive):
each question asks for a figure that only the body of its paper states (checked against the
abstract at start), with the section it sits in. Every question is one research run, as a user
types it (`sovereign research`, no LLM, default settings but --max-revisions), over one fresh
temp mirror of those papers. Reported per question and in total:
  - found: the expected figure is in a statement of the Answer that cites the expected paper;
  - placed: that statement's location names the expected section as well;
  - in_claims: the figure is in a selected claim (the reading found it, whatever the Answer);
  - revision rounds run, and how many ended the loop early (no new source, or no new statement
    bearing on the question), and whether the reviser ran out of queries;
  - wall seconds per run.
Every figure is measured in this run; CPU load from other processes skews the times."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agents.plain import plain  # noqa: E402
from agents.reviser import round_yield  # noqa: E402
from memory.run import RunRecord  # noqa: E402

DATA = Path(os.environ.get("SOVEREIGN_SHARED_DATA", REPO.parent / "shared" / "data")) / "fulltext"
UNARXIVE = "unarxive/arXiv_src_2212_086_part.jsonl"


@dataclass(frozen=True)
class Case:
    question: str
    paper: str
    figure: str  # as the body writes it
    section: str  # the section title it sits in


CASES = [
    Case(
        "What detection accuracy does the RoBERTa detector reach on mutation-based generated "
        "text in arXiv 2212.11808?",
        "2212.11808",
        "91%",
        "Experiments results & analysis",
    ),
    Case(
        "What recall does the original detector without mutations reach on synthetic and human "
        "text in arXiv 2212.11808?",
        "2212.11808",
        "97%",
        "Preliminary Results",
    ),
    Case(
        "What share of the news articles in the ESG ratings dataset of arXiv 2212.11765 "
        "originate from the United States?",
        "2212.11765",
        "72%",
        "News Dataset Creation",
    ),
    Case(
        "What share of the news articles in arXiv 2212.11765 come from the United Kingdom?",
        "2212.11765",
        "7%",
        "News Dataset Creation",
    ),
    Case(
        "What overall accuracy does the distilBERT ESG news classifier reach in arXiv 2212.11765?",
        "2212.11765",
        "83%",
        "ESG News classification",
    ),
    Case(
        "By how much does BL+ improve the Top 1 results of BugLocator according to the bug "
        "localization review arXiv 2212.11774?",
        "2212.11774",
        "29.0%",
        "Evaluation",
    ),
    Case(
        "How much faster is the quad/double code than the full quad precision code on the "
        "power9 chip in arXiv 2212.11849?",
        "2212.11849",
        "2.5x",
        "",
    ),
    Case(
        "What share of the links is used for training the GAN channel model of arXiv 2212.11858?",
        "2212.11858",
        "80%",
        "Modeling Results",
    ),
    Case(
        "What frequency slot granularity per link does ONOS provide in arXiv 2212.11874?",
        "2212.11874",
        "12.5 GHz",
        "Experimental Setup",
    ),
]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", plain(text)).strip()


def body_only(source: Path) -> dict[str, bool]:
    """Per case: the figure is in the paper's body and not in its abstract."""
    papers: dict[str, dict[str, Any]] = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        papers[rec["paper_id"]] = rec
    out = {}
    for case in CASES:
        rec = papers.get(case.paper, {})
        abstract = _norm((rec.get("abstract") or {}).get("text", ""))
        body = _norm(" ".join(p["text"] for p in rec.get("body_text", [])))
        out[case.question] = case.figure in body and case.figure not in abstract
    return out


def _env(home: Path, max_revisions: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOVEREIGN_")}
    return {
        **env,
        "SOVEREIGN_HOME": str(home),
        "SOVEREIGN_LOG_LEVEL": "WARNING",
        "SOVEREIGN_MAX_REVISIONS": str(max_revisions),
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def score(case: Case, record: RunRecord) -> dict[str, Any]:
    """Where the figure landed: an Answer statement citing the paper (and its section), a
    selected claim; and what the revision rounds did."""
    statements = [s for p in (record.answer.parts if record.answer else []) for s in p.statements]
    cited = [s for s in statements if s.source_id == case.paper and case.figure in _norm(s.text)]
    placed = [s for s in cited if case.section.lower() in (s.location or "").lower()]
    in_claims = any(
        c.source_id == case.paper and case.figure in _norm(c.text) for c in record.claims
    )
    state = record.model_dump(mode="json")
    early = [p.round for p in record.revision_plans if round_yield(state, p.round).empty]
    return {
        "found": bool(cited),
        "placed": bool(placed),
        "in_claims": in_claims,
        "location": cited[0].location if cited else None,
        "rounds": len(record.revision_plans),
        "ended_early": len(early),
        "reviser_exhausted": record.revision_exhausted,
        "answer_statements": len(statements),
    }


def run_case(case: Case, env: dict[str, str]) -> dict[str, Any]:
    start = time.perf_counter()
    done = _cli(env, "research", case.question, "--no-owner-review")
    wall = round(time.perf_counter() - start, 1)
    m = re.search(r"^report: (.+)$", done.stdout, re.M)
    if done.returncode != 0 or m is None:
        return {"error": (done.stderr or done.stdout)[-500:], "wall_s": wall}
    data = json.loads(Path(m.group(1)).with_name("run.json").read_text(encoding="utf-8"))
    record = RunRecord.model_validate(data["state"])
    return {**score(case, record), "wall_s": wall, "target": record.target_status}


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in rows if "error" not in r]
    return {
        "questions": len(rows),
        "runs_failed": len(rows) - len(ok),
        "found_in_answer_with_paper": sum(r["found"] for r in ok),
        "found_with_paper_and_section": sum(r["placed"] for r in ok),
        "found_in_claims": sum(r["in_claims"] for r in ok),
        "revision_rounds": sum(r["rounds"] for r in ok),
        "rounds_ended_early": sum(r["ended_early"] for r in ok),
        "reviser_exhausted": sum(r["reviser_exhausted"] for r in ok),
        "mean_wall_s": round(sum(r["wall_s"] for r in ok) / max(1, len(ok)), 1),
    }


SHOWN = ("paper", "figure", "found", "placed", "in_claims", "location", "rounds", "ended_early")
SHOWN += ("wall_s", "error")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--max-revisions", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated paper ids")
    args = parser.parse_args()
    source = args.data / UNARXIVE
    if not source.exists():
        print(f"skip: {source} is absent")
        return 0
    cases = [c for c in CASES if not args.only or c.paper in args.only.split(",")]
    checks = body_only(source)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp) / "home", args.max_revisions)
        ingest = _cli(env, "mirror", "ingest", str(source))
        if ingest.returncode != 0:
            print(ingest.stderr, file=sys.stderr)
            return 1
        for case in cases:
            row = {**asdict(case), "body_only": checks[case.question], **run_case(case, env)}
            rows.append(row)
            print(json.dumps({k: row.get(k) for k in SHOWN}))
    result = {"cases": rows, "totals": totals(rows)}
    print(json.dumps(result["totals"], indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
