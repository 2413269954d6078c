"""The search_query grammar: what parses to what, and what is rejected (-> HTTP 400)."""

from __future__ import annotations

import pytest

from memory.mirror.query_parser import (
    And,
    AndNot,
    Or,
    QuerySyntaxError,
    Term,
    is_conjunction,
    parse,
    positive_terms,
    to_fts,
)


def test_field_prefixes_and_phrases() -> None:
    assert parse('ti:"mixture of experts"') == Term("ti", "mixture of experts", phrase=True)
    assert parse("au:del_maestro") == Term("au", "del_maestro")
    assert parse("cat:cs.CV") == Term("cat", "cs.CV")
    assert parse("transformer") == Term("all", "transformer")


def test_boolean_precedence_and_associativity() -> None:
    node = parse("ti:a OR ti:b AND abs:c ANDNOT au:d")
    assert node == Or(
        Term("ti", "a"), AndNot(And(Term("ti", "b"), Term("abs", "c")), Term("au", "d"))
    )


def test_parentheses_override_precedence() -> None:
    node = parse("(all:robot OR all:robotic) AND all:manipulation")
    assert node == And(
        Or(Term("all", "robot"), Term("all", "robotic")), Term("all", "manipulation")
    )


def test_implicit_or_with_sticky_field_and_stopwords_dropped() -> None:
    node = parse("ti:mixture of experts")
    assert node == Or(Term("ti", "mixture"), Term("ti", "experts"), implicit=True)
    # a quoted phrase keeps its stop words
    assert parse('all:"mixture of experts"') == Term("all", "mixture of experts", phrase=True)


def test_field_applies_inside_group() -> None:
    node = parse("ti:(diffusion OR video)")
    assert node == Or(Term("ti", "diffusion"), Term("ti", "video"))


def test_prefix_wildcard() -> None:
    assert parse("ti:transform*") == Term("ti", "transform", prefix=True)


@pytest.mark.parametrize(
    "query",
    ["ti:", "(a", "a)", "xx:foo", "a AND", "AND a", '"open', 'abs:it"s', "a OR OR b", '"-"', "()"],
)
def test_malformed_queries_raise(query: str) -> None:
    with pytest.raises(QuerySyntaxError):
        parse(query)


def test_compiled_fts_is_fully_parenthesised_and_quoted() -> None:
    fts = to_fts(parse('ti:"x y" ANDNOT (au:z OR cat:cs.CV)'))
    assert fts == '(title: "x y") NOT ((authors: "z") OR (cat: "qcs0cv"))'


def test_quotes_inside_terms_are_escaped() -> None:
    assert to_fts(Term("abs", 'it"s')) == 'abstract: "it""s"'


def test_category_archive_and_id_versions() -> None:
    assert to_fts(parse("cat:cs")) == 'cat: ("qcs" OR "qcs0")'
    assert to_fts(parse("id:2311.03057v2")) == to_fts(parse("id:2311.03057"))


def test_positive_terms_and_conjunction() -> None:
    node = parse("all:a AND all:b ANDNOT all:c")
    assert [t.text for t in positive_terms(node)] == ["a", "b"]
    assert is_conjunction(node)
    assert not is_conjunction(parse("all:a OR all:b"))
    assert not is_conjunction(parse("all:routing experts"))
