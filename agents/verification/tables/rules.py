"""The deterministic core on its own, with no trained model: a claim with a failing check is
refuted, one whose checks all hold is supported, one with nothing decided is NEI. It is
what the checks alone are worth (the bench prints it beside the trained verifier), and the
confidence it prints is the share of decided checks behind its label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agents.verification.tables.core import Analysis, analyse, analyse_claim
from agents.verification.tables.data import TableClaim
from agents.verification.tables.verdict import TableVerdict
from memory.fulltext.model import Table


def rule_label(a: Analysis) -> tuple[str, float, str, float]:
    """(3-class label, confidence, 2-class label, confidence) from the checks alone."""
    holds = sum(c.outcome == "holds" for c in a.checks)
    fails = sum(c.outcome == "fails" for c in a.checks)
    decided = holds + fails
    two = "refutes" if fails > holds else "supports"
    two_conf = max(holds, fails) / decided if decided else 0.5
    if not decided:
        return "not enough info", 0.5, two, two_conf
    return two, max(holds, fails) / decided, two, two_conf


@dataclass
class RuleVerifier:
    name: str = "rules"

    def verify(self, claim: str, table: Table) -> TableVerdict:
        return self._verdict(analyse(claim, table))

    def verify_claims(self, claims: Sequence[TableClaim]) -> list[TableVerdict]:
        return [self._verdict(analyse_claim(c)) for c in claims]

    def _verdict(self, a: Analysis) -> TableVerdict:
        label, conf, two, two_conf = rule_label(a)
        return TableVerdict(
            label=label,
            confidence=conf,
            probabilities={label: conf},
            two_class=two,
            two_class_confidence=two_conf,
            reasoning_type=a.parsed.reasoning_type(),
            checks=a.check_views(),
        )
