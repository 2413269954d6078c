"""Publication: the policy decides AUTO_APPROVE or ESCALATE_TO_OWNER, the reporter writes
report.md and run.json, the publication store records the run, and an escalated run pauses
for the owner's decision. A run that could not answer (bad input, no such paper, a service
down) keeps its report but is never recorded: there is nothing for the owner to decide."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langgraph.types import interrupt

from agents import policy, reporter
from graph.instrument import Env
from graph.settings import Settings
from graph.state import ResearchState
from graph.transcript import attach_run
from memory.errors import UserError
from memory.publication import PublicationRecord, record_run
from memory.publication.decisions import crash_point
from memory.publication.runview import unanswered
from memory.run import OwnerDecision, RunInfo, RunRecord


def apply_policy(state: ResearchState, env: Env) -> dict[str, Any]:
    decision, reasons = policy.decide(RunRecord.from_state(dict(state)))
    env.log.info("decision", policy=decision, reasons=reasons)
    return {"policy": decision, "policy_reasons": reasons}


def run_dir(out_dir: str | None, settings: Settings, run_id: str) -> Path:
    """Where a run writes report.md, run.json and events.jsonl."""
    return Path(out_dir) if out_dir else settings.runs_dir / (run_id or "unnamed")


def _out_dir(state: ResearchState, env: Env) -> Path:
    out = run_dir(state.get("out_dir"), env.settings, env.run_id)
    attach_run(env.run_id, out)  # a run resumed in a new process files its events here too
    return out


def recorded_info(record: RunRecord) -> RunInfo | None:
    """What the run's services said they were, as its run.json recorded it. A later process
    (the owner's `sovereign review`) never loaded the embedder or the verifier, so its own
    services would report them as unknown."""
    path = Path(record.json_path) if record.json_path else None
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path else None
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("run_info"), dict):
        return None
    if (data.get("state") or {}).get("run_id") != record.run_id:
        return None  # another run's file in a reused --out directory
    return RunInfo.model_validate(data["run_info"])


def _with_earlier(info: RunInfo, earlier: RunInfo | None) -> RunInfo:
    """This process's account, completed by the run's earlier one (a resumed run's process may
    not have loaded every service the run used)."""
    if earlier is None:
        return info
    return info.model_copy(
        update={
            "embedding": info.embedding or earlier.embedding,
            "arxiv_source": info.arxiv_source or earlier.arxiv_source,
            "llm_usage": info.llm_usage or earlier.llm_usage,
        }
    )


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
    try:
        llm = services.llm() if env.settings.llm_base_url else None
    except UserError:  # unreachable at start: the run halted on it and the report says so
        llm = None
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
    report, data = reporter.write(record, _with_earlier(run_info(env), recorded_info(record)), out)
    results = reporter.results_line(record)
    env.log.info("decision", report=str(report), json=str(data), results=results)
    return {"report_path": str(report), "json_path": str(data)}


def owner_review(state: ResearchState, env: Env) -> dict[str, Any]:
    if reason := unanswered(RunRecord.from_state(dict(state))):
        env.log.info("decision", owner_review="nothing to decide", reason=reason)
        return {}
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
        at=str(decision.get("at") or datetime.now(UTC).isoformat()),  # recorded: a replay is same
    ).model_dump(mode="json")
    env.log.info("decision", owner_decision=owner)
    record = RunRecord.from_state(dict(state, owner_decision=owner))
    _out_dir(state, env)
    info = recorded_info(record) or run_info(env)
    update = _record_publication(record, info, env, "owner_review", rewrite=True)
    crash_point("store-applied")  # applied, but the graph's checkpoint not yet written
    update["owner_decision"] = owner
    return update


def record_decision(record: RunRecord, info: RunInfo, publications_path: Path) -> PublicationRecord:
    """The owner's decision (in `record.owner_decision`) made final: report.md and run.json
    rewritten with it (the header says who approved and when), then the store records the
    new version and applies the decision. Used by the owner-review node and by `sovereign
    review` for a run that finished without pausing (Python API, --no-owner-review)."""
    if record.report_path and Path(record.report_path).parent.is_dir():
        reporter.write(record, info, Path(record.report_path).parent)
    crash_point("report-rewritten")
    return record_run(record, publications_path, info)


def _record_publication(
    record: RunRecord, info: RunInfo, env: Env, node: str, rewrite: bool = False
) -> dict[str, Any]:
    """Hand the run to the publication store; its failure must not lose the written report."""
    try:
        if rewrite:
            result = record_decision(record, info, env.settings.publications_path)
        else:
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
    record = RunRecord.from_state(dict(state))
    if reason := unanswered(record):
        env.log.info("decision", publication="not recorded", reason=reason)
        return {"publication": None}
    info = _with_earlier(run_info(env), recorded_info(record))
    return _record_publication(record, info, env, "publish")
