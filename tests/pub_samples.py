"""Realistic final research states for publication tests, built from the shared records
(`memory.models.Paper`, `memory.models.*`) under the keys of `graph/state.py`, and the
`RunRecord` they read into."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memory.models import (
    Claim,
    Concern,
    Conflict,
    DocVerdict,
    FacetCoverage,
    Facets,
    Paper,
    ProvenanceEvent,
    Review,
    Role,
    Verification,
)
from memory.run import RunRecord

ROLES: tuple[Role, Role, Role] = ("SKEPTIC", "VALIDATOR", "SYNTHESIZER")
WHEN = datetime(2026, 5, 28, 12, 0, tzinfo=UTC)


def _paper(arxiv_id: str, title: str, abstract: str, query: str | None) -> dict[str, Any]:
    return Paper(
        arxiv_id=arxiv_id,
        version=2,
        title=title,
        abstract=abstract,
        authors=["A. Author", "B. Author"],
        categories=["cs.CL"],
        abs_url=f"https://arxiv.org/abs/{arxiv_id}v2",
        query=query,
        retrieved_at=WHEN if query else None,
    ).model_dump(mode="json")


def sample_state(
    tmp: Path,
    run_id: str = "run-alpha",
    *,
    policy: str = "AUTO_APPROVE",
    scores: tuple[float, float, float] = (8.0, 8.5, 9.0),
    verified: int = 3,
    title: str = "SMoES: Soft Modality-Guided Expert Specialization in MoE-VLMs",
    benchmark: str = "MMMU",
) -> dict[str, Any]:
    """Three claims, `verified` of them supported by another source; one value conflict."""
    target = _paper(
        "2605.00001",
        title,
        "Mixture-of-Experts (MoE) is a backbone for vision-language models. We propose SMoES. "
        f"SMoES reduces TTFT by 10.3% on {benchmark}.",
        None,
    )
    papers = [
        _paper(
            "2605.00002",
            "Routing in MoE-VLMs",
            f"Soft routing lowers latency. TTFT drops by 10% on {benchmark}.",
            "all:MoE AND all:routing",
        ),
        _paper(
            "2605.00003",
            "Expert parallel inference",
            "Expert parallel deployment improves throughput by 1.5x on DocVQA.",
            "all:expert parallel",
        ),
    ]
    claims = [
        Claim(
            id=f"C{i + 1}",
            text=text,
            quote=quote,
            source_id=src,
            sentence_index=idx,
            metric=metric,
            value=value,
            setting=setting,
            facets=[setting] if setting else [],
            relevance=0.8,
        ).model_dump(mode="json")
        for i, (text, quote, src, idx, metric, value, setting) in enumerate(
            [
                (
                    f"SMoES reduces TTFT by 10.3% on {benchmark}.",
                    f"SMoES reduces TTFT by 10.3% on {benchmark}.",
                    "2605.00001",
                    2,
                    "TTFT reduction",
                    10.3,
                    benchmark,
                ),
                (
                    f"Soft routing drops TTFT by 10% on {benchmark}.",
                    f"TTFT drops by 10% on {benchmark}.",
                    "2605.00002",
                    1,
                    "TTFT reduction",
                    10.0,
                    benchmark,
                ),
                (
                    "Expert parallel deployment improves throughput by 1.5x on DocVQA.",
                    "Expert parallel deployment improves throughput by 1.5x on DocVQA.",
                    "2605.00003",
                    0,
                    "throughput",
                    1.5,
                    "DocVQA",
                ),
            ]
        )
    ]
    verifications = []
    for i, claim in enumerate(claims):
        other = "2605.00002" if claim["source_id"] != "2605.00002" else "2605.00001"
        ok = i < verified
        verifications.append(
            Verification(
                claim_id=claim["id"],
                status="verified" if ok else "unverified",
                confidence=0.82 if ok else 0.12,
                method="default",
                evidence=[
                    DocVerdict(
                        doc_id=other,
                        label="SUPPORT" if ok else "NOT_ENOUGH_INFO",
                        confidence=0.82 if ok else 0.6,
                        rationale=[1] if ok else [],
                    )
                ],
                evidence_quotes=[f"TTFT drops by 10% on {benchmark}."] if ok else [],
            ).model_dump(mode="json")
        )
    reviews = [
        Review(
            role=role,
            round=0,
            score=score,
            rubric={"grounding": score},
            concerns=[Concern(text="C3 rests on one source", claim_ids=["C3"], severity="low")],
            summary=f"{role} summary",
        ).model_dump(mode="json")
        for role, score in zip(ROLES, scores, strict=True)
    ]
    report = tmp / run_id / "report.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(f"# Report {run_id}\n\nQuestion and findings.\n", encoding="utf-8")
    return {
        "run_id": run_id,
        "question": f"How does SMoES TTFT on {benchmark} compare to hard routing?",
        "started_at": WHEN.isoformat(),
        "settings_used": {
            "verifier": "default",
            "embedding_backend": "local",
            "embedding_model": "all-MiniLM-L6-v2",
            "consensus_threshold": 6.5,
            "max_revisions": 2,
            "llm_base_url": None,
            "llm_model": "meta/llama-3.1-8b-instruct",
        },
        "target": target,
        "target_status": "resolved",
        "facets": Facets(benchmark=[benchmark], metric=["TTFT"]).model_dump(mode="json"),
        "papers": papers,
        "claims": claims,
        "verifications": verifications,
        "conflicts": [
            Conflict(
                metric="TTFT reduction",
                setting=benchmark,
                claim_ids=["C1", "C2"],
                values=[10.3, 10.0],
                note="sources disagree by 0.3 points",
            ).model_dump(mode="json")
        ],
        "coverage": [
            FacetCoverage(
                facet="benchmark", value=benchmark, covered=True, source_ids=["2605.00002"]
            ).model_dump(mode="json"),
            FacetCoverage(
                facet="metric", value="TTFT", covered=False, note="no source reports TTFT alone"
            ).model_dump(mode="json"),
        ],
        "reviews": reviews,
        "consensus": sum(scores) / 3,
        "revision_round": 0,
        "policy": policy,
        "policy_reasons": [f"consensus {sum(scores) / 3:.2f} vs threshold 6.5"],
        "report_path": str(report),
        "provenance": [
            ProvenanceEvent(node="search", kind="info", message="4 queries").model_dump(mode="json")
        ],
        "timings": [
            {
                "node": "search_arxiv",
                "role": "searcher",
                "round": 0,
                "start": WHEN.timestamp(),
                "end": WHEN.timestamp() + 1.5,
                "wall_s": 1.5,
            }
        ],
    }


def sample_record(tmp: Path, run_id: str = "run-alpha", **kw: Any) -> RunRecord:
    """`sample_state` read as the typed record every consumer of a run takes."""
    return RunRecord.from_state(sample_state(tmp, run_id, **kw))
