"""The site's pages: each gathers what its template shows (templates/*.html.j2) and renders it.
Only published and retracted reports reach these functions; drafts never do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.site.render import render
from memory.mirror import rank
from memory.publication import quality
from memory.publication.contracts import CONTRACTS
from memory.publication.manifest import CORRECTION_CONTRACT, METHOD, PROVENANCE_CONTRACT
from memory.publication.store import StatusEvent
from memory.run import RunRecord

NOTE_FIELDS = ("target_status", "target_note", "halted", "input_error")


@dataclass
class SiteReport:
    """One visible report: its three public documents, the run's record and its history."""

    report_id: str
    status: str
    manifest: dict[str, Any]
    provenance: dict[str, Any]
    corrections: dict[str, Any]
    record: RunRecord
    markdown: str | None
    history: tuple[StatusEvent, ...]
    downloads: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (href, sha)

    @property
    def hex(self) -> str:
        """The id's hex part, which names the report's page and folder."""
        return self.report_id.split(":", 1)[1]

    def notes(self) -> dict[str, str]:
        """What the run said about its own limits (paper resolution, early stop, bad input)."""
        return {k: str(v) for k in NOTE_FIELDS if (v := getattr(self.record, k))}

    def source_urls(self) -> dict[str, str]:
        return {s["id"]: s["url"] for s in self.provenance["sources"]}


def index_page(reports: list[SiteReport]) -> str:
    return render(
        "index.html.j2",
        title="Index",
        root="",
        scripts=("site.js",),
        reports=reports,
        tiers=quality.TIER_NAMES,
    )


def report_page(report: SiteReport) -> str:
    return render(
        "report.html.j2",
        title=report.report_id,
        root="../",
        scripts=(),
        r=report,
        dimensions=quality.DIMENSIONS,
        contracts={"corrections": CORRECTION_CONTRACT, "provenance": PROVENANCE_CONTRACT},
    )


def benchmarks_page(groups: list[tuple[str, list[tuple[SiteReport, dict[str, Any]]]]]) -> str:
    return render("benchmarks.html.j2", title="Benchmarks", root="", scripts=(), groups=groups)


def graph_page(data: dict[str, Any]) -> str:
    return render("graph.html.j2", title="Graph", root="", scripts=("graph.js",), data=data)


def _settings_used(reports: list[SiteReport]) -> list[tuple[Any, ...]]:
    """Thresholds actually used by the published runs: one row per distinct setting, the most
    common first, with the number of reports that used it."""
    seen: dict[tuple[Any, ...], int] = {}
    for rep in reports:
        m = rep.provenance["method"]
        key = (
            m["verifier"],
            m["embedding_model"],
            m["consensus_threshold"],
            m["max_revisions"],
            m["llm_model"],
        )
        seen[key] = seen.get(key, 0) + 1
    return [(*key, n) for key, n in sorted(seen.items(), key=lambda kv: -kv[1])]


def about_page(reports: list[SiteReport]) -> str:
    return render(
        "about.html.j2",
        title="About",
        root="",
        scripts=(),
        method=METHOD,
        settings=_settings_used(reports),
        tiers=quality.TIERS,
        levels=quality.VERIFICATION_LEVELS,
        provenance_levels=quality.PROVENANCE_LEVELS,
        dimensions=[(quality.DIMENSIONS[k], rule) for k, rule in quality.DIMENSION_RULES.items()],
        contracts=CONTRACTS,
    )


def mathematics_page() -> str:
    """The formulas with the constants the code uses (ranking, quality), never retyped."""
    return render(
        "mathematics.html.j2", title="Mathematics", root="", scripts=(), quality=quality, rank=rank
    )
