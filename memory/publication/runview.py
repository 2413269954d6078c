"""A run as publication reads it: the run's `RunRecord`, what its services said they were
(`RunInfo`, which beats the requested settings) and the report's Markdown. The record is the
one definition of a run's fields; this view only adds what publication derives from it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from memory.publication.quality import ClaimFacts
from memory.run import RunInfo, RunRecord

_TIME = TypeAdapter(datetime | None)


def report_id_for(run_id: str) -> str:
    """Stable public id: `SRCH:` + the first 8 hex digits (upper case) of sha256(run_id)."""
    return "SRCH:" + hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:8].upper()


def unanswered(record: RunRecord) -> str | None:
    """Why the run could not answer its question (bad input, no such paper, a service down or
    a step that failed), or None. Such a run keeps its report but is never recorded for
    publication: the owner has nothing to decide, and the public site shows answers only."""
    if record.input_error:
        return record.input_error
    if record.target_status in ("not_found", "unavailable"):
        return record.target_note or f"the paper was {record.target_status.replace('_', ' ')}"
    return record.halted or None


def json_time(value: datetime | None) -> str | None:
    """A time as the run's JSON writes it (so documents quote the run's own strings)."""
    out = _TIME.dump_python(value, mode="json")
    return None if out is None else str(out)


def _markdown(record: RunRecord) -> str | None:
    """The report the run wrote (report.md), if it is still where the run says it is."""
    path = Path(record.report_path) if record.report_path else None
    if path is None or path.suffix.lower() != ".md" or not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class RunView:
    """The parts of a run that publication needs."""

    record: RunRecord
    info: RunInfo | None = None
    markdown: str | None = None

    @classmethod
    def of(cls, record: RunRecord, info: RunInfo | None = None) -> RunView:
        """A missing run id is an error (the public id derives from it)."""
        if not record.run_id:
            raise ValueError("run record lacks run_id; cannot record it")
        return cls(record, info, _markdown(record))

    @property
    def report_id(self) -> str:
        return report_id_for(self.record.run_id)

    @property
    def question(self) -> str:
        """Stores written before unanswered runs were refused hold runs without a question;
        a reader of such an entry still sees why."""
        question = self.record.question
        if question.strip():
            return question
        return f"(no question given: {self.record.input_error or 'empty'})"

    @property
    def submitted_at(self) -> str:
        return self.record.started_at or datetime.now(UTC).isoformat()

    # --- what ran: the services' own account first, the requested settings otherwise ----------

    def _setting(self, key: str) -> Any:
        return self.record.settings_used.get(key)

    @property
    def verifier(self) -> str | None:
        return self.info.verifier if self.info else self._setting("verifier")

    @property
    def embedding_model(self) -> str | None:
        model = self.info.embedding.get("model") if self.info else None
        return str(model) if model else self._setting("embedding_model")

    @property
    def embedding_backend(self) -> str | None:
        emb = self.info.embedding if self.info else {}
        if emb.get("model") and emb.get("backend"):
            return str(emb["backend"])
        return self._setting("embedding_backend")

    @property
    def llm_model(self) -> str | None:
        return self._setting("llm_model") if self._setting("llm_base_url") else None

    @property
    def llm_usage(self) -> dict[str, Any] | None:
        return self.info.llm_usage if self.info else None

    def claim_facts(self) -> list[ClaimFacts]:
        """Per claim: its verdict, and whether SUPPORT came from a paper other than its own."""
        facts = []
        for claim in self.record.claims:
            ver = self.record.verification_of(claim.id)
            if ver is None:
                facts.append(ClaimFacts(claim.id, "unverified", 0.0, grounded=False))
                continue
            grounded = ver.status == "verified" and any(
                e.label == "SUPPORT" and e.doc_id != claim.source_id for e in ver.evidence
            )
            facts.append(ClaimFacts(claim.id, ver.status, ver.confidence, grounded))
        return facts


def canonical_json(doc: Any) -> str:
    return html_safe_json(
        json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    )


def html_safe_json(text: str) -> str:
    """JSON text with `<`, `>` and `&` written as \\u escapes: the same data once parsed, but
    no raw `<img onerror=...>` from an abstract in a download a browser might render."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
