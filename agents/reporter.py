"""Write the Markdown report and the run's JSON file. Every number comes from the state; no
stored or shown field is cut (titles, abstracts, claims and quotes appear whole)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

RESULTS_FMT = (
    "{n} papers retrieved. {m} claims extracted, {k} verified. "
    "Tribunal: {s:.2f}/10 → {decision} (revision_round={r}). Policy: {policy}."
)


def summary(state: dict[str, Any]) -> dict[str, Any]:
    """The numbers the report states, computed from the state (tests compare the two)."""
    threshold = float(state.get("settings_used", {}).get("consensus_threshold", 6.5))
    consensus = float(state.get("consensus", 0.0))
    return {
        "papers_retrieved": len(state.get("papers", [])),
        "claims_extracted": len(state.get("claims", [])),
        "claims_verified": sum(
            1 for v in state.get("verifications", []) if v["status"] == "verified"
        ),
        "consensus": consensus,
        "decision": "APPROVE" if consensus >= threshold else "REJECT",
        "revision_round": int(state.get("revision_round", 0)),
        "policy": state.get("policy", "ESCALATE_TO_OWNER"),
        "conflicts": len(state.get("conflicts", [])),
        "queries": len(state.get("queries", [])),
    }


def results_line(state: dict[str, Any]) -> str:
    s = summary(state)
    return RESULTS_FMT.format(
        n=s["papers_retrieved"],
        m=s["claims_extracted"],
        k=s["claims_verified"],
        s=s["consensus"],
        decision=s["decision"],
        r=s["revision_round"],
        policy=s["policy"],
    )


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")  # the table's only special char


def _abs(arxiv_id: str, papers: dict[str, dict[str, Any]]) -> str:
    paper = papers.get(arxiv_id)
    return (paper or {}).get("abs_url") or f"https://arxiv.org/abs/{arxiv_id}"


def methodology(state: dict[str, Any], run_info: dict[str, Any]) -> str:
    s = state.get("settings_used", {})
    emb = run_info.get("embedding", {})
    source = (
        f"arXiv API at {s.get('arxiv_url')}"
        if s.get("arxiv_url")
        else ("local arXiv mirror" if s.get("arxiv_mode") == "mirror" else "arXiv API (online)")
    )
    rounds = 1 + int(state.get("revision_round", 0))
    verifier = run_info.get("verifier", s.get("verifier"))
    ver_text = (
        f"TF-IDF cosine (unigrams+bigrams, threshold={s.get('tfidf_threshold')})"
        if verifier == "tfidf"
        else f"'{verifier}' verifier"
        + (f" ({run_info['verifier_detail']})" if run_info.get("verifier_detail") else "")
    )
    llm = (
        f"LLM proposals from {s.get('llm_model')} at {s.get('llm_base_url')}, accepted only when "
        "grounded"
        if s.get("llm_base_url")
        else "no LLM: deterministic agents"
    )
    usage = run_info.get("llm_usage")
    if usage:
        llm += (
            f" ({usage.get('calls', 0)} LLM calls, {usage.get('prompt_tokens', 0)} prompt + "
            f"{usage.get('completion_tokens', 0)} completion tokens in this process)"
        )
    dim = emb.get("dim")
    return (
        f"Multi-query search of the {source} ({s.get('num_queries')} parallel queries per round, "
        f"relevance-sorted, up to {s.get('max_results_per_query')} results each); "
        f"{rounds} search round(s), {len(state.get('queries', []))} queries in total. "
        f"Vector memory: {emb.get('backend', s.get('embedding_backend'))} embeddings "
        f"{emb.get('model', 'unknown')} (dim={dim if dim is not None else 'unknown'}). "
        f"Claims: whole abstract sentences bearing on the question's facets, vacuous ones "
        f"dropped, at most {s.get('max_claims')}. Verification against other sources only "
        f"({s.get('evidence_k')} nearest per claim): {ver_text}. Tribunal: 3-role parallel review "
        f"(SKEPTIC/VALIDATOR/SYNTHESIZER), revision when consensus < "
        f"{s.get('consensus_threshold')} for at most {s.get('max_revisions')} round(s). {llm}."
    )


def uncertainties(state: dict[str, Any], run_info: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for event in state.get("provenance", []):
        if event["kind"] in ("fallback", "degraded", "error", "info"):
            out.append(
                f"{event['kind']} in {event['node']} (round {event['round']}): {event['message']}"
            )
    for err in state.get("search_log", []):
        if err.get("error"):
            out.append(f"search '{err['query']}' failed: {err['error']}")
    for conflict in state.get("conflicts", []):
        out.append(f"conflicting numbers: {conflict['note']}")
    for cov in state.get("coverage", []):
        if not cov["covered"]:
            out.append(cov["note"] or f"{cov['facet']} '{cov['value']}' not covered")
    unverified = [
        v["claim_id"] for v in state.get("verifications", []) if v["status"] != "verified"
    ]
    if unverified:
        out.append(
            f"{len(unverified)} claim(s) found no support in another retrieved source: "
            + ", ".join(unverified)
        )
    if run_info.get("verifier") == "tfidf":
        out.append(
            "TF-IDF similarity is topical overlap, not entailment: a weak verification signal"
        )
    if not state.get("settings_used", {}).get("llm_base_url"):
        out.append("reviews are computed from the evidence by fixed rubrics (no LLM judgement)")
    return out


def render(state: dict[str, Any], run_info: dict[str, Any]) -> str:
    papers = {p["arxiv_id"]: p for p in state.get("papers", [])}
    target = state.get("target")
    if target:
        papers.setdefault(target["arxiv_id"], target)
    question = state.get("question", "")
    started = state.get("started_at") or datetime.now().isoformat()
    day = datetime.fromisoformat(started).strftime("%B %-d, %Y")
    lines: list[str] = [f"# SOVEREIGN: {question}", "", "SOVEREIGN Research Kernel  "]
    lines += ["Autonomous draft — Owner review required before publication", "", day, ""]
    lines += ["## Abstract", ""]
    if target:
        lines += [target["abstract"].strip(), ""]
        lines += [
            f"*Analysed paper:* [{target['title']}]({_abs(target['arxiv_id'], papers)}) "
            f"(arXiv {target['arxiv_id']})",
            "",
        ]
    else:
        lines += [f"No paper was analysed: {state.get('target_note', 'no target paper')}.", ""]
    lines += ["## 1 Introduction", ""]
    if target:
        lines.append(f"Analysis of: {target['title']}. Research goal: {question}")
    else:
        lines.append(f"Research goal: {question}")
    if state.get("input_error"):
        lines.append(f"\nThe question could not be analysed: {state['input_error']}.")
    if state.get("target_status") in ("not_found", "unavailable"):
        lines.append(f"\n{state.get('target_note')}.")
    if state.get("halted"):
        lines.append(f"\nThe analysis stopped early: {state['halted']}.")
    facets = state.get("facets") or {}
    shown = [f"{k}: {', '.join(v)}" for k, v in facets.items() if v]
    if shown:
        lines.append("\nFacets of the question — " + "; ".join(shown) + ".")
    lines += ["", "## 2 Methodology", "", methodology(state, run_info), ""]
    lines += ["## 3 Results", "", results_line(state), ""]
    for reason in state.get("policy_reasons", []):
        lines.append(f"- Policy reason: {reason}")
    history = state.get("consensus_history", [])
    if history:
        lines.append(
            "- Consensus by round: "
            + ", ".join(f"round {h['round']}: {h['consensus']:.2f}" for h in history)
        )
    for plan in state.get("revision_plans", []):
        qs = "; ".join(q["text"] for q in plan["queries"])
        lines.append(f"- Revision round {plan['round']} searched: {qs or '(no new query)'}")
    lines += ["", "## 4 Answerability", ""]
    coverage = state.get("coverage", [])
    if not coverage:
        lines.append("No facet could be checked against evidence.")
    for cov in coverage:
        if cov["covered"]:
            lines.append(
                f"- Covered — {cov['facet']} '{cov['value']}': " + ", ".join(cov["source_ids"])
            )
        else:
            lines.append(f"- Not covered — {cov['note']}")
    lines += ["", "## 5 Uncertainties", ""]
    lines += [f"- {u}" for u in uncertainties(state, run_info)] or ["- none recorded"]
    lines += ["", "## 6 Extracted Claims", ""]
    verifs = {v["claim_id"]: v for v in state.get("verifications", [])}
    if state.get("claims"):
        lines += [
            "| ID | Claim | Source | Verified | Confidence | Evidence |",
            "|---|---|---|---|---|---|",
        ]
    for claim in state.get("claims", []):
        v = verifs.get(claim["id"], {"status": "unverified", "confidence": 0.0, "evidence": []})
        mark = {"verified": "✓", "contradicted": "✗ contradicted"}.get(v["status"], "×")
        links = [
            f"[{e['doc_id']}]({_abs(e['doc_id'], papers)})"
            for e in v.get("evidence", [])
            if e["label"] in ("SUPPORT", "CONTRADICT")
        ]
        lines.append(
            f"| {claim['id']} | {_cell(claim['text'])} | "
            f"[{claim['source_id']}]({_abs(claim['source_id'], papers)}) | {mark} | "
            f"{v['confidence']:.2f} | {', '.join(links) or '—'} |"
        )
    if not state.get("claims"):
        lines.append("No claim bearing on the question was extracted.")
    if state.get("conflicts"):
        lines += ["", "### Conflicts", ""]
        lines += [f"- {c['note']}" for c in state["conflicts"]]
    if state.get("dropped_claims"):
        lines += ["", "### Dropped sentences", ""]
        lines += [
            f"- ({d['source_id']}) {d['text']} — {d['reason']}" for d in state["dropped_claims"]
        ]
    lines += ["", "## 7 Reviews", ""]
    last_round = max((r["round"] for r in state.get("reviews", [])), default=None)
    for r in state.get("reviews", []):
        if r["round"] != last_round:
            continue
        rubric = ", ".join(f"{k} {v:.2f}" for k, v in r["rubric"].items())
        lines.append(
            f"**{r['role']}** {r['score']:.2f}/10 ({rubric}; {r['origin']}). {r['summary']}"
        )
        for c in r["concerns"]:
            ids = f" [{', '.join(c['claim_ids'])}]" if c["claim_ids"] else ""
            lines.append(f"- {c['severity']}: {c['text']}{ids}")
        lines.append("")
    if state.get("owner_decision"):
        d = state["owner_decision"]
        lines += [f"Owner decision: {d.get('decision')} by {d.get('who')}: {d.get('note')}", ""]
    lines += ["## References", ""]
    cited = []
    if target:
        cited.append(target["arxiv_id"])
    for claim in state.get("claims", []):
        cited.append(claim["source_id"])
        for e in verifs.get(claim["id"], {}).get("evidence", []):
            if e["label"] in ("SUPPORT", "CONTRADICT"):
                cited.append(e["doc_id"])
    seen: set[str] = set()
    for pid in cited:
        if pid in seen:
            continue
        seen.add(pid)
        title = papers.get(pid, {}).get("title", "")
        lines.append(f"- [{pid}] {title} <{_abs(pid, papers)}>")
    return "\n".join(lines).rstrip() + "\n"


def write(state: dict[str, Any], run_info: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """report.md and run.json (the full state, the numbers and run info) side by side."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "report.md"
    data = out_dir / "run.json"
    report.write_text(render(state, run_info), encoding="utf-8")
    payload = {"summary": summary(state), "run_info": run_info, "state": state}
    data.write_text(
        json.dumps(payload, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    return report, data
