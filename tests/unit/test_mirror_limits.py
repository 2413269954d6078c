"""Issue 18.5, the query side: deep nesting and long OR/AND/ANDNOT lists get an answer (200 up
to arXiv's limits, 400 with arXiv's Atom error beyond), never a 500 from a RecursionError or
FTS5's parser stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.mirror import rank
from memory.mirror.query_parser import MAX_DEPTH, MAX_TERMS
from memory.mirror.search import MirrorIndex
from memory.mirror.server import answer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mirror"
MATCHING = ["routing", "experts", "diffusion", "segmentation", "privacy"]


def _ids(index: MirrorIndex, query: str) -> set[str]:
    return {r.arxiv_id for r in index.query(search_query=query, max_results=100).entries}


def _terms(n: int) -> list[str]:
    """n terms: the MATCHING words among words no paper holds."""
    return MATCHING + [f"all:zq{i}x" for i in range(n - len(MATCHING))]


def _summary(body: bytes) -> str:
    return body.split(b"<summary>")[1].split(b"</summary>")[0].decode()


@pytest.mark.parametrize("depth", [MAX_DEPTH, 400])
def test_deep_nesting_answers_instead_of_500(index: MirrorIndex, depth: int) -> None:
    query = "(" * depth + "all:routing" + ")" * depth
    status, body = answer(index, {"search_query": query}, "http://mirror/api/query")
    if depth <= MAX_DEPTH:
        assert status == 200 and b"<entry>" in body
    else:
        assert status == 400 and f"deeper than {MAX_DEPTH}" in _summary(body)


@pytest.mark.parametrize("ops", [("OR", "AND"), ("OR", "ANDNOT"), ("ANDNOT",)])
def test_nesting_up_to_the_limit_with_alternating_operators(
    index: MirrorIndex, ops: tuple[str, ...]
) -> None:
    """The worst case for FTS5's parser stack: every level a different operator."""
    query = "".join(f"all:zq{i}x {ops[i % len(ops)]} (" for i in range(MAX_DEPTH))
    query += "all:routing" + ")" * MAX_DEPTH
    status, body = answer(index, {"search_query": query}, "http://mirror/api/query")
    assert status == 200, _summary(body)


@pytest.mark.parametrize("n", [100, 1000, MAX_TERMS])
def test_long_or_lists_match_the_union_of_their_terms(index: MirrorIndex, n: int) -> None:
    union = set().union(*(_ids(index, f"all:{w}") for w in MATCHING))
    assert union  # the fixture holds these words
    query = " OR ".join(f"all:{t}" if ":" not in t else t for t in _terms(n))
    status, body = answer(index, {"search_query": query, "max_results": "50"}, "http://m/api")
    assert status == 200, _summary(body)
    assert _ids(index, query) == union
    implicit = "all:" + " ".join(t.removeprefix("all:") for t in _terms(n))
    assert _ids(index, implicit) == union  # adjacent words: arXiv's implicit OR


def test_long_and_and_andnot_chains(index: MirrorIndex) -> None:
    ands = " AND ".join(["all:mixture"] + ["all:experts"] * 299)
    assert _ids(index, ands) == _ids(index, "all:mixture AND all:experts")
    nots = "all:experts " + " ".join(f"ANDNOT all:zq{i}x" for i in range(300))
    assert _ids(index, nots) == _ids(index, "all:experts")
    cut = "all:experts ANDNOT all:routing " + " ".join(f"ANDNOT all:zq{i}x" for i in range(300))
    assert _ids(index, cut) == _ids(index, "all:experts") - _ids(index, "all:routing")


def test_more_terms_than_arxiv_allows_is_a_400(index: MirrorIndex) -> None:
    query = " OR ".join(f"all:w{i}" for i in range(MAX_TERMS + 1))
    status, body = answer(index, {"search_query": query}, "http://mirror/api/query")
    assert status == 400 and _summary(body) == f"more than {MAX_TERMS} terms"
    assert b"<title>Error</title>" in body


def test_many_term_ranking_agrees_with_the_regex_path(
    index: MirrorIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The word matcher (many terms) ranks like the per-term regexes (few terms)."""
    words = ["mixture", "experts", "routing", "load", "balancing", "diffusion", "video"]
    query = "all:" + " ".join(words + [f"zq{i}x" for i in range(70)])

    def ranked() -> list[str]:
        page = index.query(search_query=query, max_results=100)
        return [r.arxiv_id for r in page.entries]

    many = ranked()
    monkeypatch.setattr(rank, "REGEX_TERMS", 10_000)
    assert ranked() == many and len(many) >= 3


def test_token_soup_never_answers_500(index: MirrorIndex) -> None:
    """Random strings of the grammar's pieces (and characters FTS5 treats specially) get a
    200 or a 400, never an internal error."""
    import random

    pieces = ["(", ")", "AND", "OR", "ANDNOT", "all:", "ti:", "cat:cs.CV", "cat:", "id:",
              '"', '"mixture of experts"', "routing", "rout*", "*", "-", "x:y", "au:", "é",
              "\\", "NEAR", "NOT", "^", "{", "}", ":", "all:(", "'", "\x00", 'ti:"a']  # fmt: skip
    rng = random.Random(18)
    statuses = set()
    for _ in range(2000):
        words = [rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(1, 12))]
        status, _ = answer(index, {"search_query": "".join(words)}, "http://mirror/api/query")
        statuses.add(status)
    assert statuses == {200, 400}
