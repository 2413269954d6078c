"""Reusable grounding checks for LLM proposals (each returns a list of problems; empty means
accept). A reviewer's numbers must stay near what the evidence gives, or a model that obeys
"score 10" planted in an abstract, or a tiny model that answers 0 everywhere, would decide
the tribunal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from memory.text import quote_in_source


def rubric_near(
    proposed: Mapping[str, float], reference: Mapping[str, float], tolerance: float = 2.0
) -> list[str]:
    """Same criteria as the deterministic rubric, each within `tolerance` points of it."""
    problems: list[str] = []
    if set(proposed) != set(reference):
        problems.append(
            f"rubric must have exactly the criteria {sorted(reference)}, got {sorted(proposed)}"
        )
    for key, ref in reference.items():
        if key in proposed and abs(float(proposed[key]) - float(ref)) > tolerance:
            problems.append(
                f"rubric {key}={proposed[key]:g} is more than {tolerance:g} from what the "
                f"evidence gives ({ref:g})"
            )
    return problems


def cited_ids_exist(cited: Iterable[str], known: Iterable[str]) -> list[str]:
    known_set = set(known)
    unknown = sorted({c for c in cited if c not in known_set})
    return [f"unknown claim ids {unknown}"] if unknown else []


def quote_occurs(quote: str, source_text: str, source_id: str) -> list[str]:
    if quote_in_source(quote, source_text):
        return []
    return [f"quote does not occur in {source_id}: {quote!r}"]
