"""Builds the three public documents of a report from its run: paper-manifest-v1.1,
source-provenance-v1 and correction-record-v1. Every number here is counted from the run."""

from __future__ import annotations

from typing import Any

from memory.models import Claim, Paper
from memory.publication.quality import Quality, assess
from memory.publication.runview import RunView, canonical_json, json_time, sha256_text

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


def _source(paper: Paper, role: str) -> dict[str, Any]:
    return {
        "id": paper.arxiv_id,
        "version": int(paper.version or 1),
        "url": paper.abs_url or f"https://arxiv.org/abs/{paper.arxiv_id}",
        "title": paper.title,
        "query": paper.query,
        "retrieved_at": json_time(paper.retrieved_at),
        "role": role,
    }


def sources(run: RunView) -> list[dict[str, Any]]:
    """Target paper first, then every retrieved paper once (first retrieval wins)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    if run.record.target:
        out.append(_source(run.record.target, "target"))
        seen.add(out[0]["id"])
    for paper in run.record.papers:
        src = _source(paper, "retrieved")
        if src["id"] and src["id"] not in seen:
            seen.add(src["id"])
            out.append(src)
    return out


def _disclosure_checks(run: RunView) -> dict[str, bool]:
    record = run.record
    ids = {c.id for c in record.claims}
    return {
        "claim_confidence_reported": bool(ids)
        and ids <= {v.claim_id for v in record.verifications},
        "facet_gaps_explained": bool(record.coverage)
        and all(c.note.strip() for c in record.uncovered()),
        "reviewer_concerns_recorded": any(r.concerns or r.summary for r in record.reviews),
        "conflicts_listed": bool(record.conflicts)
        or not any(v.status == "contradicted" for v in record.verifications),
    }


def _reproducibility_checks(run: RunView, srcs: list[dict[str, Any]]) -> dict[str, bool]:
    retrieved = [s for s in srcs if s["role"] == "retrieved"]
    return {
        "sources_fully_identified": bool(retrieved)
        and all(s["version"] and s["url"] and s["query"] and s["retrieved_at"] for s in retrieved),
        "model_ids_recorded": bool(run.embedding_model) and bool(run.verifier),
        "report_artifact_hashed": run.markdown is not None,
        "no_fallback_or_error": not any(
            e.kind in ("fallback", "error") for e in run.record.provenance
        ),
    }


def quality_of(run: RunView) -> Quality:
    return assess(
        run.record.consensus,
        run.claim_facts(),
        _disclosure_checks(run),
        _reproducibility_checks(run, sources(run)),
        published_artifacts=run.markdown is not None,
    )


def _claim_lineage(run: RunView, claim: Claim) -> dict[str, Any]:
    """A claim with its verification: verdict, method, every evidence document and quote."""
    ver = run.record.verification_of(claim.id)
    return {
        "claim_id": claim.id,
        "text": claim.text,
        "source_id": claim.source_id,
        "sentence_index": claim.sentence_index,
        "quote": claim.quote,
        "origin": claim.origin,
        "status": ver.status if ver else "unverified",
        "confidence": ver.confidence if ver else 0.0,
        "method": ver.method if ver else None,
        "evidence": [
            {
                "doc_id": e.doc_id,
                "label": e.label,
                "confidence": e.confidence,
                "rationale": list(e.rationale),
            }
            for e in (ver.evidence if ver else [])
        ],
        "evidence_quotes": list(ver.evidence_quotes) if ver else [],
    }


def _method(run: RunView) -> dict[str, Any]:
    return {
        "description": METHOD,
        "verifier": run.verifier,
        "embedding_backend": run.embedding_backend,
        "embedding_model": run.embedding_model,
        "llm_model": run.llm_model,
        "consensus_threshold": run.record.consensus_threshold,
        "max_revisions": run.record.max_revisions,
        "review_roles": sorted({r.role for r in run.record.reviews}),
        "llm_usage": run.llm_usage,
    }


def build_provenance(run: RunView) -> dict[str, Any]:
    record = run.record
    return {
        "contract": PROVENANCE_CONTRACT,
        "report_id": run.report_id,
        "run_id": record.run_id,
        "method": _method(run),
        "sources": sources(run),
        "claims": [_claim_lineage(run, c) for c in record.claims],
        "events": [
            {"node": e.node, "round": e.round, "kind": e.kind, "message": e.message}
            for e in record.provenance
        ],
        "timings": [t.model_dump(mode="json") for t in record.timings],
    }


def _artifact(name: str, media_type: str, text: str) -> dict[str, Any]:
    return {
        "name": name,
        "media_type": media_type,
        "sha256": sha256_text(text),
        "bytes": len(text.encode("utf-8")),
    }


def _paper(run: RunView) -> dict[str, Any] | None:
    target = run.record.target
    if target is None:
        return None
    return {
        "arxiv_id": target.arxiv_id,
        "version": int(target.version or 1),
        "title": target.title,
        "authors": list(target.authors),
        "abstract": target.abstract,
        "url": target.abs_url or None,
    }


def _counts(
    run: RunView, provenance: dict[str, Any], q: Quality, corrections: int
) -> dict[str, Any]:
    facts = run.claim_facts()
    usage = run.llm_usage or {}
    return {
        "sources": len(provenance["sources"]),
        "papers_retrieved": sum(1 for s in provenance["sources"] if s["role"] == "retrieved"),
        "claims": len(facts),
        "verified": sum(f.status == "verified" for f in facts),
        "contradicted": sum(f.status == "contradicted" for f in facts),
        "unverified": sum(f.status == "unverified" for f in facts),
        "source_grounded": q.grounded_claims,
        "conflicts": len(run.record.conflicts),
        "reviews": len(run.record.reviews),
        "revision_rounds": run.record.revision_round,
        "corrections": corrections,
        "llm_calls": int(usage.get("calls", 0)),
        "llm_tokens": int(usage.get("total_tokens", 0)),
    }


def _quality_block(q: Quality) -> dict[str, Any]:
    return {
        "tier": q.tier,
        "basis": q.basis,
        "verification_level": {"code": q.level.code, "name": q.level.name},
        "provenance_level": {"code": q.provenance_level.code, "name": q.provenance_level.name},
        "dimensions": q.dimensions,
        "checks": q.checks,
    }


def build_manifest(
    run: RunView, provenance: dict[str, Any], corrections: int = 0
) -> dict[str, Any]:
    record = run.record
    q = quality_of(run)
    artifacts = []
    if run.markdown is not None:
        artifacts.append(_artifact("report.md", "text/markdown", run.markdown))
    artifacts.append(_artifact("provenance.json", "application/json", canonical_json(provenance)))
    return {
        "contract": MANIFEST_CONTRACT,
        "report_id": run.report_id,
        "run_id": record.run_id,
        "submitted_at": run.submitted_at,
        "publisher": PUBLISHER,
        "question": run.question,
        "paper": _paper(run),
        "counts": _counts(run, provenance, q, corrections),
        "scores": {
            "review_score": round(record.consensus, 4),
            "threshold": record.consensus_threshold,
            "reviews": [
                {"role": r.role, "round": r.round, "score": r.score} for r in record.reviews
            ],
        },
        "policy": {"decision": record.policy, "reasons": record.policy_reasons},
        "quality": _quality_block(q),
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
