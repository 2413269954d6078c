"""Verifying claims about tables (SciTab): a deterministic core that turns a claim into
checkable statements and evaluates them on the table's cells, and a trained model that
weighs the evidence into a label with a calibrated confidence. See README, "Claims about
tables"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from agents.verification.tables.data import TableClaim
from agents.verification.tables.verdict import TableVerdict
from memory.errors import UserError
from memory.fulltext.model import Table


class TableClaimVerifier(Protocol):
    name: str

    def verify(self, claim: str, table: Table) -> TableVerdict: ...

    def verify_claims(self, claims: Sequence[TableClaim]) -> list[TableVerdict]: ...


def _default(**kwargs: Any) -> TableClaimVerifier:
    from agents.verification.tables.verifier import TableVerifier

    return TableVerifier.load(**kwargs)


def _rules(**kwargs: Any) -> TableClaimVerifier:
    from agents.verification.tables.rules import RuleVerifier

    return RuleVerifier()


TABLE_VERIFIERS: dict[str, Callable[..., TableClaimVerifier]] = {
    "default": _default,
    "rules": _rules,
}


def get_table_verifier(name: str = "default", **kwargs: Any) -> TableClaimVerifier:
    """A table verifier by name ('default': trained, 'rules': the checks alone)."""
    factory = TABLE_VERIFIERS.get(name)
    if factory is None:
        raise UserError(
            f"unknown table verifier {name!r}; choose one of {', '.join(sorted(TABLE_VERIFIERS))}"
        )
    return factory(**kwargs)


__all__ = ["TABLE_VERIFIERS", "TableClaimVerifier", "TableVerdict", "get_table_verifier"]
