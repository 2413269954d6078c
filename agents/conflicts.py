"""Flag conflicting numbers: claims about the same metric in the same setting that report
different values (e.g. two TTFT reductions for MMMU at batch size 32)."""

from __future__ import annotations

from collections import defaultdict

from agents.facets import phrase_in
from graph.models import Claim, Conflict

REL_TOLERANCE = 0.005


def subject_of(claim: Claim, entities: list[str]) -> str:
    """Whose number it is: a question entity named in the claim, else the source's own."""
    for entity in entities:
        if phrase_in(entity, claim.text, "entity"):
            return entity
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
