"""Re-verification of a recorded run's claims against a paper that arrived later (a new paper,
a new version of a source, or a newly stored full text): the same verifier and the same
aggregation rule as the run's own verification (`agents.verification.claims`), so a status
only changes when the verifier's verdict on the new paper changes the aggregate."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from agents.verification.claims import about, aggregate, evidence_doc, subject_names
from memory.models import Claim, DocVerdict, EvidenceDoc, Paper, Passage, Verification
from memory.run import RunRecord

BODY_PASSAGES = 2  # full-text paragraphs of the new paper read per claim, as in a run
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class StatusChange:
    """A claim whose aggregate status the new paper changed, or (`contested`) a verified claim
    the new paper contradicts while the aggregate, which any support decides, stays verified.
    `quotes`/`places` are the new paper's own sentences the verifier cited and where they sit."""

    claim: Claim
    before: str
    after: Verification
    paper: Paper
    quotes: tuple[str, ...] = ()
    places: tuple[str, ...] = ()

    @property
    def contested(self) -> bool:
        return self.before == self.after.status

    @property
    def supported_by(self) -> list[str]:
        """The sources whose support keeps a contested claim verified."""
        return [v.doc_id for v in self.after.evidence if v.label == "SUPPORT"]


def _papers(record: RunRecord, paper: Paper) -> dict[str, Paper]:
    """The run's papers by id with `paper` in place of any older version of itself."""
    papers = {p.arxiv_id: p for p in ([record.target] if record.target else []) + record.papers}
    papers[paper.arxiv_id] = paper
    return papers


def _nearest_paragraphs(claim: Claim, paragraphs: Sequence[str]) -> list[Passage]:
    """The paragraphs sharing most words with the claim (ties: earlier first)."""
    words = set(_WORD.findall(claim.text.lower()))
    scored = [(len(words & set(_WORD.findall(p.lower()))), -i, p) for i, p in enumerate(paragraphs)]
    best = sorted((s for s in scored if s[0] > 0), reverse=True)[:BODY_PASSAGES]
    return [
        Passage(id=f"body-{-i}", source_id="", text=text, location="body", score=0.0)
        for _, i, text in best
    ]


def mentions_subject(record: RunRecord, claim: Claim, paper: Paper) -> bool:
    """Name match: the paper names whose result the claim states (its subject names)."""
    papers = _papers(record, paper)
    names = subject_names(claim, papers)
    return bool(names) and about(evidence_doc(paper, 0.0, []), names)


def reverify_claim(
    record: RunRecord,
    claim: Claim,
    paper: Paper,
    verifier: object,
    paragraphs: Sequence[str] = (),
) -> StatusChange | None:
    """The claim's verification with the verifier's verdict on `paper` in place of any earlier
    verdict on that paper; a StatusChange when the aggregate status differs from the recorded
    one or the claim is newly contested, else None. A claim is never checked against its own
    source."""
    if claim.source_id == paper.arxiv_id:
        return None
    old = record.verification_of(claim.id)
    before = old.status if old else "unverified"
    earlier = [v for v in (old.evidence if old else []) if v.doc_id != paper.arxiv_id]
    replaced = old is not None and len(earlier) != len(old.evidence)
    doc = evidence_doc(paper, 0.0, _nearest_paragraphs(claim, paragraphs))
    verdict = verifier.verify(claim.text, [doc])[0]  # type: ignore[attr-defined]
    if verdict.label == "NOT_ENOUGH_INFO" and not replaced:
        return None  # an abstaining new source cannot move the aggregate
    papers = _papers(record, paper)
    docs: list[EvidenceDoc] = [
        evidence_doc(papers[v.doc_id], 0.0, []) for v in earlier if v.doc_id in papers
    ]
    docs.append(doc)
    method = str(getattr(verifier, "name", "verifier"))  # the verifier that decided now
    names = subject_names(claim, papers)
    after = aggregate(claim, docs, [*earlier, verdict], method, names)
    picked = [i for i in verdict.rationale if 0 <= i < len(doc.sentences)]
    cited = (tuple(doc.sentences[i] for i in picked), tuple(doc.location_of(i) for i in picked))
    if after.status != before or _newly_contested(old, verdict, doc, names):
        return StatusChange(claim, before, after, paper, *cited)
    return None


def _newly_contested(
    old: Verification | None, verdict: DocVerdict, doc: EvidenceDoc, names: Sequence[str]
) -> bool:
    """A verified claim that a deciding source (one about the claim's subject, as in
    `aggregate`) now contradicts and did not contradict before: silent under the
    any-support rule, so the owner must be told."""
    if old is None or old.status != "verified" or verdict.label != "CONTRADICT":
        return False
    if names and not about(doc, names):
        return False
    return not any(v.doc_id == doc.doc_id and v.label == "CONTRADICT" for v in old.evidence)


def revised_record(record: RunRecord, changes: Sequence[StatusChange]) -> RunRecord:
    """The run record with the changed verifications, and the papers that changed them among
    its papers (newer versions replace older ones)."""
    if not changes:
        return record
    by_claim = {c.claim.id: c.after for c in changes}
    verifications = [by_claim.pop(v.claim_id, v) for v in record.verifications]
    verifications += list(by_claim.values())
    new_papers = {c.paper.arxiv_id: c.paper for c in changes}
    papers = [new_papers.pop(p.arxiv_id, p) for p in record.papers]
    papers += list(new_papers.values())
    return record.model_copy(update={"verifications": verifications, "papers": papers})
