"""Claim verification: a TF-IDF baseline and a trained default, plus SciFact evaluation."""

from agents.verification.base import VERIFIERS, Verifier, get_verifier

__all__ = ["VERIFIERS", "Verifier", "get_verifier"]
