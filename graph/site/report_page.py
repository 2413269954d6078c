"""One page per report: every field of the public index page plus the claims with their
evidence links, the reviews and the downloads."""

from __future__ import annotations

from typing import Any

from graph.site.html import arxiv_link, esc, fmt_date, page, table
from memory.publication.manifest import CORRECTION_CONTRACT, PROVENANCE_CONTRACT
from memory.publication.quality import DIMENSIONS

PUBLIC_NOTE_LEVEL = (
    "Descriptive verification status: a claim is source-grounded when a verifier supports it "
    "with a retrieved paper other than the one it was extracted from."
)
PUBLIC_NOTE_TIER = "Descriptive triage only; the tier does not change what was published."
PUBLIC_NOTE_DIMS = (
    "Automated triage signals computed from the run; not human peer review or independent "
    "validation."
)
PUBLIC_NOTE_CORR = (
    "Corrections are additive records; nothing is edited in place. A CURRENT status does not "
    "claim the synthesis is error-free."
)


def _claims_html(rep: dict[str, Any], urls: dict[str, str]) -> str:
    claims = rep["provenance"]["claims"]
    if not claims:
        return '<p class="empty">No claims were extracted in this run.</p>'
    rows = []
    for c in claims:
        evidence = []
        for ev in c["evidence"]:
            doc = str(ev["doc_id"])
            href = urls.get(doc, f"https://arxiv.org/abs/{doc}")
            evidence.append(
                f'<li class="ev ev-{esc(ev["label"]).lower()}"><a href="{esc(href)}" '
                f'rel="noopener">{esc(doc)}</a> {esc(ev["label"])} '
                f"({float(ev['confidence']):.2f})</li>"
            )
        quotes = "".join(f"<blockquote>{esc(q)}</blockquote>" for q in c["evidence_quotes"])
        src = str(c["source_id"])
        sentence = "" if c["sentence_index"] is None else f", sentence {int(c['sentence_index'])}"
        rows.append(
            f'<tr class="claim" data-status="{esc(c["status"])}">'
            f"<td>{esc(c['claim_id'])}</td>"
            f"<td><p>{esc(c['text'])}</p><blockquote>{esc(c['quote'])}</blockquote>"
            f"<small>from {arxiv_link(src, None, urls.get(src))}{esc(sentence)} · "
            f"{esc(c['origin'])}</small></td>"
            f'<td class="st-{esc(c["status"])}">{esc(c["status"])}</td>'
            f"<td>{float(c['confidence']):.2f}</td>"
            f'<td><ul class="evl">{"".join(evidence) or "<li>none</li>"}</ul>{quotes}'
            f"<small>{esc(c['method'] or '')}</small></td></tr>"
        )
    return (
        '<table class="grid claims"><thead><tr><th>Id</th><th>Claim and quote</th>'
        "<th>Status</th><th>Confidence</th><th>Evidence</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _reviews_html(state: dict[str, Any]) -> str:
    reviews = state.get("reviews") or []
    if not reviews:
        return '<p class="empty">No reviews were recorded.</p>'
    out = []
    for r in reviews:
        rubric = ", ".join(f"{esc(k)} {float(v):.1f}" for k, v in (r.get("rubric") or {}).items())
        concerns = "".join(
            f'<li class="sev-{esc(c.get("severity", "medium"))}">{esc(c.get("text", ""))}'
            f"{' (' + esc(', '.join(c.get('claim_ids', []))) + ')' if c.get('claim_ids') else ''}"
            "</li>"
            for c in r.get("concerns") or []
        )
        out.append(
            f'<div class="review" data-role="{esc(r.get("role"))}"><h3>{esc(r.get("role"))} · '
            f"round {int(r.get('round', 0))} · {float(r.get('score', 0)):.2f}/10 "
            f"<small>({esc(r.get('origin', 'deterministic'))})</small></h3>"
            f"<p>{esc(r.get('summary', ''))}</p>"
            f"{'<p><small>Rubric: ' + rubric + '</small></p>' if rubric else ''}"
            f"{'<ul>' + concerns + '</ul>' if concerns else ''}</div>"
        )
    return "".join(out)


def _sources_html(prov: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{arxiv_link(s['id'], s['version'], s['url'])}</td><td>{esc(s['title'])}</td>"
        f"<td>{esc(s['role'])}</td><td><code>{esc(s['query'] or '—')}</code></td>"
        f"<td>{esc(s['retrieved_at'] or '—')}</td></tr>"
        for s in prov["sources"]
    )
    return (
        '<table class="grid sources"><thead><tr><th>Source</th><th>Title</th><th>Role</th>'
        "<th>Retrieving query</th><th>Retrieved at</th></tr></thead><tbody>"
        f"{rows}</tbody></table>"
    )


def _coverage_html(state: dict[str, Any]) -> str:
    cov = state.get("coverage") or state.get("facet_coverage") or []
    if not cov:
        return '<p class="empty">No facet coverage was recorded.</p>'
    rows = "".join(
        f"<tr><td>{esc(c.get('facet'))}</td><td>{esc(c.get('value'))}</td>"
        f"<td>{'covered' if c.get('covered') else 'NOT covered'}</td>"
        f"<td>{esc(', '.join(c.get('source_ids', [])))}</td><td>{esc(c.get('note', ''))}</td></tr>"
        for c in cov
    )
    return (
        '<table class="grid"><thead><tr><th>Facet</th><th>Value</th><th>Coverage</th>'
        f"<th>Sources</th><th>Note</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _conflicts_html(state: dict[str, Any]) -> str:
    conflicts = state.get("conflicts") or []
    if not conflicts:
        return '<p class="empty">No conflicting values were found among the claims.</p>'
    return (
        "<ul>"
        + "".join(
            f"<li>{esc(c.get('metric'))} on {esc(c.get('setting'))}: "
            f"{esc(', '.join(str(v) for v in c.get('values', [])))} "
            f"({esc(', '.join(c.get('claim_ids', [])))}) — {esc(c.get('note', ''))}</li>"
            for c in conflicts
        )
        + "</ul>"
    )


def report_page(rep: dict[str, Any]) -> str:
    """`rep`: report_id, hex, status, manifest, provenance, corrections, state, history,
    downloads (name -> (href, sha256 or ''))."""
    m, prov, corr = rep["manifest"], rep["provenance"], rep["corrections"]
    q = m["quality"]
    counts = m["counts"]
    lvl = f"{q['verification_level']['code']}, {q['verification_level']['name']}"
    plvl = f"{q['provenance_level']['code']}, {q['provenance_level']['name']}"
    urls = {s["id"]: s["url"] for s in prov["sources"]}
    paper = m["paper"]
    score = float(m["scores"]["review_score"])
    status_banner = ""
    if rep["status"] == "retracted":
        status_banner = '<p class="banner retracted">This report was RETRACTED; see below.</p>'

    why = (rep.get("extra") or {}).get("target_note") or ""
    abstract = (
        '<p class="empty" data-field="abstract">No target paper was resolved for this question'
        f"{': ' + esc(why) if why else '.'}</p>"
    )
    if paper:
        authors = ", ".join(paper["authors"])
        abstract = (
            f'<p class="ptitle" data-field="paper-title">{esc(paper["title"])} '
            f"({arxiv_link(paper['arxiv_id'], paper['version'], paper['url'])})</p>"
            f"<p><small>{esc(authors)}</small></p>"
            f'<p data-field="abstract">Abstract: {esc(paper["abstract"])}</p>'
        )

    header = (
        f'<p class="rid" data-field="report-id">{esc(m["report_id"])}</p>'
        f'<h1 data-field="question">{esc(m["question"])}</h1>{status_banner}'
        + table(
            [
                ("submitted", "Submitted", esc(fmt_date(m["submitted_at"]))),
                ("review-score", "Review score", f"{score:.2f}/10"),
                ("verification", "Verification", esc(lvl)),
                ("tier", "Quality tier", esc(q["tier"])),
                ("status", "Status", esc(rep["status"].upper())),
            ],
            "kv head",
        )
    )
    verification = table(
        [
            ("paper-level", "Paper level", esc(lvl)),
            ("grounded-claims", "Source-grounded claims", str(counts["source_grounded"])),
            (
                "claim-counts",
                "Claims",
                f"{counts['claims']} extracted: {counts['verified']} verified, "
                f"{counts['contradicted']} contradicted, {counts['unverified']} unverified",
            ),
            (
                "claim-record-source",
                "Claim record source",
                'public claim records (<a href="#claims">below</a>)',
            ),
        ]
    )
    tier = table([("tier-name", "Tier", esc(q["tier"])), ("tier-basis", "Basis", esc(q["basis"]))])
    dims = table(
        [
            (
                f"dim-{key}",
                DIMENSIONS[key],
                f'<span class="grade">{esc(q["dimensions"][key])}</span>',
            )
            for key in DIMENSIONS
        ]
    )
    corr_rows = "".join(
        f"<li>#{int(c['seq'])} {esc(c['kind'])} by {esc(c['who'])} at {esc(c['at'])}: "
        f"<b>{esc(c['what'])}</b> — {esc(c['why'])}</li>"
        for c in corr["corrections"]
    )
    correction = table(
        [
            ("correction-status", "Status", esc(corr["status"])),
            ("correction-count", "Correction count", str(corr["correction_count"])),
            ("manifest-contract", "Manifest contract", esc(m["contract"])),
            ("correction-contract", "Correction contract", esc(CORRECTION_CONTRACT)),
        ]
    ) + (f'<ol class="corrections">{corr_rows}</ol>' if corr_rows else "")
    has_md = "report.md" in rep["downloads"]
    method = prov["method"]
    roles = ", ".join(method["review_roles"]) or "none recorded"
    provenance = table(
        [
            ("publisher", "Publisher", esc(m["publisher"])),
            ("public-provenance", "Public provenance", esc(plvl)),
            ("report-artifact", "Report artifact", "Available" if has_md else "Not available"),
            ("external-record", "External record", "Not registered"),
            (
                "claim-lineage",
                "Claim lineage",
                f"{counts['source_grounded']} source-grounded of {counts['claims']} claims; "
                f"{counts['sources']} sources",
            ),
            (
                "review-method",
                "Review method",
                f"Automated multi-reviewer assessment ({esc(roles)})",
            ),
            (
                "verifier",
                "Verifier / embeddings",
                f"{esc(method['verifier'] or 'not recorded')} / "
                f"{esc(method['embedding_model'] or 'not recorded')}",
            ),
            (
                "quality-guide",
                "Quality guide",
                '<a href="../about.html">How to read scores, claims, manifests, and evidence '
                "links</a>",
            ),
            ("provenance-contract", "Provenance contract", esc(PROVENANCE_CONTRACT)),
            ("note", "Note", esc(m["note"])),
        ]
    )
    decisions = "".join(
        f"<li>{esc(h['at'])}: {esc(h['status'])} by {esc(h['who'])}"
        f"{' (' + esc(h['decision']) + ')' if h['decision'] else ''}"
        f"{' — ' + esc(h['note']) if h['note'] else ''}</li>"
        for h in rep["history"]
    )
    policy = (
        table(
            [
                ("policy", "Policy", esc(m["policy"]["decision"])),
                ("policy-reasons", "Reasons", esc("; ".join(m["policy"]["reasons"]) or "—")),
                ("revision-rounds", "Revision rounds", str(counts["revision_rounds"])),
                ("threshold", "Consensus threshold", esc(m["scores"]["threshold"])),
            ]
        )
        + f'<ol class="history" data-field="history">{decisions}</ol>'
    )
    events = "".join(
        f"<li>[{esc(e['kind'])}] {esc(e['node'])} (round {int(e['round'])}): "
        f"{esc(e['message'])}</li>"
        for e in prov["events"]
    )
    downloads = "".join(
        f'<li><a href="{esc(href)}" download>{esc(name)}</a>'
        f"{' <code>sha256 ' + esc(sha) + '</code>' if sha else ''}</li>"
        for name, (href, sha) in rep["downloads"].items()
    )
    notes = "".join(f"<li>{esc(k)}: {esc(v)}</li>" for k, v in (rep.get("extra") or {}).items())
    body = (
        header
        + f"<section><h2>Abstract</h2>{abstract}</section>"
        + f"<section><h2>Research Question</h2><p>{esc(m['question'])}</p>"
        + (f"<ul>{notes}</ul>" if notes else "")
        + "</section>"
        + f'<section data-section="verification"><h2>Verification Level</h2>{verification}'
        f'<p class="note">{esc(PUBLIC_NOTE_LEVEL)}</p></section>'
        + f'<section data-section="tier"><h2>Quality Tier</h2>{tier}'
        f'<p class="note">{esc(PUBLIC_NOTE_TIER)}</p></section>'
        + f'<section data-section="dimensions"><h2>Quality Dimensions</h2>{dims}'
        f'<p class="note">{esc(PUBLIC_NOTE_DIMS)}</p></section>'
        + f'<section data-section="corrections"><h2>Correction Record</h2>{correction}'
        f'<p class="note">{esc(PUBLIC_NOTE_CORR)}</p></section>'
        + f'<section data-section="provenance"><h2>Provenance</h2>{provenance}</section>'
        + f'<section data-section="policy"><h2>Publication decision</h2>{policy}</section>'
        + f'<section id="claims" data-section="claims"><h2>Claims</h2>{_claims_html(rep, urls)}'
        "</section>"
        + f'<section data-section="conflicts"><h2>Conflicts</h2>{_conflicts_html(rep["state"])}'
        "</section>"
        + f'<section data-section="coverage"><h2>Facet coverage</h2>{_coverage_html(rep["state"])}'
        "</section>"
        + f'<section data-section="reviews"><h2>Reviews</h2>{_reviews_html(rep["state"])}</section>'
        + f'<section data-section="sources"><h2>Sources</h2>{_sources_html(prov)}</section>'
        + '<section data-section="events"><h2>Run events</h2>'
        + (
            f"<ul>{events}</ul>"
            if events
            else '<p class="empty">No fallback, degradation or error was recorded.</p>'
        )
        + "</section>"
        + f'<section data-section="downloads"><h2>Downloads</h2><ul>{downloads}</ul></section>'
    )
    return page(m["report_id"], body, root="../")
