"""ArxivSearch without a live peer: unreachable endpoints, argument checks, and the conversion
of arxiv.Result into Paper. Pacing and retries are `memory.net`'s (tests/unit/test_net.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import arxiv
import pytest

from memory.arxiv_client import ArxivSearch, is_arxiv_id, result_to_paper
from memory.errors import ServiceUnavailable, UserError
from tests.conftest import get_free_port


def test_unreachable_endpoint_is_service_unavailable() -> None:
    port = get_free_port()  # nothing listens there
    backoffs: list[float] = []
    client = ArxivSearch(
        f"http://127.0.0.1:{port}/api/query", delay_s=0, timeout_s=2, sleep=backoffs.append
    )
    with pytest.raises(ServiceUnavailable) as info:
        client.search("all:routing", max_results=5)
    assert "unreachable" in str(info.value) and "\n" not in str(info.value)
    assert len(backoffs) == client.num_retries == 2  # a refused connection is worth retrying


def test_bad_arguments_are_user_errors() -> None:
    client = ArxivSearch("http://127.0.0.1:9/api/query", delay_s=0, timeout_s=1)
    with pytest.raises(UserError, match="sort_by"):
        client.search("x", 5, sort_by="random")
    with pytest.raises(UserError, match="empty"):
        client.search("  ", 5)
    assert client.search("x", 0) == []
    assert client.fetch(["not an id", "???"]) == []  # malformed ids never reach the wire


def test_id_patterns() -> None:
    assert is_arxiv_id("2311.03057") and is_arxiv_id("2311.03057v2")
    assert is_arxiv_id("hep-th/9901001") and is_arxiv_id("math.GT/0309136v1")
    assert not is_arxiv_id("2311.3057x") and not is_arxiv_id("cs.CV")


def test_result_to_paper_keeps_text_whole_and_splits_version() -> None:
    long_abstract = "First sentence.\n  Second   sentence " + "word " * 500
    result = arxiv.Result(
        entry_id="http://arxiv.org/abs/2311.03057v3",
        updated=datetime(2024, 1, 2, tzinfo=UTC),
        published=datetime(2023, 11, 6, tzinfo=UTC),
        title="GLEN:\n  Generative Retrieval",
        authors=[arxiv.Result.Author("Sunkyung Lee")],
        summary=long_abstract,
        comment="EMNLP 2023",
        journal_ref=None,
        doi="10.1/x",
        primary_category="cs.IR",
        categories=["cs.IR", "cs.CL"],
        links=[arxiv.Result.Link("https://arxiv.org/pdf/2311.03057v3", title="pdf")],
    )
    when = datetime(2026, 1, 1, tzinfo=UTC)
    paper = result_to_paper(result, "all:glen", when)
    assert (paper.arxiv_id, paper.version) == ("2311.03057", 3)
    assert paper.title == "GLEN: Generative Retrieval"
    assert paper.abstract == " ".join(long_abstract.split())  # whitespace folded, nothing cut
    assert paper.categories == ["cs.IR", "cs.CL"] and paper.primary_category == "cs.IR"
    assert paper.pdf_url == "https://arxiv.org/pdf/2311.03057v3"
    assert paper.journal_ref is None and paper.doi == "10.1/x"
    assert paper.query == "all:glen" and paper.retrieved_at == when
