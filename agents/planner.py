"""Plan diverse arXiv queries from the question's facets: each query aims at a different facet
(the paper itself, its metric, the benchmark, the comparison, the conditions)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agents.facets import content_tokens
from agents.llm import Proposal, propose
from agents.llm.schemas import MAX_QUERY_CHARS, PlannerVars, QueryPlan
from memory.models import Facets, SearchQuery


class SearchPlan(BaseModel):
    """The first round's queries as the graph stores them. Never asked of a model: the LLM's
    contract is `agents.llm.schemas.QueryPlan`, turned into this by `_accept`."""

    queries: list[SearchQuery] = Field(default_factory=list)


def _short(text: str, words: int = 6) -> str:
    """A compact keyword query (content words only), so every query can match something."""
    return " ".join(content_tokens(text)[:words])


def deterministic_queries(
    question: str, facets: Facets, target: dict[str, Any] | None, n: int, round: int = 0
) -> list[SearchQuery]:
    entity = facets.entity[0] if facets.entity else ""
    metric = " ".join(facets.metric[:1])
    bench = facets.benchmark[0] if facets.benchmark else ""
    candidates: list[tuple[str, str]] = []
    if target is not None:
        candidates.append((_short(target["title"], 8), "the target paper and close variants"))
    candidates += [
        (f"{_short(entity, 3)} {metric} {bench}", "the entity measured on the question's metric"),
        (f"{metric} {bench} {_short(' '.join(facets.comparison), 3)}", "the metric and benchmark"),
        (
            f"{_short(' '.join(facets.comparison), 4)} {metric}",
            "the comparison baseline on the same metric",
        ),
        (f"{_short(entity, 2)} {_short(' '.join(facets.conditions), 4)}", "the conditions"),
        (f"{_short(entity, 3)} {_short(question, 4)}", "the question's own words"),
        (_short(question, 5), "the question's own words"),
    ]
    tokens = content_tokens(question)
    for i in range(0, max(0, len(tokens) - 1), 2):
        candidates.append((" ".join(tokens[i : i + 3]), "question keywords"))
    out: list[SearchQuery] = []
    seen: set[str] = set()
    for text, purpose in candidates:
        text = " ".join(text.split())[:MAX_QUERY_CHARS]
        key = " ".join(sorted(set(text.lower().split())))
        if not text or key in seen:
            continue
        seen.add(key)
        out.append(SearchQuery(text=text, purpose=purpose, round=round))
        if len(out) == n:
            break
    return out


def check_plan(plan: QueryPlan, n: int) -> list[str]:
    problems = []
    texts = [q.text.strip() for q in plan.queries]
    if len(texts) != n:
        problems.append(f"expected exactly {n} queries, got {len(texts)}")
    if any(not t or len(t) > MAX_QUERY_CHARS for t in texts):
        problems.append(f"every query must be 1..{MAX_QUERY_CHARS} characters")
    if len({t.lower() for t in texts}) != len(texts):
        problems.append("queries must be distinct")
    return problems


def _accept(plan: QueryPlan) -> SearchPlan:
    """An accepted draft as first-round queries (the round is ours to set, not the model's)."""
    return SearchPlan(
        queries=[SearchQuery(text=q.text, purpose=q.purpose, round=0) for q in plan.queries]
    )


def plan_queries(
    llm: Any, question: str, facets: Facets, target: dict[str, Any] | None, n: int
) -> Proposal[SearchPlan]:
    prompt_vars: PlannerVars = {
        "question": question,
        "facets": facets.model_dump(),
        "target_title": target["title"] if target else None,
        "num_queries": n,
    }
    return propose(
        llm,
        "planner",
        QueryPlan,
        prompt_vars,
        check=lambda p: check_plan(p, n),
        fallback=lambda: SearchPlan(queries=deterministic_queries(question, facets, target, n)),
        convert=_accept,
    )
