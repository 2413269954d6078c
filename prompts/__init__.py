"""Prompt templates, one text file per agent role, shipped as package data."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(role: str) -> str:
    """Text of `prompts/<role>.txt`; a missing role is a programming error, so it raises."""
    return resources.files(__name__).joinpath(f"{role}.txt").read_text(encoding="utf-8")
