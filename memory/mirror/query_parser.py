"""arXiv `search_query` grammar, parsed into a small AST and compiled to one FTS5 MATCH string.

Grammar (arXiv's, with the implicit operator made explicit):

    expr    := andexpr ("OR" andexpr)*
    andexpr := seq (("AND" | "ANDNOT") seq)*          left-associative
    seq     := unary+                                  adjacent items: implicit OR
    unary   := "(" expr ")" | [FIELD ":"] (WORD | "QUOTED" | "(" expr ")")

FIELD is one of ti abs au cat all co jr id. A field prefix is sticky inside a run of adjacent
items (`ti:mixture experts` = `ti:mixture OR ti:experts`); bare items default to `all:`.
Implicit OR (Lucene's default, which arXiv runs on) keeps plain multi-word queries from coming
back empty; the ranker then puts documents matching every term first. English stop words are
dropped from runs of more than one unquoted word, never from quoted phrases. A trailing `*`
makes a prefix query. Operators are upper case, as on arXiv."""

from __future__ import annotations

import re
from dataclasses import dataclass

from memory.mirror.db import encode_token
from memory.models import split_arxiv_id

FIELDS = ("ti", "abs", "au", "cat", "all", "co", "jr", "id")
ALL_COLUMNS = ("title", "abstract", "authors", "comment", "journal_ref")
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "ti": ("title",),
    "abs": ("abstract",),
    "au": ("authors",),
    "co": ("comment",),
    "jr": ("journal_ref",),
    "cat": ("cat",),
    "id": ("ident",),
    "all": ALL_COLUMNS,
}
_STOPWORD_TEXT = (
    "a an and are as at be by for from has have in into is it its of on or that the their "
    "this to was were which with via using based towards toward"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split(" "))
_ALNUM = re.compile(r"[^\W_]", re.UNICODE)


class QuerySyntaxError(ValueError):
    """A malformed search_query; the server answers HTTP 400 with this message."""


@dataclass(frozen=True)
class Term:
    field: str
    text: str
    phrase: bool = False  # quoted
    prefix: bool = False  # trailing *


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node
    implicit: bool = False


@dataclass(frozen=True)
class AndNot:
    left: Node
    right: Node


Node = Term | And | Or | AndNot

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lpar>\() | (?P<rpar>\)) |
        (?P<quoted>"[^"]*") | (?P<badquote>"[^"]*$) |
        (?P<word>[^\s()"]+)
    )""",
    re.VERBOSE,
)
_FIELD_WORD = re.compile(r"^(?P<field>[A-Za-z_]+):(?P<rest>.*)$", re.DOTALL)


@dataclass
class _Tok:
    kind: str  # lpar rpar quoted word op field
    value: str


def _tokenize(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    query = query.rstrip()
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        if m.group("lpar"):
            toks.append(_Tok("lpar", "("))
        elif m.group("rpar"):
            toks.append(_Tok("rpar", ")"))
        elif m.group("quoted") is not None:
            toks.append(_Tok("quoted", m.group("quoted")[1:-1]))
        elif m.group("badquote") is not None:
            raise QuerySyntaxError("unbalanced quotes")
        else:
            word = m.group("word")
            if word in ("AND", "OR", "ANDNOT"):
                toks.append(_Tok("op", word))
                continue
            fm = _FIELD_WORD.match(word)
            if fm:
                field = fm.group("field").lower()
                if field not in FIELDS:
                    raise QuerySyntaxError(f"unknown field prefix {fm.group('field')}:")
                toks.append(_Tok("field", field))
                rest = fm.group("rest")
                if rest:
                    toks.append(_Tok("word", rest))
                elif pos >= len(query) or query[pos].isspace():
                    raise QuerySyntaxError(f"field {field}: has no term")
            else:
                toks.append(_Tok("word", word))
    return toks


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expr(self, default: str) -> Node:
        node = self.andexpr(default)
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.value == "OR":
            self.take()
            node = Or(node, self.andexpr(default))
        return node

    def andexpr(self, default: str) -> Node:
        node = self.seq(default)
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.value != "OR":
            self.take()
            right = self.seq(default)
            node = And(node, right) if tok.value == "AND" else AndNot(node, right)
        return node

    def seq(self, default: str) -> Node:
        items: list[Node] = []
        field = default
        while (tok := self.peek()) is not None and tok.kind in ("lpar", "quoted", "word", "field"):
            node, field = self.unary(field)
            items.append(node)
        if not items:
            tok = self.peek()
            if tok is None:
                raise QuerySyntaxError("query ends where a term was expected")
            raise QuerySyntaxError(f"unexpected {tok.value!r} where a term was expected")
        words = [n for n in items if isinstance(n, Term) and not n.phrase and not n.prefix]
        if len(items) > 1:
            kept = [n for n in items if not (n in words and n.text.lower() in STOPWORDS)]
            items = kept or items
        node = items[0]
        for item in items[1:]:
            node = Or(node, item, implicit=True)
        return node

    def unary(self, field: str) -> tuple[Node, str]:
        tok = self.take()
        if tok.kind == "field":
            field = tok.value
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("lpar", "quoted", "word"):
                raise QuerySyntaxError(f"field {field}: has no term")
            tok = self.take()
        if tok.kind == "lpar":
            node = self.expr(field)
            close = self.peek()
            if close is None or close.kind != "rpar":
                raise QuerySyntaxError("unbalanced parentheses")
            self.take()
            return node, field
        text = tok.value
        prefix = text.endswith("*")
        if prefix:
            text = text.rstrip("*")
        if not _ALNUM.search(text):
            raise QuerySyntaxError(f"empty term {tok.value!r}")
        return Term(field, text, phrase=tok.kind == "quoted", prefix=prefix), field


def parse(query: str) -> Node:
    """Parse an arXiv search_query; raises QuerySyntaxError for malformed input."""
    toks = _tokenize(query)
    if not toks:
        raise QuerySyntaxError("empty search_query")
    parser = _Parser(toks)
    node = parser.expr("all")
    if parser.peek() is not None:
        tok = parser.take()
        if tok.kind == "rpar":
            raise QuerySyntaxError("unbalanced parentheses")
        raise QuerySyntaxError(f"unexpected {tok.value!r}")
    return node


# --- compilation to FTS5 ---------------------------------------------------------------------


def encode_code(code: str) -> str:
    """The single index token of a category or arXiv id, exactly as ingest wrote it."""
    return encode_token(code)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _columns(cols: tuple[str, ...]) -> str:
    return cols[0] if len(cols) == 1 else "{" + " ".join(cols) + "}"


def compile_term(term: Term, columns: tuple[str, ...] | None = None) -> str:
    cols = _columns(columns or FIELD_COLUMNS[term.field])
    if term.field == "cat":
        code = term.text.strip()
        if term.prefix or "." not in code:
            # archive-level match: cat:cs or cat:cs.* (every cs.XX), or an exact code like hep-th
            base = code.rstrip(".")
            return f"{cols}: ({_quote(encode_code(base))} OR {_quote(encode_code(base) + '0')})"
        return f"{cols}: {_quote(encode_code(code))}"
    if term.field == "id":
        base, _ = split_arxiv_id(term.text)
        star = "*" if term.prefix else ""
        return f"{cols}: {_quote(encode_code(base))}{star}"
    star = "*" if term.prefix else ""
    if columns is None and term.field == "all":
        # no column filter: FTS5 then skips position-list decoding for plain terms; the only
        # other columns hold q-prefixed code tokens that no word query can equal
        return f"{_quote(term.text)}{star}"
    return f"{cols}: {_quote(term.text)}{star}"


def to_fts(node: Node) -> str:
    """Fully parenthesised FTS5 expression (FTS5's own precedence never matters)."""
    if isinstance(node, Term):
        return compile_term(node)
    left, right = to_fts(node.left), to_fts(node.right)
    if isinstance(node, And):
        return f"({left}) AND ({right})"
    if isinstance(node, Or):
        return f"({left}) OR ({right})"
    return f"({left}) NOT ({right})"


def positive_terms(node: Node) -> list[Term]:
    """Terms that add to relevance: everything except the right side of ANDNOT."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, AndNot):
        return positive_terms(node.left)
    return positive_terms(node.left) + positive_terms(node.right)


def is_conjunction(node: Node) -> bool:
    """True when every positive term must match (no OR on the positive side)."""
    if isinstance(node, Term):
        return True
    if isinstance(node, Or):
        return False
    if isinstance(node, AndNot):
        return is_conjunction(node.left)
    return is_conjunction(node.left) and is_conjunction(node.right)
