"""Instrumentation shared by every node: what a body needs besides the state (`Env`), and the
wrapper that logs each node's inputs and outputs as structlog events, records its timing in the
state, and turns a failure into a halted run that still ends with a report."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from langgraph.errors import GraphBubbleUp
from langgraph.runtime import Runtime

from graph.context import context_overrides, settings_from_record
from graph.routing import REVIEWERS
from graph.services import Services, services_for
from graph.settings import Settings, load_settings
from graph.state import new_run_id
from graph.transcript import get_logger
from memory.errors import UserError
from memory.models import ProvenanceEvent
from memory.secrets import scrub

ProvKind = Literal["fallback", "degraded", "error", "info"]
Body = Callable[[Any, "Env"], dict[str, Any]]

# Debug hook for step-through and crash tests: "node=seconds,node2=seconds" sleeps before them.
DELAY_ENV = "SOVEREIGN_NODE_DELAY"
FIRST_NODE = "resolve_paper"  # a run started without an id gets one here
MUST_RAISE = ("write_report", "publish")  # a bug there must not pass as a finished run


@dataclass
class Env:
    """What a node body needs besides the state."""

    settings: Settings
    services: Services
    run_id: str
    round: int
    log: Any

    def provenance(self, node: str, kind: ProvKind, message: str, **detail: Any) -> dict[str, Any]:
        """Record something a reader must know happened (and log it as a warning)."""
        self.log.warning("provenance", kind=kind, message=message, **detail)
        event = ProvenanceEvent(
            node=node, round=self.round, kind=kind, message=message, detail=detail
        )
        return event.model_dump(mode="json")

    def origin_events(self, node: str, proposal: Any) -> list[dict[str, Any]]:
        """A rejected LLM proposal, or an LLM that could not be reached, is a fallback the
        report must mention (and say which of the two it was)."""
        if proposal.origin != "fallback":
            return []
        message = (
            "LLM unreachable; deterministic answer used"
            if getattr(proposal, "unavailable", False)
            else "LLM proposal rejected; deterministic answer used"
        )
        return [self.provenance(node, "fallback", message, errors=proposal.errors)]

    def drain_notes(self, node: str) -> list[dict[str, Any]]:
        """Degraded-service notes the services collected since the last node, as provenance."""
        events = [self.provenance(node, "degraded", note) for note in self.services.notes]
        self.services.notes.clear()
        return events


def _delays() -> dict[str, float]:
    out: dict[str, float] = {}
    for part in os.environ.get(DELAY_ENV, "").split(","):
        if "=" in part:
            name, secs = part.split("=", 1)
            try:
                out[name.strip()] = float(secs)
            except ValueError:
                continue
    return out


def _summarise(update: dict[str, Any]) -> dict[str, Any]:
    """Compact view of a node's output for the transcript (full data stays in the state)."""
    return {k: len(v) if isinstance(v, list) else v for k, v in update.items() if k != "timings"}


def _inputs_view(name: str, state: dict[str, Any]) -> dict[str, Any]:
    if name == "search_arxiv":
        return {"query": state.get("query", {}).get("text")}
    if name == "read_source":
        return {"source": state.get("paper", {}).get("arxiv_id")}
    if name in REVIEWERS:
        return {"claims": len(state["claims"]), "conflicts": len(state.get("conflicts", []))}
    keys = ("question", "paper", "revision_round")
    view: dict[str, Any] = {k: state.get(k) for k in keys if state.get(k) is not None}
    view["papers"] = len(state.get("papers", []))
    view["claims"] = len(state.get("claims", []))
    return view


class NodeFactory:
    """Wraps node bodies with settings lookup, transcripts, timing and failure handling."""

    def __init__(self, settings: Settings | None, services: Services | None) -> None:
        self.base = settings if settings is not None else load_settings()
        self.injected = services

    def env_for(
        self, state: dict[str, Any], runtime: Runtime[Any] | None, node: str, role: str | None
    ) -> Env:
        record = state.get("settings_used")
        if record:
            settings = settings_from_record(self.base, record)
        else:
            ctx = runtime.context if runtime is not None else None
            settings = self.base.with_overrides(**context_overrides(ctx))
        services = self.injected or services_for(settings)
        run_id = state.get("run_id") or (new_run_id() if node == FIRST_NODE else "")
        rnd = int(state.get("round", state.get("revision_round", 0)) or 0)
        return Env(settings, services, run_id, rnd, get_logger(run_id, node, role, rnd))

    def node(self, name: str, body: Body, role: str | None = None) -> Callable[..., Any]:
        factory = self

        def run(state: dict[str, Any], runtime: Runtime[Any]) -> dict[str, Any]:
            env = factory.env_for(state, runtime, name, role)
            env.log.info("node_start", inputs=_inputs_view(name, state))
            start = time.time()
            if delay := _delays().get(name):
                time.sleep(delay)
            # scrubbed of credentials before LangGraph checkpoints it (a 401 body may echo one)
            update = dict(scrub(_guarded(name, body, state, env)))
            end = time.time()
            wall = round(end - start, 4)
            update["timings"] = [
                {"node": name, "role": role, "round": env.round, "start": start, "end": end,
                 "wall_s": wall}
            ]  # fmt: skip
            env.log.info("node_end", outputs=_summarise(update), wall_s=wall)
            return update

        run.__name__ = name
        return run


def _guarded(name: str, body: Body, state: dict[str, Any], env: Env) -> dict[str, Any]:
    """Run the body; a service that went away or a bug halts the run with a recorded reason
    instead of losing it (interrupts and control flow belong to LangGraph)."""
    try:
        return body(state, env)
    except GraphBubbleUp:
        raise
    except UserError as exc:
        return {
            "halted": f"{name} failed: {exc}",
            "provenance": [env.provenance(name, "error", str(exc))],
        }
    except Exception as exc:
        if name in MUST_RAISE:
            raise
        env.log.exception("node_failed", error=f"{type(exc).__name__}: {exc}")
        return {
            "halted": f"{name} failed unexpectedly ({type(exc).__name__}: {exc})",
            "provenance": [env.provenance(name, "error", f"{type(exc).__name__}: {exc}")],
        }
