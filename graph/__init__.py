"""The research state machine. `from graph import build_graph`."""

from __future__ import annotations

from typing import Any

__all__ = ["build_graph"]


def __getattr__(name: str) -> Any:  # lazy: keep `import graph.settings` light
    if name == "build_graph":
        from graph.builder import build_graph

        return build_graph
    raise AttributeError(name)
