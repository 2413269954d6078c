"""SciTab claims as the table verifier reads them: one claim, the table it is about (parsed
once with the shared `memory.fulltext.model.Table`), and the gold label when there is one.

The fields `table_column_names` / `table_content_values` are Python-literal strings in some
copies of SciTab and real lists in others; both are accepted, anything else is a one-line
error naming the file and line, so a malformed held-out file fails before any scoring."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from memory.errors import UserError
from memory.fulltext.model import Table

Label = Literal["supports", "refutes", "not enough info"]
LABELS: tuple[str, ...] = get_args(Label)
TWO_CLASS: tuple[str, ...] = LABELS[:2]


class TableClaim(BaseModel):
    """One claim about one table."""

    model_config = ConfigDict(frozen=True)

    id: str
    claim: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    paper_id: str = ""
    paper: str = ""
    table_id: str = ""
    label: Label | None = Field(default=None, description="gold label; None when unlabelled")

    def table(self) -> Table:
        """The parsed table (cached per table content: many claims share one table)."""
        return _table(self.columns, self.rows, self.caption)

    def group(self) -> str:
        """What cross-validation groups by: the paper (a paper's tables share authors' style)."""
        return self.paper_id or self.paper or self.table_id


@lru_cache(maxsize=512)
def _table(columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...], caption: str) -> Table:
    return table_from_scitab(columns, rows, caption)


_LABEL = re.compile(r"^\s*((?:Table|Tab\.)\s*[A-Z]?\d+[a-z]?)\s*[:.]", re.IGNORECASE)


def table_from_scitab(columns: Sequence[str], rows: Sequence[Sequence[str]], caption: str) -> Table:
    """The shared Table, labelled from its caption ('Table 2: ...' -> 'Table 2') so cell
    locations read 'Table 2, row X, column Y'."""
    m = _LABEL.match(caption)
    label = m.group(1) if m else ""
    return Table.from_rows(list(columns), [list(r) for r in rows], caption=caption, label=label)


def _literal(value: Any, what: str) -> list[Any]:
    """A list, or the Python/JSON literal of one given as a string."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError) as exc:
            raise ValueError(f"{what} is not a list literal") from exc
    if not isinstance(value, list):
        raise ValueError(f"{what} is not a list")
    return value


def _label(value: Any) -> Label | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower().replace("_", " ")
    text = {"nei": "not enough info", "support": "supports", "refute": "refutes"}.get(text, text)
    if text not in LABELS:
        raise ValueError(f"unknown label {value!r}")
    return text  # type: ignore[return-value]


def parse_record(obj: dict[str, Any]) -> TableClaim:
    """One SciTab JSON object as a TableClaim (ValueError with the reason if malformed)."""
    columns = [str(c) for c in _literal(obj.get("table_column_names", []), "table_column_names")]
    rows = [
        tuple(str(c) for c in _literal(r, "a table row"))
        for r in _literal(obj.get("table_content_values", []), "table_content_values")
    ]
    claim = str(obj.get("claim", "")).strip()
    if not claim:
        raise ValueError("empty claim")
    return TableClaim(
        id=str(obj.get("id", "")),
        claim=claim,
        columns=tuple(columns),
        rows=tuple(rows),
        caption=str(obj.get("table_caption", "") or ""),
        paper_id=str(obj.get("paper_id", "") or ""),
        paper=str(obj.get("paper", "") or ""),
        table_id=str(obj.get("table_id", "") or ""),
        label=_label(obj.get("label")),
    )


def load_claims(path: Path | str) -> list[TableClaim]:
    """All claims of a SciTab-format JSONL file."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p} not found; pass a SciTab-format claims file with --claims")
    out: list[TableClaim] = []
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(parse_record(json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise UserError(f"{p}:{n}: not a SciTab claim ({exc})") from exc
    if not out:
        raise UserError(f"{p} holds no claims")
    for i, c in enumerate(out):
        if not c.id:
            out[i] = c.model_copy(update={"id": f"line{i + 1}"})
    return out


def has_labels(claims: Iterable[TableClaim]) -> bool:
    return all(c.label is not None for c in claims)
