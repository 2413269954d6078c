"""Fixtures shared by the unit tests of one room."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memory.mirror.ingest import ingest
from memory.mirror.search import MirrorIndex

MIRROR_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mirror"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirrorIndex]:
    """The small listing fixture as a mirror index, one per test module."""
    db = tmp_path_factory.mktemp("mirror") / "m.db"
    ingest(db, [MIRROR_FIXTURES / "listing_small.jsonl"], progress=False)
    idx = MirrorIndex(db)
    yield idx
    idx.close()
