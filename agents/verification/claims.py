"""Verify each claim against OTHER retrieved sources (never its own paper) with the verifier
chosen in settings, and aggregate the per-document verdicts into one status per claim."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from memory.models import Claim, DocVerdict, EvidenceDoc, Paper, Passage, Verification
from memory.text import normalize_for_match, split_sentences

# a name-like token: a capital or digit after its first character ("HAWK", "Qwen2.5-VL", "SwiftVLM")
NAME_TOKEN = re.compile(r"(?<![\w.\-])[A-Za-z][\w.\-]*?[A-Z0-9][\w.\-]*")


def name_tokens(text: str) -> list[str]:
    """The name-like tokens of `text`, in order, without trailing '.' or '-'."""
    return [m.group(0).rstrip(".-") for m in NAME_TOKEN.finditer(text)]


def _padded(text: str) -> str:
    """Normalised text with word-boundary padding, so a name matches whole words only."""
    return f" {normalize_for_match(text)} "


def _mentions(name: str, padded_text: str) -> bool:
    return _padded(name) in padded_text


def paper_corpus(papers: dict[str, Paper]) -> list[str]:
    """Every retrieved paper's title and abstract, normalised once per verification pass."""
    return [_padded(f"{p.title} {p.abstract}") for p in papers.values()]


def subject_names(
    claim: Claim, papers: dict[str, Paper], corpus: list[str] | None = None
) -> list[str]:
    """Names that say whose result the claim states: name-like tokens of the claim and of its
    source's title that few retrieved papers mention. Another paper can only confirm (or
    refute) a claim about SwiftVLM if it talks about SwiftVLM; "GPU" names nobody."""
    source = papers.get(claim.source_id)
    candidates: list[str] = []
    for text in (claim.text, source.title if source else ""):
        for tok in name_tokens(text):
            if len(tok) >= 3 and re.search(r"[A-Za-z]", tok) and tok not in candidates:
                candidates.append(tok)
    texts = paper_corpus(papers) if corpus is None else corpus
    limit = max(2, len(texts) // 10)
    return [n for n in candidates if sum(_mentions(n, t) for t in texts) <= limit]


def _about(doc: EvidenceDoc, names: Iterable[str]) -> bool:
    text = _padded(" ".join([doc.title, *doc.sentences]))
    return any(_mentions(n, text) for n in names)


def about(doc: EvidenceDoc, names: Iterable[str]) -> bool:
    """Whether the document names one of `names` (whole words): only such a source decides a
    claim about them."""
    return _about(doc, names)


PASSAGES_PER_CLAIM = 8  # full-text paragraphs of other sources read per claim
PASSAGES_PER_DOC = 2  # of which at most this many per source join its evidence


def body_evidence(claim: Claim, memory: Any, others: list[str]) -> dict[str, list[Passage]]:
    """Full-text paragraphs of other sources nearest the claim, grouped by source (at most
    PASSAGES_PER_DOC each). Sources read only as abstracts have none."""
    hits = memory.query(
        claim.text,
        k=PASSAGES_PER_CLAIM,
        kind="passage",
        exclude_sources=[claim.source_id],
        restrict_to=others,
    )
    grouped: dict[str, list[Passage]] = {}
    for hit in hits:
        if (
            hit.source_id != claim.source_id
            and len(grouped.get(hit.source_id, [])) < PASSAGES_PER_DOC
        ):
            grouped.setdefault(hit.source_id, []).append(hit)
    return grouped


def evidence_doc(paper: Paper, score: float, body: list[Passage]) -> EvidenceDoc:
    sentences = paper.sentences()
    locations = ["Abstract"] * len(sentences)
    for passage in body:
        for sentence in split_sentences(passage.text):
            sentences.append(sentence)
            locations.append(passage.location or "body")
    return EvidenceDoc(
        doc_id=paper.arxiv_id,
        title=paper.title,
        sentences=sentences,
        retrieval_score=score,
        locations=locations,
    )


def evidence_for(claim: Claim, memory: Any, papers: dict[str, Paper], k: int) -> list[EvidenceDoc]:
    """The k nearest retrieved papers to the claim, its own source excluded; a source read in
    full also brings its paragraphs nearest the claim, and a source whose body is nearer than
    any abstract joins the candidates through it."""
    others = [pid for pid in papers if pid != claim.source_id]
    if not others:
        return []
    hits = memory.query(
        claim.text, k=k, kind="paper", exclude_sources=[claim.source_id], restrict_to=others
    )
    body = body_evidence(claim, memory, others)
    listed = {h.source_id for h in hits}
    hits = [*hits, *(b[0] for pid, b in body.items() if pid not in listed)]
    docs: list[EvidenceDoc] = []
    for hit in hits:
        paper = papers.get(hit.source_id)
        if paper is None or hit.source_id == claim.source_id:
            continue
        if any(d.doc_id == hit.source_id for d in docs):
            continue
        docs.append(evidence_doc(paper, float(hit.score), body.get(hit.source_id, [])))
    return docs


def aggregate(
    claim: Claim,
    docs: list[EvidenceDoc],
    verdicts: list[DocVerdict],
    method: str,
    subjects: Iterable[str] = (),
) -> Verification:
    """verified: some other source SUPPORTs; contradicted: one CONTRADICTs and none supports.
    When the claim has subjects, only sources that mention one of them can decide it; the
    other verdicts stay on record as evidence considered."""
    verdicts = [v for v in verdicts if v.doc_id != claim.source_id]
    by_id = {d.doc_id: d for d in docs}
    names = list(subjects)
    deciding = [
        v for v in verdicts if not names or (v.doc_id in by_id and _about(by_id[v.doc_id], names))
    ]
    support = [v for v in deciding if v.label == "SUPPORT"]
    contra = [v for v in deciding if v.label == "CONTRADICT"]
    if support:
        status, best = "verified", max(support, key=lambda v: v.confidence)
    elif contra:
        status, best = "contradicted", max(contra, key=lambda v: v.confidence)
    else:
        status, best = "unverified", None
    quotes: list[str] = []
    places: list[str] = []
    if best is not None and best.doc_id in by_id:
        doc = by_id[best.doc_id]
        picked = [i for i in best.rationale if 0 <= i < len(doc.sentences)]
        quotes = [doc.sentences[i] for i in picked]
        places = [doc.location_of(i) for i in picked]
    # an unverified claim has no supporting evidence: its confidence is 0, not P(NEI)
    confidence = best.confidence if best is not None else 0.0
    return Verification(
        claim_id=claim.id,
        status=status,
        confidence=round(float(confidence), 4),
        method=method,
        evidence=verdicts,
        evidence_quotes=quotes,
        evidence_locations=places,
    )


def verify_claims(
    claims: list[Claim],
    memory: Any,
    papers: dict[str, Paper],
    verifier: Any,
    method: str,
    k: int,
) -> list[Verification]:
    out: list[Verification] = []
    corpus = paper_corpus(papers)
    for claim in claims:
        docs = evidence_for(claim, memory, papers, k)
        if verifier is None or not docs:
            out.append(
                Verification(claim_id=claim.id, status="unverified", confidence=0.0, method=method)
            )
            continue
        verdicts = list(verifier.verify(claim.text, docs))
        subjects = subject_names(claim, papers, corpus)
        out.append(aggregate(claim, docs, verdicts, method, subjects))
    return out
