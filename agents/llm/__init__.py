"""LLM layer over any OpenAI-compatible endpoint. Agents call `propose`; with no endpoint it
returns the deterministic answer, with one it asks the model and keeps only grounded output."""

from agents.llm.propose import Proposal, propose

__all__ = ["Proposal", "propose"]
