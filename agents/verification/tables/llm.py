"""The optional LLM step: the model proposes which cells a claim is about and one operation
on them (a bounded draft); the draft is checked against the table (every row and column
must exist and hold a number, the operation must fit), retried once with the reasons, and
otherwise dropped. An accepted draft is run by the deterministic evaluator here and joins
the claim's checks, so the trained model weighs it like any other evidence: the LLM never
decides a label. Its prompt lives beside this module (`table_checker.txt`)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from agents.llm.propose import propose
from agents.llm.rendering import DATA_RULE, compact_schema, fence
from agents.llm.schemas import LLAMA_CPP_MAX_STRING, request_schema
from agents.verification.tables.checks import EQUAL_REL, Check, Kind, Outcome
from agents.verification.tables.core import Analysis
from agents.verification.tables.linking import TableView
from agents.verification.tables.text import normalize

ROLE = "table_checker"
MAX_ROWS_SHOWN = 60  # rows of the table put in the prompt
T = TypeVar("T", bound=BaseModel)

Operation = Literal[
    "lookup", "greater", "less", "equal", "max", "min", "difference", "ratio", "mean", "sum"
]
NEEDS_VALUE = ("lookup", "difference", "ratio", "mean", "sum")
KIND: dict[str, Kind] = {
    "lookup": "number",
    "difference": "number",
    "ratio": "number",
    "mean": "number",
    "sum": "number",
    "greater": "comparison",
    "less": "comparison",
    "equal": "equality",
    "max": "superlative",
    "min": "superlative",
}


class CellPick(BaseModel):
    row: str = Field(max_length=200, description="the row's name as the table prints it")
    column: str = Field(max_length=200, description="the column's name as the table prints it")


class TableCheckDraft(BaseModel):
    """table_checker: the cells a claim is about and one operation the verifier runs."""

    cells: list[CellPick] = Field(min_length=1, max_length=12)
    operation: Operation
    value: float | None = Field(None, description="the number the claim states, if any")
    negated: bool = Field(False, description="the claim says the operation does not hold")


class Proposed(BaseModel):
    """What the LLM step yields: an accepted draft, or none (deterministic / fallback)."""

    draft: TableCheckDraft | None = None


# --- the table as the model sees it, and the cells it may name --------------------------------


def table_text(view: TableView) -> str:
    lines = [view.table.caption, " | ".join(view.column_name(c) for c in range(view.n_cols))]
    for r in range(min(view.n_rows, MAX_ROWS_SHOWN)):
        lines.append(" | ".join(cell.text for cell in view.cells[r]))
    return "\n".join(lines)


def _key(text: str) -> str:
    return " ".join(normalize(text).split())


def _rows_named(view: TableView, name: str) -> list[int]:
    key = _key(name)
    return [
        r
        for r in view.data_rows
        if key == _key(view.row_name(r)) or any(key == _key(c.text) for c in view.cells[r][:3])
    ]


def _cols_named(view: TableView, name: str) -> list[int]:
    key = _key(name)
    return [
        c
        for c in view.value_cols
        if key == _key(view.columns[c]) or key in (_key(p) for p in view.columns[c].split(" / "))
    ]


def resolve(view: TableView, pick: CellPick) -> tuple[int, int] | str:
    """The (row, column) a pick names, or why it names none (or several)."""
    rows, cols = _rows_named(view, pick.row), _cols_named(view, pick.column)
    if not rows:
        return f"no row named {pick.row!r}"
    if not cols:
        return f"no column named {pick.column!r}"
    found = [(r, c) for r in rows for c in cols if view.value(r, c) is not None]
    if not found:
        return f"row {pick.row!r}, column {pick.column!r} holds no number"
    return found[0]


def problems(view: TableView, draft: TableCheckDraft) -> list[str]:
    """Why a draft cannot be run on this table (empty: it can)."""
    out = [p for p in (resolve(view, pick) for pick in draft.cells) if isinstance(p, str)]
    if draft.operation in NEEDS_VALUE and draft.value is None:
        out.append(f"operation {draft.operation} needs the claim's value")
    need = (
        2
        if draft.operation in ("greater", "less", "equal", "max", "min", "difference", "ratio")
        else 1
    )
    if len(draft.cells) < need:
        out.append(f"operation {draft.operation} needs at least {need} cells")
    return out


# --- running an accepted draft ----------------------------------------------------------------


def _close(x: float, value: float) -> bool:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(x - value) <= 0.5 * 10 ** (-decimals) + 1e-9 or (
        abs(value) > 0 and abs(x * 100 - value) <= 0.5 * 10 ** (-decimals) + 1e-9
    )


def _holds(op: str, vals: list[float], value: float | None) -> bool:
    first, rest = vals[0], vals[1:]
    if op == "greater":
        return all(first > v for v in rest)
    if op == "less":
        return all(first < v for v in rest)
    if op == "equal":
        top = max(abs(v) for v in vals) or 1e-9
        return max(vals) - min(vals) <= EQUAL_REL * top
    if op == "max":
        return first >= max(vals)
    if op == "min":
        return first <= min(vals)
    assert value is not None
    derived = {
        "lookup": first,
        "difference": abs(first - rest[0]) if rest else first,
        "ratio": first / rest[0] if rest and rest[0] else float("nan"),
        "mean": sum(vals) / len(vals),
        "sum": sum(vals),
    }[op]
    return _close(derived, value)


def run_draft(view: TableView, draft: TableCheckDraft) -> Check:
    """The deterministic evaluation of an accepted draft, as a check like the core's own."""
    cells = [p for p in (resolve(view, pick) for pick in draft.cells) if not isinstance(p, str)]
    vals = [float(view.value(r, c) or 0.0) for r, c in cells]
    ok = _holds(draft.operation, vals, draft.value) != draft.negated
    kind = KIND[draft.operation]
    outcome: Outcome = "holds" if ok else "fails"
    support = 1.0 if ok else 0.0
    agree = 1.0 - support if draft.negated else support
    gap = abs(vals[0] - vals[1]) / max(abs(vals[1]), 1e-9) if len(vals) > 1 else 0.0
    detail = {
        "agree": agree,
        "support": support,
        "gap": gap,
        "has_object": float(len(vals) > 1),
        "small": 0.0,
        "large": 0.0,
        "bold": float(view.cells[cells[0][0]][cells[0][1]].bold),
        "how": 1.0 if ok else 0.0,
    }
    neg = "not " if draft.negated else ""
    text = f"LLM-proposed {neg}{draft.operation}" + (
        f" {draft.value:g}" if draft.value is not None else ""
    )
    return Check(
        kind, f"{text}: {'holds' if ok else 'fails'} on the table", outcome, support, cells, detail
    )


# --- the call ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def template() -> tuple[str, str]:
    raw = resources.files(__package__).joinpath(f"{ROLE}.txt").read_text(encoding="utf-8")
    system, user = raw.split("=== user ===")
    return system.replace("=== system ===", "").strip(), user.strip()


def messages(
    prompt_vars: Mapping[str, Any], model: type[BaseModel], feedback: str | None
) -> list[dict[str, str]]:
    """Chat messages in the LLM layer's conventions: data fenced, schema appended."""
    system, user = template()
    for name, value in prompt_vars.items():
        user = user.replace("{{" + name + "}}", fence(name, value))
    user += (
        "\n\nAnswer with ONE JSON object and nothing else (no prose, no code fence). "
        f"It must match this JSON schema:\n{compact_schema(model)}"
    )
    if feedback:
        user += "\n\nYour previous answer was rejected. Produce a corrected answer.\n"
        user += fence("rejection", feedback)
    return [
        {"role": "system", "content": f"{system}\n\n{DATA_RULE}"},
        {"role": "user", "content": user},
    ]


class PackagePrompt:
    """A ChatBackend over an OpenAI-compatible client that renders this package's template
    (the client's own `structured` reads templates from `prompts/`)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def structured(
        self,
        role: str,
        output_model: type[T],
        prompt_vars: Mapping[str, Any],
        feedback: str | None = None,
    ) -> T:
        from agents.llm.client import parse_reply

        cap = (
            LLAMA_CPP_MAX_STRING if getattr(self.client, "json_mode", "") == "json_object" else None
        )
        text = self.client.complete(role, messages(prompt_vars, output_model, feedback),
                                    request_schema(output_model, cap))  # fmt: skip
        return parse_reply(text, output_model)


def backend(llm: Any) -> Any:
    """A client with `complete` gets this package's prompt; anything else (a test double
    implementing `structured`) is used as it is."""
    return PackagePrompt(llm) if hasattr(llm, "complete") else llm


def add_llm_check(llm: Any, a: Analysis) -> tuple[str, list[str]]:
    """Ask for a draft, check it, run it; returns (origin, notes). The analysis gains the
    check only when the draft was accepted."""
    view = a.view
    proposal = propose(
        backend(llm),
        ROLE,
        TableCheckDraft,
        {"claim": a.parsed.claim, "table": table_text(view)},
        lambda d: problems(view, d),
        lambda: Proposed(),
        lambda d: Proposed(draft=d),
    )
    if proposal.value.draft is not None:
        a.checks.append(run_draft(view, proposal.value.draft))
    return proposal.origin, list(proposal.errors)
