"""The research graph as LangGraph Studio / `langgraph dev` loads it (see langgraph.json).

No checkpointer here: the server brings its own persistence. Settings come from the
environment (`SOVEREIGN_*`); a run's overrides come from the assistant's context, whose schema
(`RunContext`) is derived from the same Settings model. All nodes are sync functions, which
the server runs in worker threads, so blocking I/O never stalls its event loop."""

from __future__ import annotations

from graph.builder import build_graph
from graph.settings import load_settings

graph = build_graph(load_settings())
