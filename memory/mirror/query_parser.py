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
makes a prefix query. Operators are upper case, as on arXiv.

Limits. arXiv's API manual documents none for search_query; its classic API runs on Lucene,
whose BooleanQuery refuses more than 1,024 clauses (the default maxClauseCount) and whose
request line is capped by the web server, so MAX_TERMS is 1,024 terms. Parentheses may nest
MAX_DEPTH (32) levels: FTS5's 100-entry parser stack holds 33 levels of alternating operators
(`a OR (b AND (c OR ...))`). Anything beyond either is a QuerySyntaxError (HTTP 400 with
arXiv's Atom error), never a RecursionError: the tree walks below are iterative over chains of
one operator, and recursion only follows parentheses, which MAX_DEPTH bounds. Chains compile to
flat FTS5 lists (`a OR b OR c`, not nested pairs), which FTS5's parser reduces as it reads, so
no length of chain fills that stack."""

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
MAX_TERMS = 1024
MAX_DEPTH = 32
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
        self.depth = 0  # open parentheses around the current position

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
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QuerySyntaxError(f"parentheses nested deeper than {MAX_DEPTH} levels")
            node = self.expr(field)
            close = self.peek()
            if close is None or close.kind != "rpar":
                raise QuerySyntaxError("unbalanced parentheses")
            self.take()
            self.depth -= 1
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
    if sum(1 for tok in toks if tok.kind in ("word", "quoted")) > MAX_TERMS:
        raise QuerySyntaxError(f"more than {MAX_TERMS} terms")
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


def _chain(node: Node, kinds: tuple[type, ...]) -> list[Node]:
    """The operands of a chain of `kinds` nodes, left to right, walked without recursion (a
    thousand OR'd terms make a thousand-deep left spine)."""
    out: list[Node] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, kinds):
            stack += [item.right, item.left]  # type: ignore[union-attr]
        else:
            out.append(item)
    return out


def _conjuncts(node: Node) -> tuple[list[Node], list[Node]]:
    """(positives, negatives) of an AND/ANDNOT chain: the intersection of every P minus each
    N, since (X NOT n) AND y = (X AND y) NOT n."""
    pos: list[Node] = []
    neg: list[Node] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, And):
            stack += [item.right, item.left]
        elif isinstance(item, AndNot):
            neg.append(item.right)
            stack.append(item.left)
        else:
            pos.append(item)
    return pos, neg


def _join(parts: list[str], op: str) -> str:
    return parts[0] if len(parts) == 1 else f" {op} ".join(f"({p})" for p in parts)


def to_fts(node: Node) -> str:
    """Parenthesised FTS5 expression (FTS5's own precedence never matters); chains of one
    operator are flat lists, so no query nests deeper than its parentheses."""
    if isinstance(node, Term):
        return compile_term(node)
    if isinstance(node, Or):
        return _join([to_fts(n) for n in _chain(node, (Or,))], "OR")
    pos, neg = _conjuncts(node)
    both = _join([to_fts(n) for n in pos], "AND")
    if not neg:
        return both
    return f"({both}) NOT ({_join([to_fts(n) for n in neg], 'OR')})"


def positive_terms(node: Node) -> list[Term]:
    """Terms that add to relevance: everything except the right side of ANDNOT."""
    out: list[Term] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Term):
            out.append(item)
        elif isinstance(item, AndNot):
            stack.append(item.left)
        else:
            stack += [item.right, item.left]
    return out


def is_conjunction(node: Node) -> bool:
    """True when every positive term must match (no OR on the positive side)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Or):
            return False
        if isinstance(item, AndNot):
            stack.append(item.left)
        elif isinstance(item, And):
            stack += [item.left, item.right]
    return True
