"""Builds the three public documents of a report from its run: paper-manifest-v1.1,
source-provenance-v1 and correction-record-v1. Every number here is counted from the run."""

from __future__ import annotations

from typing import Any

from memory.publication.quality import Quality, assess
from memory.publication.runview import RunView, canonical_json, sha256_text

MANIFEST_CONTRACT = "paper-manifest-v1.1"
PROVENANCE_CONTRACT = "source-provenance-v1"
CORRECTION_CONTRACT = "correction-record-v1"
PUBLISHER = "Sovereign research kernel"
METHOD = (
    "Multi-query arXiv search into a vector memory; claims extracted with verbatim quotes; each "
    "claim verified against other retrieved sources; three reviewers (SKEPTIC, VALIDATOR, "
    "SYNTHESIZER) score the draft and revision rounds run while consensus is below the "
    "threshold; a deterministic policy decides between auto-approval and owner review."
)
NOTE = "Machine-generated synthesis of existing literature. Not primary research."


def _source(paper: dict[str, Any], role: str) -> dict[str, Any]:
    arxiv_id = str(paper.get("arxiv_id", ""))
    return {
        "id": arxiv_id,
        "version": int(paper.get("version") or 1),
        "url": paper.get("abs_url") or f"https://arxiv.org/abs/{arxiv_id}",
        "title": str(paper.get("title", "")),
        "query": paper.get("query"),
        "retrieved_at": paper.get("retrieved_at"),
        "role": role,
    }


def sources(run: RunView) -> list[dict[str, Any]]:
    """Target paper first, then every retrieved paper once (first retrieval wins)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    if run.paper:
        out.append(_source(run.paper, "target"))
        seen.add(out[0]["id"])
    for paper in run.papers:
        src = _source(paper, "retrieved")
        if src["id"] and src["id"] not in seen:
            seen.add(src["id"])
            out.append(src)
    return out


def _disclosure_checks(run: RunView) -> dict[str, bool]:
    ids = {str(c.get("id")) for c in run.claims}
    uncovered = [f for f in run.facet_coverage if not f.get("covered")]
    return {
        "claim_confidence_reported": bool(ids) and ids <= set(run.verifications),
        "facet_gaps_explained": bool(run.facet_coverage)
        and all(str(f.get("note", "")).strip() for f in uncovered),
        "reviewer_concerns_recorded": any(
            r.get("concerns") or r.get("summary") for r in run.reviews
        ),
        "conflicts_listed": bool(run.conflicts)
        or not any(v.get("status") == "contradicted" for v in run.verifications.values()),
    }


def _reproducibility_checks(run: RunView, srcs: list[dict[str, Any]]) -> dict[str, bool]:
    retrieved = [s for s in srcs if s["role"] == "retrieved"]
    return {
        "sources_fully_identified": bool(retrieved)
        and all(s["version"] and s["url"] and s["query"] and s["retrieved_at"] for s in retrieved),
        "model_ids_recorded": bool(run.settings.get("embedding_model"))
        and bool(run.settings.get("verifier")),
        "report_artifact_hashed": run.markdown is not None,
        "no_fallback_or_error": not any(e.get("kind") in ("fallback", "error") for e in run.events),
    }


def quality_of(run: RunView) -> Quality:
    srcs = sources(run)
    return assess(
        run.consensus,
        run.claim_facts(),
        _disclosure_checks(run),
        _reproducibility_checks(run, srcs),
        published_artifacts=run.markdown is not None,
    )


def build_provenance(run: RunView) -> dict[str, Any]:
    claims = []
    for claim in run.claims:
        ver = run.verifications.get(str(claim.get("id")), {})
        claims.append(
            {
                "claim_id": str(claim.get("id")),
                "text": str(claim.get("text", "")),
                "source_id": str(claim.get("source_id", "")),
                "sentence_index": claim.get("sentence_index"),
                "quote": str(claim.get("quote", "")),
                "origin": str(claim.get("origin", "deterministic")),
                "status": str(ver.get("status", "unverified")),
                "confidence": float(ver.get("confidence", 0.0)),
                "method": ver.get("method"),
                "evidence": [
                    {
                        "doc_id": str(e.get("doc_id")),
                        "label": str(e.get("label")),
                        "confidence": float(e.get("confidence", 0.0)),
                        "rationale": [int(i) for i in e.get("rationale", [])],
                    }
                    for e in ver.get("evidence", [])
                ],
                "evidence_quotes": [str(q) for q in ver.get("evidence_quotes", [])],
            }
        )
    s = run.settings
    return {
        "contract": PROVENANCE_CONTRACT,
        "report_id": run.report_id,
        "run_id": run.run_id,
        "method": {
            "description": METHOD,
            "verifier": s.get("verifier"),
            "embedding_backend": s.get("embedding_backend"),
            "embedding_model": s.get("embedding_model"),
            "llm_model": s.get("llm_model") if s.get("llm_base_url") else None,
            "consensus_threshold": s.get("consensus_threshold"),
            "max_revisions": s.get("max_revisions"),
            "review_roles": sorted({str(r.get("role")) for r in run.reviews}),
            "llm_usage": s.get("llm_usage"),
        },
        "sources": sources(run),
        "claims": claims,
        "events": [
            {
                "node": str(e.get("node", "")),
                "round": int(e.get("round", 0)),
                "kind": str(e.get("kind", "info")),
                "message": str(e.get("message", "")),
            }
            for e in run.events
        ],
        "timings": run.timings,
    }


def build_manifest(
    run: RunView, provenance: dict[str, Any], corrections: int = 0
) -> dict[str, Any]:
    q = quality_of(run)
    facts = run.claim_facts()
    artifacts = []
    if run.markdown is not None:
        artifacts.append(
            {
                "name": "report.md",
                "media_type": "text/markdown",
                "sha256": sha256_text(run.markdown),
                "bytes": len(run.markdown.encode("utf-8")),
            }
        )
    prov_text = canonical_json(provenance)
    artifacts.append(
        {
            "name": "provenance.json",
            "media_type": "application/json",
            "sha256": sha256_text(prov_text),
            "bytes": len(prov_text.encode("utf-8")),
        }
    )
    paper = None
    if run.paper:
        paper = {
            "arxiv_id": str(run.paper.get("arxiv_id", "")),
            "version": int(run.paper.get("version") or 1),
            "title": str(run.paper.get("title", "")),
            "authors": [str(a) for a in run.paper.get("authors", [])],
            "abstract": str(run.paper.get("abstract", "")),
            "url": run.paper.get("abs_url") or None,
        }
    return {
        "contract": MANIFEST_CONTRACT,
        "report_id": run.report_id,
        "run_id": run.run_id,
        "submitted_at": run.submitted_at,
        "publisher": PUBLISHER,
        "question": run.question,
        "paper": paper,
        "counts": {
            "sources": len(provenance["sources"]),
            "papers_retrieved": sum(1 for s in provenance["sources"] if s["role"] == "retrieved"),
            "claims": len(facts),
            "verified": sum(f.status == "verified" for f in facts),
            "contradicted": sum(f.status == "contradicted" for f in facts),
            "unverified": sum(f.status == "unverified" for f in facts),
            "source_grounded": q.grounded_claims,
            "conflicts": len(run.conflicts),
            "reviews": len(run.reviews),
            "revision_rounds": run.revision_round,
            "corrections": corrections,
            "llm_calls": int((run.settings.get("llm_usage") or {}).get("calls", 0)),
            "llm_tokens": int((run.settings.get("llm_usage") or {}).get("total_tokens", 0)),
        },
        "scores": {
            "review_score": round(run.consensus, 4),
            "threshold": run.settings.get("consensus_threshold"),
            "reviews": [
                {"role": str(r.get("role")), "round": int(r.get("round", 0)), "score": r["score"]}
                for r in run.reviews
            ],
        },
        "policy": {"decision": run.policy, "reasons": run.policy_reasons},
        "quality": {
            "tier": q.tier,
            "basis": q.basis,
            "verification_level": {"code": q.level.code, "name": q.level.name},
            "provenance_level": {
                "code": q.provenance_level.code,
                "name": q.provenance_level.name,
            },
            "dimensions": q.dimensions,
            "checks": q.checks,
        },
        "artifacts": artifacts,
        "contracts": {
            "manifest": MANIFEST_CONTRACT,
            "provenance": PROVENANCE_CONTRACT,
            "corrections": CORRECTION_CONTRACT,
        },
        "note": NOTE,
    }


def build_correction_record(
    report_id: str, status: str, corrections: list[dict[str, Any]]
) -> dict[str, Any]:
    """`status` is the publication status; the record's own status says whether the report
    stands as published (CURRENT), has additive corrections (CORRECTED) or was withdrawn."""
    if status == "retracted":
        record_status = "RETRACTED"
    elif corrections:
        record_status = "CORRECTED"
    else:
        record_status = "CURRENT"
    return {
        "contract": CORRECTION_CONTRACT,
        "report_id": report_id,
        "status": record_status,
        "correction_count": len(corrections),
        "corrections": corrections,
    }
