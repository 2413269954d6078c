"""Query semantics of the mirror index (in-process; the HTTP path is covered by integration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.errors import UserError
from memory.mirror import search as search_mod
from memory.mirror.ingest import ingest
from memory.mirror.query_parser import QuerySyntaxError
from memory.mirror.search import MirrorIndex

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mirror"


def ids(index: MirrorIndex, query: str = "", **kw: object) -> list[str]:
    page = index.query(search_query=query, max_results=50, **kw)  # type: ignore[arg-type]
    return [r.arxiv_id for r in page.entries]


def test_phrase_requires_word_order(index: MirrorIndex) -> None:
    hits = ids(index, 'all:"mixture of experts"')
    assert "2503.00005" not in hits  # has the words, not the phrase
    assert set(hits) == {"2501.00001", "2501.00002", "2502.00004"}


def test_title_match_ranks_above_abstract_only(index: MirrorIndex) -> None:
    hits = ids(index, 'all:"mixture of experts"')
    assert hits[0] == "2501.00001"  # phrase in title and abstract


def test_field_prefixes(index: MirrorIndex) -> None:
    assert set(ids(index, "ti:routing")) == {"2502.00004", "2501.00001"}
    assert ids(index, "abs:routing") == ["2502.00004"]  # "router" is not "routing"
    assert set(ids(index, "au:wang")) == {"2501.00002", "2502.00003", "2504.00008"}
    assert set(ids(index, "cat:cs.CV")) == {"2502.00003", "2503.00006", "2505.00009"}
    assert set(ids(index, "cat:eess")) == {"2505.00011"}
    assert ids(index, "co:CVPR") == ["2502.00003"]
    assert ids(index, "id:2504.00008") == ["2504.00008"]


def test_booleans(index: MirrorIndex) -> None:
    assert set(ids(index, 'all:"chain of thought" ANDNOT all:vision')) == {"2505.00010"}
    assert set(ids(index, "ti:graph OR ti:speech")) == {"2504.00008", "2505.00011"}
    assert ids(index, "au:wang AND cat:cs.LG") == ["2504.00008"]


def test_implicit_or_ranks_documents_matching_more_terms_first(index: MirrorIndex) -> None:
    hits = ids(index, "all:mixture experts load balancing")
    # the two papers with all four terms come first, then those matching fewer
    assert set(hits[:2]) == {"2501.00001", "2501.00002"}
    assert {"2502.00004", "2503.00005"} <= set(hits[2:])


def test_id_list_alone_keeps_request_order_and_versions(index: MirrorIndex) -> None:
    assert ids(index, id_list="2504.00008,2501.00001v1") == ["2504.00008", "2501.00001"]
    assert ids(index, id_list="2501.00001v2") == []  # a version the mirror does not have
    assert ids(index, id_list="2999.99999") == []


def test_id_list_combined_with_query_filters(index: MirrorIndex) -> None:
    assert ids(index, "cat:cs.LG", id_list="2501.00001,2502.00003") == ["2501.00001"]


def test_paging_is_a_partition_and_total_is_stable(index: MirrorIndex) -> None:
    seen: list[str] = []
    for start in range(0, 12, 5):
        page = index.query(search_query="cat:cs", start=start, max_results=5)
        assert page.total == 12
        seen += [r.arxiv_id for r in page.entries]
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 12


def test_sort_by_date_both_orders(index: MirrorIndex) -> None:
    desc = index.query(search_query="cat:cs", max_results=50, sort_by="submittedDate").entries
    dates = [r.published for r in desc]
    assert dates == sorted(dates, reverse=True)
    asc = index.query(
        search_query="cat:cs", max_results=50, sort_by="lastUpdatedDate", sort_order="ascending"
    ).entries
    assert [r.updated for r in asc] == sorted(r.updated for r in asc)


def test_relevance_ascending_is_descending_reversed(index: MirrorIndex) -> None:
    q = "all:models"
    assert ids(index, q, sort_order="ascending") == ids(index, q)[::-1]


def test_max_results_capped_at_2000(index: MirrorIndex) -> None:
    assert index.query(search_query="cat:cs", max_results=10**6).max_results == 2000


def test_paging_is_consistent_when_ranking_is_capped(
    index: MirrorIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    # force the large-result path (title-match pool, capped BM25 head, newest-first tails)
    monkeypatch.setattr(search_mod, "RANK_CAP", 2)
    monkeypatch.setattr(search_mod, "POOL_CAP", 3)
    monkeypatch.setattr(search_mod, "COUNT_FETCH", 3)
    q = "all:models learning language"
    full = ids(index, q)
    paged: list[str] = []
    for start in range(0, len(full) + 3, 3):
        paged += [
            r.arxiv_id for r in index.query(search_query=q, start=start, max_results=3).entries
        ]
    assert paged == full and len(set(full)) == len(full)
    total = index.query(search_query=q).total
    assert len(full) == total


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"search_query": "ti:(a"}, "parenthes"),
        ({"id_list": "not-an-id"}, "incorrect id format"),
        ({"search_query": "x", "sort_by": "random"}, "sortBy"),
    ],
)
def test_bad_requests(index: MirrorIndex, kw: dict[str, str], message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message):
        index.query(**kw)  # type: ignore[arg-type]


def test_missing_or_empty_db_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="mirror ingest"):
        MirrorIndex(tmp_path / "absent.db")
    empty = tmp_path / "empty.db"
    ingest(empty, [FIXTURES / "bad_lines.jsonl"], progress=False)  # creates schema
    from memory.mirror import db

    conn = db.connect(empty)
    conn.execute("DELETE FROM papers")
    conn.commit()
    conn.close()
    with pytest.raises(UserError, match="empty"):
        MirrorIndex(empty)


def test_date_walk_for_common_terms_matches_the_plain_sort(
    index: MirrorIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    q = "cat:cs"
    plain = [
        ids(index, q, sort_by=s, sort_order=o)
        for s in ("submittedDate", "lastUpdatedDate")
        for o in ("descending", "ascending")
    ]
    monkeypatch.setattr(search_mod, "COUNT_FETCH", 2)  # every match set now counts as dense
    walked = [
        [
            r.arxiv_id
            for start in range(0, 12, 5)
            for r in index.query(
                search_query=q, start=start, max_results=5, sort_by=s, sort_order=o
            ).entries
        ]
        for s in ("submittedDate", "lastUpdatedDate")
        for o in ("descending", "ascending")
    ]
    assert walked == plain and all(len(x) == 12 for x in walked)


def test_a_running_index_sees_a_later_ingest(tmp_path: Path) -> None:
    db_path = tmp_path / "m.db"
    ingest(db_path, [FIXTURES / "bulk_v1.jsonl"], progress=False)
    idx = MirrorIndex(db_path)
    try:
        assert idx.query(search_query="cat:hep-ph").total == 1
        assert idx.query(search_query="all:models").total == 0
        ingest(
            db_path, [FIXTURES / "listing_small.jsonl", FIXTURES / "bulk_v2.jsonl"], progress=False
        )
        assert idx.query(search_query="all:models").total == 7
        [row] = idx.query(search_query="cat:hep-ph").entries
        assert row.version == 2  # cached counts and rows do not hide the update
    finally:
        idx.close()
