"""The three public JSON contracts, as JSON Schema files shipped with the package."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

CONTRACTS = ("paper-manifest-v1.1", "source-provenance-v1", "correction-record-v1")


@cache
def schema(contract: str) -> dict[str, Any]:
    if contract not in CONTRACTS:
        raise ValueError(f"unknown contract {contract!r}; known: {', '.join(CONTRACTS)}")
    text = resources.files("memory.publication").joinpath("schemas", f"{contract}.json")
    return dict(json.loads(text.read_text(encoding="utf-8")))


def validate(document: dict[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` unless the document meets the contract it names."""
    contract = str(document.get("contract"))
    jsonschema.validate(
        document, schema(contract), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
