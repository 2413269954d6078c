"""One reading of a research run's final state. The graph stores records as JSON dicts of
`graph/models.py`; this module is the only place that knows the state's key names, so a change
there is absorbed here and nowhere else."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memory.publication.quality import ClaimFacts


def report_id_for(run_id: str) -> str:
    """Stable public id: `SRCH:` + the first 8 hex digits (upper case) of sha256(run_id)."""
    return "SRCH:" + hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:8].upper()


def _first(state: dict[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        value = state.get(key)
        if value is not None:
            return value
    return default


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if hasattr(value, "model_dump"):
        return dict(value.model_dump(mode="json"))
    return dict(value)


def _dicts(value: Any) -> list[dict[str, Any]]:
    if not value:
        return []
    if isinstance(value, dict):
        value = list(value.values())
    return [_as_dict(v) for v in value]


def _report_paths(state: dict[str, Any]) -> list[Path]:
    raw = _first(state, "report_paths", "report_path", "artifacts", default=[])
    if isinstance(raw, (str, Path)):
        raw = [raw]
    elif isinstance(raw, dict):
        raw = list(raw.values())
    return [Path(str(p)) for p in raw if isinstance(p, (str, Path))]


@dataclass
class RunView:
    """The parts of a run that publication needs, under fixed names."""

    run_id: str
    question: str
    paper: dict[str, Any] | None
    papers: list[dict[str, Any]]
    claims: list[dict[str, Any]]
    verifications: dict[str, dict[str, Any]]
    conflicts: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    consensus: float
    revision_round: int
    policy: str
    policy_reasons: list[str]
    facets: dict[str, Any]
    facet_coverage: list[dict[str, Any]]
    events: list[dict[str, Any]]
    timings: dict[str, Any] | list[dict[str, Any]]
    settings: dict[str, Any]
    markdown: str | None
    markdown_name: str | None
    submitted_at: str
    owner_decision: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def report_id(self) -> str:
        return report_id_for(self.run_id)

    @property
    def title(self) -> str:
        if self.paper and self.paper.get("title"):
            return str(self.paper["title"])
        return self.question

    def source_of(self, claim: dict[str, Any]) -> str:
        return str(claim.get("source_id", ""))

    def claim_facts(self) -> list[ClaimFacts]:
        facts = []
        for claim in self.claims:
            ver = self.verifications.get(str(claim.get("id")), {})
            status = str(ver.get("status", "unverified"))
            own = self.source_of(claim)
            grounded = status == "verified" and any(
                e.get("label") == "SUPPORT" and str(e.get("doc_id")) != own
                for e in ver.get("evidence", [])
            )
            facts.append(
                ClaimFacts(
                    claim_id=str(claim.get("id")),
                    status=status,
                    confidence=float(ver.get("confidence", 0.0)),
                    grounded=grounded,
                )
            )
        return facts

    def final_round_reviews(self) -> list[dict[str, Any]]:
        if not self.reviews:
            return []
        last = max(int(r.get("round", 0)) for r in self.reviews)
        return [r for r in self.reviews if int(r.get("round", 0)) == last]


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, str) and value:
        return value
    return datetime.now(UTC).isoformat()


def read_run(state: dict[str, Any]) -> RunView:
    """Normalise a final state (dict of JSON records) into a RunView; missing optional parts
    become empty, a missing run id or question is an error."""
    run_id = _first(state, "run_id", "thread_id")
    question = _first(state, "question", "research_question")
    if not run_id:
        raise ValueError("run state lacks run_id; cannot record it")
    if not str(question or "").strip():  # the graph escalates such runs; the owner still sees it
        question = f"(no question given: {state.get('input_error') or 'empty'})"
    # `target` is the resolved Paper; `paper` is the caller's input (an id or title string)
    paper = _first(state, "target", "target_paper")
    if paper is None and isinstance(state.get("paper"), dict):
        paper = state["paper"]
    verifications_raw = _dicts(_first(state, "verifications", default=[]))
    verifications = {str(v.get("claim_id")): v for v in verifications_raw}
    consensus = _first(state, "consensus", "consensus_score")
    reviews = _dicts(_first(state, "reviews", default=[]))
    if consensus is None:
        last = max((int(r.get("round", 0)) for r in reviews), default=0)
        final = [float(r["score"]) for r in reviews if int(r.get("round", 0)) == last]
        consensus = sum(final) / len(final) if final else 0.0
    markdown = _first(state, "report_markdown", "report_md")
    markdown_name = "report.md" if markdown else None
    if markdown is None:
        for path in _report_paths(state):
            if path.suffix.lower() == ".md" and path.is_file():
                markdown = path.read_text(encoding="utf-8")
                markdown_name = path.name
                break
    policy = _first(state, "policy", default="ESCALATE_TO_OWNER")
    reasons = _first(state, "policy_reasons", "reasons", default=[])
    if isinstance(policy, dict):
        reasons = policy.get("reasons", reasons)
        policy = policy.get("decision") or policy.get("policy") or "ESCALATE_TO_OWNER"
    settings = {**_as_dict(_first(state, "settings", "settings_used", "config", default={}))}
    settings.update(_run_info(state))
    return RunView(
        run_id=str(run_id),
        question=str(question),
        paper=_as_dict(paper) if paper else None,
        papers=_dicts(_first(state, "papers", "retrieved", "sources", default=[])),
        claims=_dicts(_first(state, "claims", default=[])),
        verifications=verifications,
        conflicts=_dicts(_first(state, "conflicts", default=[])),
        reviews=reviews,
        consensus=float(consensus),
        revision_round=int(_first(state, "revision_round", default=0)),
        policy=str(policy),
        policy_reasons=[str(r) for r in (reasons or [])],
        facets=_as_dict(_first(state, "facets", default={})),
        facet_coverage=_dicts(_first(state, "facet_coverage", "coverage", default=[])),
        events=_dicts(_first(state, "provenance", "events", "provenance_events", default=[])),
        timings=_timings(_first(state, "timings", default={})),
        settings=settings,
        markdown=str(markdown) if markdown is not None else None,
        markdown_name=markdown_name,
        submitted_at=_iso(_first(state, "finished_at", "started_at", "created_at")),
        owner_decision=_first(state, "owner_decision"),
        extra={
            k: state[k]
            for k in ("target_status", "target_note", "halted", "input_error")
            if state.get(k)
        },
    )


def _run_info(state: dict[str, Any]) -> dict[str, Any]:
    """Ids of what actually ran (the embedder and verifier the services resolved), from the
    run's JSON file beside the report; these beat the requested settings."""
    info = state.get("run_info")
    if info is None and state.get("json_path"):
        path = Path(str(state["json_path"]))
        try:
            info = json.loads(path.read_text(encoding="utf-8")).get("run_info")
        except (OSError, ValueError, AttributeError):
            info = None
    if not isinstance(info, dict):
        return {}
    out: dict[str, Any] = {}
    emb = info.get("embedding") or {}
    if isinstance(emb, dict) and emb.get("model"):
        out["embedding_model"] = str(emb["model"])
        if emb.get("backend"):
            out["embedding_backend"] = str(emb["backend"])
    if info.get("verifier"):
        out["verifier"] = str(info["verifier"])
    if isinstance(info.get("llm_usage"), dict):
        out["llm_usage"] = info["llm_usage"]
    return out


def _timings(value: Any) -> dict[str, Any] | list[dict[str, Any]]:
    if isinstance(value, list):
        return [_as_dict(v) for v in value]
    return _as_dict(value)


def canonical_json(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
