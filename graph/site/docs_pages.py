"""About and Mathematics pages, generated from the same constants the kernel uses so the
documentation cannot drift from the rules."""

from __future__ import annotations

from typing import Any

from graph.site.html import esc, page
from memory.publication import quality
from memory.publication.contracts import CONTRACTS
from memory.publication.manifest import METHOD


def _method_params(reports: list[dict[str, Any]]) -> str:
    """Thresholds actually used by the published runs (one row per distinct setting)."""
    seen: dict[tuple[Any, ...], int] = {}
    for rep in reports:
        mth = rep["provenance"]["method"]
        key = (
            mth["verifier"],
            mth["embedding_model"],
            mth["consensus_threshold"],
            mth["max_revisions"],
            mth["llm_model"],
        )
        seen[key] = seen.get(key, 0) + 1
    if not seen:
        return '<p class="empty">No report is published yet.</p>'
    rows = "".join(
        f"<tr><td>{esc(v)}</td><td>{esc(e)}</td><td>{esc(t)}</td><td>{esc(r)}</td>"
        f"<td>{esc(llm or 'none (deterministic agents)')}</td><td>{n}</td></tr>"
        for (v, e, t, r, llm), n in sorted(seen.items(), key=lambda kv: -kv[1])
    )
    return (
        '<table class="grid"><thead><tr><th>Verifier</th><th>Embedding model</th>'
        "<th>Consensus threshold</th><th>Max revisions</th><th>LLM</th><th>Reports</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def about_page(reports: list[dict[str, Any]]) -> str:
    tiers = "".join(
        f'<tr data-tier="{esc(t.name)}"><td>{esc(t.name)}</td><td>{esc(t.rule)}</td></tr>'
        for t in quality.TIERS
    )
    levels = "".join(
        f"<tr><td>{esc(lv.code)}</td><td>{esc(lv.name)}</td><td>{esc(lv.rule)}</td></tr>"
        for lv in quality.VERIFICATION_LEVELS
    )
    plevels = "".join(
        f"<tr><td>{esc(lv.code)}</td><td>{esc(lv.name)}</td><td>{esc(lv.rule)}</td></tr>"
        for lv in quality.PROVENANCE_LEVELS
    )
    dims = "".join(
        f"<tr><td>{esc(quality.DIMENSIONS[k])}</td><td>{esc(rule)}</td></tr>"
        for k, rule in quality.DIMENSION_RULES.items()
    )
    contracts = "".join(
        f'<li><a href="schemas/{esc(c)}.json"><code>{esc(c)}</code></a></li>' for c in CONTRACTS
    )
    body = f"""
<h1>About this index</h1>
<section><h2>Method</h2><p>{esc(METHOD)}</p>
<p>Every report here was either approved automatically by the policy (AUTO_APPROVE) or
escalated to the owner and approved by them. Rejected drafts are never published. Corrections
are appended as records; nothing published is edited in place.</p>
<h3>Settings used by the published runs</h3>{_method_params(reports)}</section>
<section><h2>Quality tiers</h2><p>Tiers are assigned from the review score (consensus of the
three reviewers) and the evidence, checked from the top row down; the first that matches wins.
</p><table class="grid tiers"><thead><tr><th>Tier</th><th>Rule</th></tr></thead>
<tbody>{tiers}</tbody></table></section>
<section><h2>Verification levels</h2><table class="grid"><thead><tr><th>Level</th><th>Name</th>
<th>Rule</th></tr></thead><tbody>{levels}</tbody></table>
<h3>Public provenance levels</h3><table class="grid"><thead><tr><th>Level</th><th>Name</th>
<th>Rule</th></tr></thead><tbody>{plevels}</tbody></table></section>
<section><h2>Quality dimensions</h2><table class="grid"><thead><tr><th>Dimension</th>
<th>Rule</th></tr></thead><tbody>{dims}</tbody></table>
<p class="note">Automated triage signals computed from each run; not human peer review.</p>
</section>
<section><h2>Contracts</h2><p>Each report publishes three versioned JSON documents, validated
against these JSON Schemas:</p><ul>{contracts}</ul>
<p><code>paper-manifest-v1.1</code>: identity, question, paper, counts, scores, policy, tier and
levels, and artifacts with sha256. <code>source-provenance-v1</code>: every source with id,
version, url, the query that retrieved it and when; the method, model and embedding ids; the
verification lineage of each claim. <code>correction-record-v1</code>: additive corrections
(who, when, what, why).</p></section>
<section><h2>How to read a report page</h2><p>The review score is the reviewers' consensus
(0–10). A claim is <em>source-grounded</em> when a verifier supports it with a retrieved paper
other than the one it was taken from; the evidence links on each claim point at those papers.
Unverified does not mean false: it means no other retrieved source supports it.</p></section>
"""
    return page("About", body)


def mathematics_page() -> str:
    body = f"""
<h1>Mathematics</h1>
<p>The formulas the kernel uses, with the constants this site was built with.</p>
<section><h2>TF-IDF cosine (baseline verifier)</h2>
<p class="formula">tfidf(t, d) = tf(t, d) · (ln((1 + n) / (1 + df(t))) + 1)</p>
<p class="formula">cos(c, d) = (v<sub>c</sub> · v<sub>d</sub>) / (‖v<sub>c</sub>‖ ‖v<sub>d</sub>‖)
</p>
<p>Vectors are L2-normalised TF-IDF weights over unigrams and bigrams of the claim and of each
candidate abstract. The baseline labels a (claim, source) pair SUPPORT when cos ≥ θ (the
<code>tfidf_threshold</code> setting, 0.15 by default) and never says CONTRADICT.</p></section>
<section><h2>Consensus</h2>
<p class="formula">consensus = (s<sub>SKEPTIC</sub> + s<sub>VALIDATOR</sub> +
s<sub>SYNTHESIZER</sub>) / 3</p>
<p>Each reviewer scores the draft 0–10 in a round. The draft passes when consensus ≥ τ (the
<code>consensus_threshold</code>, 6.5 by default); below it, a revision round runs until
<code>max_revisions</code> is reached. Each report page states the τ its run used.</p></section>
<section><h2>Quality tiers</h2>
<p class="formula">g = |{{claims source-grounded}}| / |{{claims}}|</p>
<ul>
<li>score &lt; {quality.QUARANTINE_BELOW} → Quarantine candidate</li>
<li>score ≥ {quality.SOURCE_GROUNDED_AT}, g ≥ {quality.GROUNDED_SHARE}, no contradiction →
Source-grounded</li>
<li>score ≥ {quality.REVIEWED_AT} and at least one grounded claim → Reviewed synthesis</li>
<li>otherwise → Provisional</li></ul></section>
<section><h2>Calibration (ECE)</h2>
<p class="formula">ECE = Σ<sub>b=1..B</sub> (|B<sub>b</sub>| / n) · |acc(B<sub>b</sub>) −
conf(B<sub>b</sub>)|</p>
<p>Verifier confidences are grouped into B = 10 equal-width bins on [0, 1]; acc is the share of
correct labels in a bin and conf the mean stated confidence. A calibrated verifier has ECE near
0, so a confidence of 0.8 is right about 80% of the time.</p></section>
"""
    return page("Mathematics", body)
