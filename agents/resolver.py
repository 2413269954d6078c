"""Find the paper the question is about: an arXiv id (bare, versioned, or an abs/pdf URL; in the
question or `--paper`), its title or a fragment of it, or its name in any derived form
("SMoES-based", "SMoES's"). If a named paper cannot be found we say so; we never analyse
another paper in its place, and a look-alike ("SMoE" for "SMoES") is refused and recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents import names
from agents.facets import ARXIV_ID, content_tokens, entity_mentions, short_name, strip_ids
from agents.searcher import to_arxiv_query
from memory.errors import ServiceUnavailable
from memory.models import LookAlike, Paper, TargetMatch, split_arxiv_id
from memory.text import normalize_for_match, split_sentences

FRAGMENT_SHARE = 0.75  # an unquoted title fragment must hold this share of the title's words
MIN_FRAGMENT_WORDS = 3  # a quoted fragment or --paper fragment needs this many words


@dataclass
class Resolution:
    paper: Paper | None
    status: str  # "resolved" | "not_found" | "none_named" | "unavailable"
    note: str
    match: TargetMatch | None = None


@dataclass
class _Search:
    """The candidates seen so far, and the look-alikes refused among them."""

    search: object
    seen: set[str] = field(default_factory=set)
    rejected: dict[str, LookAlike] = field(default_factory=dict)

    def candidates(self, words: str) -> list[Paper]:
        if not words.strip():
            return []
        query = to_arxiv_query(words)
        found = self.search.search(query, max_results=10)  # type: ignore[attr-defined]
        fresh = [p for p in found if p.arxiv_id not in self.seen]
        self.seen.update(p.arxiv_id for p in fresh)
        return fresh


def find_ids(text: str) -> list[tuple[str, int | None]]:
    """(id, version) of every arXiv id in `text`: '2604.23996', '2604.23996v2', 'arXiv:…',
    'https://arxiv.org/abs/2604.23996v2', '…/pdf/2604.23996v1.pdf', 'hep-th/9901001'."""
    return [split_arxiv_id(m.group("id")) for m in ARXIV_ID.finditer(text)]


# --- the names a paper goes by ---------------------------------------------------------------

_PROPOSES = re.compile(r"\b(?:propose|introduce|present|call|dub|name|term)\w*\b", re.I)
_PROPOSED = re.compile(
    r"\b(?:propose|introduce|present|call)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+|novel\s+)?"
    r"(?:(?:method|framework|model|system|approach)\s+)?(?:called\s+|named\s+|dubbed\s+)?"
    r"([A-Za-z][\w.\-]*[A-Z0-9][\w.\-]*)"
)


def paper_names(paper: Paper) -> tuple[list[str], str | None]:
    """(names, full name): the title's short name ('Grove MoE' of 'Grove MoE: …'), acronyms
    the title or abstract defines ('… Specialization (SMoES)'), and the name the abstract
    proposes ('we propose HAWK, …'); the full name is the acronym's long form, else the
    title after its colon."""
    found: list[str] = []
    full: str | None = None
    if short := short_name(paper.title):
        found.append(short)
    # an acronym is the paper's own name when its title defines it or the abstract defines
    # it while proposing it; 'Mixture-of-Experts (MoE)' in a background sentence is not
    proposing = [t for t in split_sentences(paper.abstract) if _PROPOSES.search(t)]
    for text in (paper.title, *proposing):
        for acronym, long_form in names.definitions(text):
            found.append(acronym)
            full = full or long_form
    found += [m.group(1).rstrip(".") for m in _PROPOSED.finditer(paper.abstract)]
    if full is None and ":" in paper.title:
        full = paper.title.split(":", 1)[1].strip() or None
    aliases = [n for n in dict.fromkeys(found) if len(n) >= 2]
    return aliases, full


# --- matching ---------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return normalize_for_match(text).split()


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _quoted(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"[\"“'‘]([^\"”'’]{8,}?)[\"”'’](?!\w)", text)]


def _title_match(text: str, paper: Paper, flag: bool) -> TargetMatch | None:
    """The whole title, a quoted fragment of it, or (unquoted) most of it; a `--paper` value
    may be any fragment of MIN_FRAGMENT_WORDS words or more."""
    title = _words(paper.title)
    said = _words(text)
    if _contains(said, title):
        return TargetMatch(by="title", matched=paper.title, reason="its whole title is named")
    pieces = [text] if flag else _quoted(text)
    for piece in pieces:
        frag = _words(piece)
        if len(frag) >= MIN_FRAGMENT_WORDS and _contains(title, frag):
            how = "--paper gives" if flag else "the question quotes"
            return TargetMatch(
                by="title_fragment", matched=piece, reason=f"{how} a fragment of its title"
            )
    n = max(MIN_FRAGMENT_WORDS, int(FRAGMENT_SHARE * len(title) + 0.999))
    for i in range(len(said) - n + 1):
        if _contains(title, said[i : i + n]):
            return TargetMatch(
                by="title_fragment",
                matched=" ".join(said[i : i + n]),
                reason=f"the question holds {n} of its title's {len(title)} words in order",
            )
    return None


def _name_match(text: str, aliases: list[str]) -> TargetMatch | None:
    hit = names.find_any(aliases, text)
    if hit is None:
        return None
    return TargetMatch(
        by="name", matched=hit.written, name=hit.name, form=hit.form, reason=hit.reason()
    )


def _look_alike(text: str, paper: Paper, aliases: list[str]) -> LookAlike | None:
    """A name of the question that one of this paper's own names extends or shortens."""
    asked = [t.base for t in names.tokens(text) if names.distinctive(t.base)]
    for mine in asked:
        for other in aliases:
            if names.look_alike(mine, other):
                reason = f"'{other}' is a different name from '{mine}' (they share a prefix)"
                return LookAlike(arxiv_id=paper.arxiv_id, title=paper.title, reason=reason)
    return None


def _judge(text: str, paper: Paper, flag: bool, pool: _Search) -> TargetMatch | None:
    aliases, full = paper_names(paper)
    match = _title_match(text, paper, flag) or _name_match(text, aliases)
    if match is None:
        if (alike := _look_alike(text, paper, aliases)) is not None:
            pool.rejected.setdefault(paper.arxiv_id, alike)
        return None
    match.aliases, match.full_name = aliases, full
    return match


def _queries(text: str, flag: bool) -> list[str]:
    """Searches that would find the named paper: each name of the text reduced to its base
    ('SMoES-based' -> 'SMoES'), its quoted fragments, then its content words."""
    bases = [" ".join(t.base for t in names.tokens(m)) for m in entity_mentions(text)]
    bases = [b for b in bases if b]
    limit = 8 if flag else 6
    words = " ".join(content_tokens(text)[:limit])
    return list(dict.fromkeys([*bases, *_quoted(text), words]))[:5]


def _match_paper(
    text: str, search: object, flag: bool
) -> tuple[tuple[Paper, TargetMatch] | None, list[LookAlike]]:
    """The first candidate the text names, and the look-alikes refused on the way."""
    pool = _Search(search)
    text = strip_ids(text)
    for query in _queries(text, flag):
        for cand in pool.candidates(query):
            match = _judge(text, cand, flag, pool)
            if match is not None:
                match.rejected = list(pool.rejected.values())
                return (cand, match), match.rejected
    return None, list(pool.rejected.values())


def _by_id(wanted: str, version: int | None, search: object, source: str) -> Resolution:
    found = [p for p in search.fetch([wanted]) if p.arxiv_id == wanted]  # type: ignore[attr-defined]
    asked = f"{wanted}v{version}" if version else wanted
    if not found:
        return Resolution(
            None,
            "not_found",
            f"arXiv {asked} was not found in the arXiv source; no other paper was analysed "
            "in its place",
        )
    paper = found[0]
    aliases, full = paper_names(paper)
    held = "" if version in (None, paper.version) else f" (v{version} asked; v{paper.version} held)"
    match = TargetMatch(
        by="arxiv_id",
        matched=asked,
        reason=f"arXiv id {asked} given in {source}{held}",
        aliases=aliases,
        full_name=full,
    )
    return Resolution(paper, "resolved", f"arXiv {wanted} resolved by id{held}", match)


def _unmatched(status: str, note: str, alike: list[LookAlike]) -> Resolution:
    """No paper: say so, and name the look-alikes refused (also kept in run.json)."""
    if not alike:
        return Resolution(None, status, note)
    refused = "; ".join(f"{a.arxiv_id} refused: {a.reason}" for a in alike)
    note = f"{note} ({refused})"
    return Resolution(
        None, status, note, TargetMatch(by="none", matched="", reason=note, rejected=alike)
    )


def resolve_target(question: str, paper_arg: str | None, search: object) -> Resolution:
    """`search` is an ArxivSearch-like object (`fetch(ids)`, `search(query, max_results)`)."""
    try:
        ids = find_ids(paper_arg) if paper_arg else find_ids(question)
        if ids:
            return _by_id(*ids[0], search, "--paper" if paper_arg else "the question")
        if paper_arg:
            found, alike = _match_paper(paper_arg, search, flag=True)
            if found is None:
                return _unmatched(
                    "not_found",
                    f"no paper titled or named {paper_arg!r} was found; no other paper was "
                    "analysed in its place",
                    alike,
                )
            note = f"resolved by --paper: {found[1].reason}"
            return Resolution(found[0], "resolved", note, found[1])
        found, alike = _match_paper(question, search, flag=False)
        if found is not None:
            return Resolution(found[0], "resolved", f"resolved: {found[1].reason}", found[1])
        return _unmatched(
            "none_named",
            "the question names no arXiv id or known title; treated as a literature question",
            alike,
        )
    except ServiceUnavailable as exc:
        return Resolution(None, "unavailable", f"arXiv unavailable while resolving: {exc}")
