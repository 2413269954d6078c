"""Evidence: read each source (parallel branches), select the claims that bear on the
question, verify each against other sources, then find conflicts and judge facet coverage."""

from __future__ import annotations

from typing import Any

from agents import answer as answer_mod
from agents import claim_extractor, conflicts
from agents import coverage as joint_mod
from agents import facets as facets_mod
from agents.verification import claims as claim_verification
from agents.verification.tables.consistency import check_claim_tables
from graph.instrument import Env
from graph.nodes.retrieval import ensure_indexed
from graph.state import ReadTask, ResearchState
from memory.fulltext.model import FullText, Table
from memory.models import Claim, Facets, FullTextRead, Paper, TableCheck, Verification


def _abstract_only(paper: Paper, rnd: int, reason: str) -> FullTextRead:
    return FullTextRead(source_id=paper.arxiv_id, round=rnd, status="abstract", reason=reason)


def _read_full(paper: Paper, state: ReadTask, env: Env) -> tuple[FullText | None, FullTextRead]:
    """Fetch the source's full text (mirror or arxiv.org: HTML, else PDF) and put its
    paragraphs into vector memory; otherwise record why only the abstract is read."""
    rnd = int(state.get("round", 0))
    if not state.get("read_full"):
        reason = "not among the most relevant sources read in full this round"
        return None, FullTextRead(
            source_id=paper.arxiv_id, round=rnd, status="abstract", reason=reason
        )
    result = env.services.fulltext().fetch(paper.arxiv_id, paper.version)
    fulltext = result.fulltext
    if fulltext is None:
        reason = result.reason or "no full text available"
        return None, FullTextRead(
            source_id=paper.arxiv_id, round=rnd, status="abstract", reason=reason
        )
    passages = list(fulltext.passages())
    env.services.memory().upsert_passages(paper.arxiv_id, paper.version, paper.title, passages)
    read = FullTextRead(
        source_id=paper.arxiv_id,
        round=rnd,
        status="full",
        format=fulltext.source_format,
        paragraphs=len(fulltext.paragraphs),
        tables=len(fulltext.tables),
    )
    return fulltext, read


def read_source(state: ReadTask, env: Env) -> dict[str, Any]:
    paper = Paper.model_validate(state["paper"])
    fulltext, read = _read_full(paper, state, env)
    env.log.info("fulltext", source_id=paper.arxiv_id, **read.model_dump(exclude={"source_id"}))
    proposal, dropped = claim_extractor.read_source(
        env.services.llm(),
        state["question"],
        Facets.model_validate(state["facets"]),
        paper,
        bool(state.get("is_target")),
        bool(state.get("has_target")),
        fulltext,
    )
    claims = [c.model_dump() for c in proposal.value.claims]
    for d in dropped:
        env.log.info("claim_dropped", source_id=d["source_id"], text=d["text"], reason=d["reason"])
    for c in claims:
        env.log.info(
            "claim_candidate", source_id=c["source_id"], text=c["text"], relevance=c["relevance"]
        )
    return {
        "candidate_claims": claims,
        "dropped_claims": dropped,
        "fulltext_log": [read.model_dump(mode="json")],
        "provenance": env.origin_events("read_source", proposal),
    }


def select_claims(state: ResearchState, env: Env) -> dict[str, Any]:
    candidates = [Claim.model_validate(c) for c in state.get("candidate_claims", [])]
    chosen = claim_extractor.select_claims(candidates, env.settings.max_claims)
    for c in chosen:
        env.log.info("claim", id=c.id, source_id=c.source_id, text=c.text, relevance=c.relevance)
    read = sorted({*state.get("read_ids", []), *state.get("reading_list", [])})
    return {"claims": [c.model_dump() for c in chosen], "read_ids": read, "reading_list": []}


def _table_checks(
    claims: list[Claim], papers: dict[str, Paper], state: ResearchState, env: Env
) -> list[TableCheck]:
    """Claims' figures against the tables of the sources read in full. The tables are not
    kept in the state (it holds what a reader sees), so the full texts are fetched again:
    from the mirror, or the fetcher's cache of what `read_source` downloaded."""
    if not any(c.value is not None for c in claims):
        return []
    log = state.get("fulltext_log", [])
    full = list(dict.fromkeys(r["source_id"] for r in log if r.get("status") == "full"))
    tables: dict[str, list[Table]] = {}
    for sid in full:
        paper = papers.get(sid)
        try:
            result = env.services.fulltext().fetch(sid, paper.version if paper else None)
        except Exception as exc:  # a failed re-fetch leaves that paper's tables unchecked
            env.log.info("table_check_fetch_failed", source_id=sid, error=str(exc))
            continue
        if result.fulltext is not None:
            tables[sid] = list(result.fulltext.tables)
    abstract_only = {r["source_id"] for r in log} - set(full)
    return check_claim_tables(claims, tables, abstract_only)


def verify_claims(state: ResearchState, env: Env) -> dict[str, Any]:
    claims = [Claim.model_validate(c) for c in state.get("claims", [])]
    papers = {p["arxiv_id"]: Paper.model_validate(p) for p in state.get("papers", [])}
    memory = ensure_indexed(env, state)
    verifier = env.services.verifier()
    method = getattr(verifier, "name", env.settings.verifier) if verifier else "none"
    results = claim_verification.verify_claims(
        claims, memory, papers, verifier, method, env.settings.evidence_k
    )
    for v in results:
        decided = [e.doc_id for e in v.evidence if e.label != "NOT_ENOUGH_INFO"]
        env.log.info(
            "verdict",
            claim_id=v.claim_id,
            status=v.status,
            confidence=v.confidence,
            evidence=decided,
        )
    checks = _table_checks(claims, papers, state, env)
    for t in checks:
        env.log.info("table_check", claim_id=t.claim_id, kind=t.kind, status=t.status, note=t.note)
    update: dict[str, Any] = {
        "verifications": [v.model_dump() for v in results],
        "table_checks": [t.model_dump() for t in checks],
    }
    if notes := env.drain_notes("verify_claims"):
        update["provenance"] = notes
    return update


def _evidence(
    state: ResearchState, env: Env, facets: Facets, claims: list[Claim]
) -> tuple[list[joint_mod.Candidate], list[str]]:
    """The run's passages (claims, candidates, abstracts, full-text sentences nearest each
    facet combination) and the target's names, for joint coverage and the Answer."""
    target_id = (state.get("target") or {}).get("arxiv_id")
    papers = state.get("papers", [])
    aliases = joint_mod.entity_names(facets, state.get("target_match"), papers)
    full = sorted({r["source_id"] for r in state.get("fulltext_log", []) if r["status"] == "full"})
    memory = ensure_indexed(env, state) if full else None
    body = joint_mod.body_passages(memory, facets, full, state.get("question", ""))
    candidates = [Claim.model_validate(c) for c in state.get("candidate_claims", [])]
    entity = facets.entity[0] if facets.entity else None
    pool = joint_mod.passage_pool(claims, candidates, papers, body, target_id, aliases, entity)
    return pool, aliases


def assess_evidence(state: ResearchState, env: Env) -> dict[str, Any]:
    """Conflicts, coverage facet by facet and jointly (one passage stating a combination),
    and the Answer written from those passages."""
    claims = [Claim.model_validate(c) for c in state.get("claims", [])]
    facets = Facets.model_validate(state["facets"])
    found = conflicts.find_conflicts(claims, facets.entity)
    pool, aliases = _evidence(state, env, facets, claims)
    joint = joint_mod.joint_coverage(facets, pool, aliases, state.get("question", ""))
    cov = facets_mod.coverage(facets, state.get("papers", []), None, aliases)
    # metric-on-benchmark pairs give way to the joint combinations: the policy's "every facet
    # covered" then means stated together by one passage
    cov = [c for c in cov if c.facet != "metric@benchmark"] + joint_mod.as_coverage(joint)
    verdicts = [Verification.model_validate(v) for v in state.get("verifications", [])]
    words = frozenset(facets_mod.content_tokens(state.get("question", "")))
    ev = answer_mod.Evidence(
        pool, {c.id: c for c in claims}, {v.claim_id: v for v in verdicts}, found, aliases, words
    )
    proposal = answer_mod.answer(env.services.llm(), state["question"], joint, ev)
    for c in found:
        env.log.info("conflict", note=c.note, claim_ids=c.claim_ids)
    for item in cov:
        env.log.info("coverage", facet=item.facet, value=item.value, covered=item.covered)
    for combo in joint:
        env.log.info("joint_coverage", label=combo.label, status=combo.status)
    return {
        "conflicts": [c.model_dump() for c in found],
        "coverage": [c.model_dump() for c in cov],
        "joint_coverage": [c.model_dump() for c in joint],
        "answer": proposal.value.model_dump(),
        "provenance": env.origin_events("assess_evidence", proposal),
    }
