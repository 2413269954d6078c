"""Write the Markdown report and the run's JSON file from the run's record. Every number comes
from `RunRecord` (computed there once); no stored or shown field is cut (titles, abstracts,
claims and quotes appear whole). The report's layout is the template `templates/report.md.j2`;
this module gathers what it shows."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from agents.plain import plain
from agents.reviser import round_yield
from memory.models import Claim, Paper, Verification
from memory.publication.runview import unanswered
from memory.run import RunInfo, RunRecord
from memory.text import neutralise_html

RESULTS_FMT = (
    "{n} papers retrieved. {m} claims extracted, {k} verified. "
    "Tribunal: {s:.2f}/10 → {decision} (revision_round={r}). Policy: {policy}."
)
# a run that stopped before its tribunal sat: no score to state
STOPPED_FMT = (
    "{n} papers retrieved. {m} claims extracted, {k} verified. No tribunal was held: the run "
    "stopped first. Policy: {policy}{queued}."
)
DRAFT = "Autonomous draft — Owner review required before publication"
MARKS = {"verified": "✓", "contradicted": "✗ contradicted"}  # anything else: "×"
CITING = ("SUPPORT", "CONTRADICT")  # evidence labels the report links to


def summary(record: RunRecord) -> dict[str, Any]:
    """The numbers the report states (run.json's "summary"); tests compare the two."""
    return record.figures().model_dump(mode="json")


def results_line(record: RunRecord) -> str:
    f = record.figures()
    if not record.reviews and not record.consensus_history:  # no tribunal sat
        queued = " (not queued for review: the run did not answer)" if unanswered(record) else ""
        return STOPPED_FMT.format(
            n=f.papers_retrieved,
            m=f.claims_extracted,
            k=f.claims_verified,
            policy=f.policy,
            queued=queued,
        )
    return RESULTS_FMT.format(
        n=f.papers_retrieved,
        m=f.claims_extracted,
        k=f.claims_verified,
        s=f.consensus,
        decision=f.decision,
        r=f.revision_round,
        policy=f.policy,
    )


def _utc(at: str) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM:SS UTC' (shown as given when it does not parse)."""
    try:
        return datetime.fromisoformat(at).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return at


def status_line(record: RunRecord) -> str:
    """The report's header: what became of it. Rewritten when the owner decides, so a
    published report never still says it awaits review."""
    if reason := unanswered(record):
        return f"Not answered — {reason}; kept out of the review queue and the public site"
    decision = record.owner_decision
    if decision is not None:
        when = _utc(decision.at)
        if decision.decision == "approve":
            return f"Approved for publication by {decision.who} on {when}"
        return f"Rejected by {decision.who} on {when} — not published"
    if record.decided and record.policy == "AUTO_APPROVE":
        return "Autonomous draft — approved by the publication policy (AUTO_APPROVE)"
    return DRAFT


def cell(text: Any) -> str:
    """A Markdown table cell: `|` is the table's only special character, newlines end rows."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _source_text(s: dict[str, Any], info: RunInfo) -> str:
    """The arXiv the run searched, as the services chose it (mode 'auto' picks at run time)."""
    if info.arxiv_source:
        return info.arxiv_source
    if s.get("arxiv_url"):
        return f"arXiv API at {s.get('arxiv_url')}"
    return "local arXiv mirror" if s.get("arxiv_mode") == "mirror" else "arXiv API (online)"


def _verifier_text(s: dict[str, Any], info: RunInfo) -> str:
    if info.verifier == "tfidf":
        return f"TF-IDF cosine (unigrams+bigrams, threshold={s.get('tfidf_threshold')})"
    detail = f" ({info.verifier_detail})" if info.verifier_detail else ""
    return f"'{info.verifier}' verifier{detail}"


def _llm_text(s: dict[str, Any], info: RunInfo) -> str:
    if not s.get("llm_base_url"):
        text = "no LLM: deterministic agents"
    else:
        text = (
            f"LLM proposals from {s.get('llm_model')} at {s.get('llm_base_url')}, accepted only "
            "when grounded"
        )
    usage = info.llm_usage
    if usage:
        text += (
            f" ({usage.get('calls', 0)} LLM calls, {usage.get('prompt_tokens', 0)} prompt + "
            f"{usage.get('completion_tokens', 0)} completion tokens in this process)"
        )
    return text


def _reading_text(record: RunRecord) -> str:
    """How many sources were read in full, and in which format (counted from the run)."""
    full = record.read_in_full()
    formats = Counter(r.format or "unknown" for r in full.values())
    limit = record.settings_used.get("fulltext_sources", 0)
    if not record.fulltext_log:
        return "Sources read: abstracts only."
    by_format = ", ".join(f"{n} {fmt}" for fmt, n in sorted(formats.items()))
    return (
        f"Sources read in full (the target and up to {limit} most relevant others per round, "
        f"arXiv HTML else PDF): {len(full)} of {len(record.sources_read())}"
        + (f" ({by_format})." if full else ".")
    )


def _memory_text(record: RunRecord, info: RunInfo) -> str:
    emb = info.embedding
    if not emb and not record.indexed_ids:
        return "Vector memory: not used (nothing was indexed)."
    dim = emb.get("dim")
    return (
        f"Vector memory: {emb.get('backend', record.settings_used.get('embedding_backend'))} "
        f"embeddings {emb.get('model', 'unknown')} "
        f"(dim={dim if dim is not None else 'unknown'})."
    )


def _stopped_methodology(record: RunRecord, info: RunInfo) -> str:
    """A run that stopped before its first search: say what ran, and only that."""
    why = unanswered(record) or "the run stopped before searching"
    if record.input_error:
        return f"Nothing was searched or analysed: the question was refused ({why})."
    return (
        f"Only the paper lookup ran, against the {_source_text(record.settings_used, info)}: "
        f"{why}. No search, reading, verification or review followed."
    )


def methodology(record: RunRecord, info: RunInfo) -> str:
    """One paragraph: how the run searched, embedded, verified and reviewed, as it actually ran
    (`info`) within the settings it was given."""
    s = record.settings_used
    if not record.search_log:
        return _stopped_methodology(record, info)
    return (
        f"Multi-query search of the {_source_text(s, info)} ({s.get('num_queries')} parallel "
        f"queries per round, relevance-sorted, up to {s.get('max_results_per_query')} results "
        f"each); "
        f"{1 + record.revision_round} search round(s), {len(record.queries)} queries in total. "
        f"{_memory_text(record, info)} {_reading_text(record)} "
        f"Claims: whole source statements (abstract, body sentences, table rows) bearing on "
        f"the question's facets, each with its location, vacuous ones dropped, at most "
        f"{s.get('max_claims')}. Verification against other sources only "
        f"({s.get('evidence_k')} nearest per claim): {_verifier_text(s, info)}. Tribunal: "
        f"3-role parallel review (SKEPTIC/VALIDATOR/SYNTHESIZER), revision when consensus < "
        f"{s.get('consensus_threshold')} for at most {s.get('max_revisions')} round(s). "
        f"{_llm_text(s, info)}."
    )


def _abstract_only_lines(record: RunRecord) -> list[str]:
    """Sources read only as abstracts, grouped by why: the body of each was not checked."""
    by_reason: dict[str, list[str]] = {}
    for pid, reason in record.read_as_abstract().items():
        by_reason.setdefault(reason, []).append(pid)
    lines = [
        f"read only as abstracts ({reason}): {', '.join(ids)}" for reason, ids in by_reason.items()
    ]
    skipped = [p for p in record.sources_read() if p not in record.read_in_full()]
    skipped = [p for p in skipped if p not in record.read_as_abstract()]
    if skipped:
        lines.append(
            f"{len(skipped)} further source(s) were read only as abstracts by design (beyond "
            f"the {record.settings_used.get('fulltext_sources')} most relevant per round)"
        )
    return lines


def uncertainties(record: RunRecord, info: RunInfo) -> list[str]:
    """Everything a reader should discount the report by, in the order it happened."""
    out = [
        f"{e.kind} in {e.node} (round {e.round}): {e.message}"
        for e in record.provenance
        if e.kind in ("fallback", "degraded", "error", "info")
    ]
    out += [f"search '{s.query}' failed: {s.error}" for s in record.search_log if s.error]
    out += [f"conflicting numbers: {c.note}" for c in record.conflicts]
    out += [  # table checks: abstract figures no own table states, other papers' tables
        f"{t.claim_id}: {t.note}"
        for t in record.table_checks
        if (t.kind, t.status) in (("internal", "not_found"), ("cross", "conflict"))
    ]
    out += [c.note or f"{c.facet} '{c.value}' not covered" for c in record.uncovered()]
    out += _abstract_only_lines(record)
    unverified = [v.claim_id for v in record.unverified()]
    if unverified:
        out.append(
            f"{len(unverified)} claim(s) found no support in another retrieved source: "
            + ", ".join(unverified)
        )
    if info.verifier == "tfidf":
        out.append(
            "TF-IDF similarity is topical overlap, not entailment: a weak verification signal"
        )
    if not record.settings_used.get("llm_base_url"):
        out.append("reviews are computed from the evidence by fixed rubrics (no LLM judgement)")
    return out


def round_notes(record: RunRecord) -> dict[int, str]:
    """What each revision round added, and whether it ended the loop early (a round that adds
    no new source, or no statement bearing on the question, is the last)."""
    state = record.model_dump(mode="json")
    notes: dict[int, str] = {}
    for plan in record.revision_plans:
        y = round_yield(state, plan.round)
        if not y.new_sources:
            notes[plan.round] = "found no new source: the loop ended early here"
        elif y.new_passages == 0:
            notes[plan.round] = (
                f"found {len(y.new_sources)} new source(s) but no new statement bearing on the "
                "question: the loop ended early here"
            )
        else:
            notes[plan.round] = (
                f"found {len(y.new_sources)} new source(s), {y.new_passages} new statement(s)"
            )
    return notes


@dataclass(frozen=True)
class ClaimRow:
    """One row of the claims table: the claim, its verdict mark, the verdict's confidence as
    words ('support 0.87', 'no source decides (NEI 0.91)') and the sources whose evidence
    supports or contradicts it."""

    claim: Claim
    mark: str
    confidence: str
    evidence: list[str]


PART_STATUS = {"covered": "covered", "partial": "partly covered", "not_covered": "not covered"}
STATUS_WORDS = {
    "verified": "verified by another source",
    "contradicted": "contradicted by another source",
    "unverified": "not verified by another source",
    "not checked": "not checked against other sources",
}


def confidence_text(v: Verification | None) -> str:
    """What the confidence column says: the probability of the verdict that decided the claim
    (support or contradiction), or, when none decided, the verifier's strongest 'not enough
    information' verdict; a bare 0.00 would read as 'certainly false'."""
    if v is None or not v.evidence:
        return "not checked"
    if v.status == "verified":
        return f"support {v.confidence:.2f}"
    if v.status == "contradicted":
        return f"contradiction {v.confidence:.2f}"
    nei = max((e.confidence for e in v.evidence if e.label == "NOT_ENOUGH_INFO"), default=None)
    return "no source decides" + (f" (NEI {nei:.2f})" if nei is not None else "")


class _Papers:
    """Retrieved papers (plus the target) by id, for titles and links."""

    def __init__(self, record: RunRecord) -> None:
        self.by_id: dict[str, Paper] = record.paper_index()
        if record.target:
            self.by_id.setdefault(record.target.arxiv_id, record.target)

    def link(self, arxiv_id: str) -> str:
        paper = self.by_id.get(arxiv_id)
        return (paper.abs_url if paper else "") or f"https://arxiv.org/abs/{arxiv_id}"

    def title(self, arxiv_id: str) -> str:
        paper = self.by_id.get(arxiv_id)
        return paper.title if paper else ""


def _claim_rows(record: RunRecord) -> list[ClaimRow]:
    rows = []
    for claim in record.claims:
        v = record.verification_of(claim.id)
        cited = [e.doc_id for e in (v.evidence if v else []) if e.label in CITING]
        status = v.status if v else "unverified"
        rows.append(ClaimRow(claim, MARKS.get(status, "×"), confidence_text(v), cited))
    return rows


def _references(record: RunRecord, rows: list[ClaimRow]) -> list[str]:
    """Cited ids in order of first mention: the target, then each claim's source and evidence."""
    cited = [record.target.arxiv_id] if record.target else []
    if record.answer:
        cited += [s.source_id for part in record.answer.parts for s in part.statements]
    for row in rows:
        cited += [row.claim.source_id, *row.evidence]
    cited += [c.best.source_id for c in record.joint_coverage if c.best]
    return list(dict.fromkeys(cited))


def _no_html(value: Any) -> Any:
    """Every value the template prints: text from sources (an abstract may carry
    `<img onerror=...>`) must not become live HTML where the Markdown is rendered."""
    return neutralise_html(value) if isinstance(value, str) else value


@cache
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("agents", "templates"),
        autoescape=False,  # Markdown: the table cell filter, and HTML tags neutralised below
        finalize=_no_html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["cell"] = cell
    env.filters["f2"] = lambda x: f"{float(x):.2f}"
    return env


def render(record: RunRecord, info: RunInfo) -> str:
    started = record.started_at or datetime.now().isoformat()
    papers = _Papers(record)
    rows = _claim_rows(record)
    text = (
        _templates()
        .get_template("report.md.j2")
        .render(
            record=record,
            status=status_line(record),
            target=record.target,
            day=datetime.fromisoformat(started).strftime("%B %-d, %Y"),
            facets=[(k, v) for k, v in record.facets.model_dump().items() if v],
            methodology=methodology(record, info),
            results=results_line(record),
            uncertainties=uncertainties(record, info),
            rows=rows,
            status_words=STATUS_WORDS,
            part_status=PART_STATUS,
            round_notes=round_notes(record),
            plain=plain,
            reviews=record.final_reviews(),
            references=_references(record, rows),
            link=papers.link,
            title=papers.title,
        )
    )
    return text.rstrip() + "\n"


def write(record: RunRecord, info: RunInfo, out_dir: Path) -> tuple[Path, Path]:
    """report.md and run.json (the numbers, what ran and the whole record) side by side."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "report.md"
    data = out_dir / "run.json"
    report.write_text(render(record, info), encoding="utf-8")
    payload = {
        "summary": summary(record),
        "run_info": info.model_dump(mode="json", exclude_none=True),
        "state": record.state_json(),
    }
    data.write_text(
        json.dumps(payload, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    return report, data
