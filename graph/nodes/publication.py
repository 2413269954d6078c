"""Publication: the policy decides AUTO_APPROVE or ESCALATE_TO_OWNER, the reporter writes
report.md and run.json, the publication store records the run, and an escalated run pauses
for the owner's decision."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langgraph.types import interrupt

from agents import policy, reporter
from graph.instrument import Env
from graph.state import ResearchState
from memory.errors import UserError
from memory.publication import record_run
from memory.run import OwnerDecision, RunInfo, RunRecord


def apply_policy(state: ResearchState, env: Env) -> dict[str, Any]:
    decision, reasons = policy.decide(RunRecord.from_state(dict(state)))
    env.log.info("decision", policy=decision, reasons=reasons)
    return {"policy": decision, "policy_reasons": reasons}


def _out_dir(state: ResearchState, env: Env) -> Path:
    if state.get("out_dir"):
        return Path(str(state["out_dir"]))
    return env.settings.runs_dir / (env.run_id or "unnamed")


def run_info(env: Env) -> RunInfo:
    """What the services actually were (model, dimension, verifier), for the Methodology."""
    services = env.services
    info = RunInfo(embedding=dict(services.embedding_info), arxiv_source=services.arxiv_source)
    try:
        ver = services.verifier()
        info.verifier = getattr(ver, "name", env.settings.verifier) if ver else "none"
        describe = getattr(ver, "describe", None)
        if callable(describe):
            info.verifier_detail = str(describe())
    except UserError:
        info.verifier = "unavailable"
    llm = services.llm() if env.settings.llm_base_url else None
    usage = getattr(llm, "usage", None)
    if usage is not None:
        info.llm_usage = usage.snapshot()
    return info


def write_report(state: ResearchState, env: Env) -> dict[str, Any]:
    out = _out_dir(state, env)
    full: dict[str, Any] = dict(state)
    full["report_path"] = str(out / "report.md")
    full["json_path"] = str(out / "run.json")
    record = RunRecord.from_state(full)
    report, data = reporter.write(record, run_info(env), out)
    results = reporter.results_line(record)
    env.log.info("decision", report=str(report), json=str(data), results=results)
    return {"report_path": str(report), "json_path": str(data)}


def owner_review(state: ResearchState, env: Env) -> dict[str, Any]:
    decision = interrupt(
        {
            "run_id": env.run_id,
            "report_path": state.get("report_path"),
            "policy_reasons": state.get("policy_reasons", []),
            "resume_with": {"decision": "approve|reject", "note": "str", "who": "str"},
        }
    )
    if not isinstance(decision, dict) or decision.get("decision") not in ("approve", "reject"):
        raise UserError('resume owner_review with {"decision": "approve"|"reject", "note", "who"}')
    owner = OwnerDecision(
        decision=decision["decision"],
        note=str(decision.get("note", "")),
        who=str(decision.get("who", "owner")),
        at=datetime.now(UTC).isoformat(),
    ).model_dump(mode="json")
    env.log.info("decision", owner_decision=owner)
    record = RunRecord.from_state(dict(state, owner_decision=owner))
    info = run_info(env)
    reporter.write(record, info, Path(str(state["report_path"])).parent)
    update = _record_publication(record, info, env, "owner_review")
    update["owner_decision"] = owner
    return update


def _record_publication(record: RunRecord, info: RunInfo, env: Env, node: str) -> dict[str, Any]:
    """Hand the run to the publication store; its failure must not lose the written report."""
    try:
        result = record_run(record, env.settings.publications_path, info)
    except Exception as exc:
        return {
            "publication": None,
            "provenance": [env.provenance(node, "error", f"publication failed: {exc}")],
        }
    summary = result.summary().model_dump(mode="json")
    env.log.info("decision", publication=summary)
    return {"publication": summary}


def publish(state: ResearchState, env: Env) -> dict[str, Any]:
    return _record_publication(RunRecord.from_state(dict(state)), run_info(env), env, "publish")
