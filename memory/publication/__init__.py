"""Publication: manifests, quality tiers, owner review and corrections (the public site that
shows published runs is `graph/site`)."""

from memory.publication.runview import report_id_for
from memory.publication.service import (
    PublicationRecord,
    apply_decision,
    correct,
    record_run,
    store_for,
)

__all__ = [
    "PublicationRecord",
    "apply_decision",
    "correct",
    "record_run",
    "report_id_for",
    "store_for",
]
