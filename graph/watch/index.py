"""The claims of published reports in the vector memory (their own collection, namespace
"claims"), so a paper that arrives later finds the claims it is nearest to by meaning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memory.models import Paper
from memory.publication.store import StoredReport
from memory.vector_records import Document

NAMESPACE = "claims"
NEAREST = 8  # claims per paper handed to the verifier (name matches come on top)


def doc_id(report_id: str, claim_id: str) -> str:
    return f"{report_id}#{claim_id}"


class ClaimIndex:
    """Published claims by meaning; writes are idempotent (unchanged text is not embedded)."""

    def __init__(self, memory: Any) -> None:
        self.memory = memory
        self.size = 0

    @classmethod
    def from_settings(cls, settings: Any) -> ClaimIndex:
        from memory.vector_store import VectorMemory

        return cls(VectorMemory.from_settings(settings, namespace=NAMESPACE))

    def sync(self, reports: Sequence[StoredReport]) -> None:
        docs = [
            Document(id=doc_id(rep.report_id, c.id), version=1, title="",
                     sentences=[c.text])
            for rep in reports
            for c in rep.record().claims
            if c.text.strip()
        ]  # fmt: skip
        if docs:
            self.memory.upsert_documents(docs, sentences=False)
        self.size = len(docs)

    def nearest(self, papers: Sequence[Paper], k: int = NEAREST) -> list[set[str]]:
        """Per paper, the ids (`SRCH:X#C1`) of the claims nearest its title and abstract."""
        if not papers or not self.size:
            return [set() for _ in papers]
        texts = [f"{p.title}. {p.abstract}" for p in papers]
        hits = self.memory.query_many(texts, min(k, self.size), kind="paper")
        return [{h.source_id for h in row} for row in hits]
