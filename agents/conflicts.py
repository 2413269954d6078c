"""Flag conflicting numbers: claims about the same metric in the same setting that report
different values (e.g. two TTFT reductions for MMMU at batch size 32)."""

from __future__ import annotations

import re
from collections import defaultdict

from agents.facets import benchmark_mentions, content_tokens, phrase_in
from memory.models import Claim, Conflict

REL_TOLERANCE = 0.005
_VERB = re.compile(
    r"\b(reach\w*|achiev\w*|obtain\w*|attain\w*|score\w*|get\w*|improv\w*|outperform\w*|"
    r"cut\w*|reduc\w*|rais\w*|increas\w*|decreas\w*|drop\w*|lose\w*|gain\w*)\b",
    re.I,
)


def subject_of(claim: Claim, entities: list[str]) -> str:
    """Whose number it is: a question entity named in the claim, else the source's own."""
    for entity in entities:
        if phrase_in(entity, claim.text, "entity"):
            return entity
    benches = {b.lower() for b in benchmark_mentions(claim.text)}
    for token in re.findall(r"[A-Za-z][A-Za-z0-9\-]*", claim.text):
        if token.lower() in benches or not any(ch.isupper() for ch in token[1:]):
            continue
        if re.fullmatch(r"[A-Z][A-Za-z]*[A-Z]s", token):
            break  # a generic plural like 'VLMs': the whole noun phrase decides below
        return token  # a named system such as 'FlexMoE'
    verb = _VERB.search(claim.text)
    if verb is not None:
        words = content_tokens(claim.text[: verb.start()])
        if 0 < len(words) <= 8:
            return " ".join(words)
    return f"the method of {claim.source_id}"


def find_conflicts(claims: list[Claim], entities: list[str] | None = None) -> list[Conflict]:
    groups: dict[tuple[str, str, str, str | None], list[Claim]] = defaultdict(list)
    for c in claims:
        if c.metric and c.setting and c.value is not None:
            subject = subject_of(c, entities or [])
            groups[(subject, c.metric.lower(), c.setting.lower(), c.unit)].append(c)
    out: list[Conflict] = []
    for (subject, metric, _, unit), members in sorted(groups.items(), key=lambda kv: str(kv[0])):
        values = [float(c.value) for c in members if c.value is not None]
        lo, hi = min(values), max(values)
        if len(members) < 2 or hi - lo <= REL_TOLERANCE * max(abs(hi), 1e-9):
            continue
        if len({(c.source_id, c.sentence_index) for c in members}) < 2:
            continue
        setting = f"{subject}, {members[0].setting}"
        shown = ", ".join(f"{c.id} ({c.source_id}): {c.value:g}{unit or ''}" for c in members)
        out.append(
            Conflict(
                metric=metric,
                setting=setting,
                claim_ids=[c.id for c in members],
                values=values,
                note=f"different {metric} values for {setting}: {shown}",
            )
        )
    return out
