"""Synthetic stance pairs for training: flip one direction word of a claim (increases ->
decreases) or add/remove a negation, and the claim's stance towards the same evidence flips.
This is how SciFact's own contradicted claims were written, so the stance model sees many
more examples of the pattern than 809 claims carry."""

from __future__ import annotations

import re

_PAIRS = [
    ("increases", "decreases"),
    ("increased", "decreased"),
    ("increase", "decrease"),
    ("increasing", "decreasing"),
    ("higher", "lower"),
    ("more", "less"),
    ("greater", "smaller"),
    ("enhances", "reduces"),
    ("enhanced", "reduced"),
    ("promotes", "inhibits"),
    ("promote", "inhibit"),
    ("activates", "inhibits"),
    ("upregulates", "downregulates"),
    ("upregulated", "downregulated"),
    ("positively", "negatively"),
    ("positive", "negative"),
    ("improves", "worsens"),
    ("raises", "lowers"),
    ("elevated", "reduced"),
    ("high", "low"),
    ("induces", "prevents"),
    ("accelerates", "slows"),
    ("stimulates", "suppresses"),
    ("effective", "ineffective"),
    ("beneficial", "harmful"),
    ("required", "dispensable"),
]
FLIP = {a: b for a, b in _PAIRS} | {b: a for a, b in _PAIRS}
_FLIP_RE = re.compile(r"\b(" + "|".join(sorted(FLIP, key=len, reverse=True)) + r")\b", re.I)
_AUX = re.compile(r"\b(is|are|was|were|does|do|did|can|could|may|might|will|has|have)\b", re.I)
_NOT = re.compile(r"\b(is|are|was|were|does|do|did|can|could|may|might|will|has|have) not\b", re.I)
_VERB_S = re.compile(r"\b([a-z]{3,}[^s\W]s)\b")


def flip_claim(claim: str) -> str | None:
    """The claim with its stance flipped, or None when no safe edit applies."""
    m = _NOT.search(claim)
    if m:
        return claim[: m.start()] + m.group(1) + claim[m.end() :]
    m = _FLIP_RE.search(claim)
    if m:
        word = m.group(1)
        new = FLIP[word.lower()]
        if word[0].isupper():
            new = new[0].upper() + new[1:]
        return claim[: m.start()] + new + claim[m.end() :]
    m = _AUX.search(claim)
    if m:
        return claim[: m.end()] + " not" + claim[m.end() :]
    return None
