"""A claim turned into statements a table can check: the numbers it states, the comparisons
it makes (who is higher/better than whom), its superlatives (best, lowest), its trends
(increases with ...) and the quantifier over them (all / most / none). Parsing is positional:
a trigger word's subject is the row or column named closest before it, its object the one
named after it (or, failing that, the other one named before)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from agents.verification.tables.linking import Mention, TableView, link
from agents.verification.tables.text import (
    AGGREGATE,
    ALL_WORDS,
    BETTER,
    EQUAL,
    HIGHER,
    HIGHER_METRIC,
    LARGE,
    LOWER,
    LOWER_IS_BETTER,
    MOST_WORDS,
    NONE_WORDS,
    SMALL,
    SUPERLATIVE,
    WORSE,
    NumberMention,
    claim_numbers,
    negated_before,
    normalize,
    token_spans,
)

Sense = Literal["goodness", "value"]
Quantifier = Literal["all", "most", "none", ""]
ReasoningType = Literal["trend", "superlative", "difference", "aggregate", "comparison", "other"]
_ADJ_ENDINGS = ("ive", "ate", "ful", "ent", "ust", "ble")
_TREND_CUES = ("as ", "with more", "with larger", "with longer", "with increasing", "the more")


@dataclass(frozen=True)
class Trigger:
    word: str
    start: int  # character offset in the normalised claim
    sense: Sense
    direction: int  # +1: better / higher, -1: worse / lower
    negated: bool


@dataclass(frozen=True)
class Comparison:
    trigger: Trigger
    subject: Mention
    obj: Mention | None
    quantifier: Quantifier
    magnitude: Literal["small", "large", ""]
    metric: tuple[int, ...] = ()
    excluded: tuple[Mention, ...] = ()


@dataclass(frozen=True)
class Superlative:
    trigger: Trigger
    subject: Mention | None
    quantifier: Quantifier
    metric: tuple[int, ...] = ()


@dataclass(frozen=True)
class Trend:
    trigger: Trigger
    subject: Mention | None
    metric: tuple[int, ...] = ()


@dataclass(frozen=True)
class Equality:
    word: str
    subject: Mention
    obj: Mention
    negated: bool
    metric: tuple[int, ...] = ()


@dataclass
class ParsedClaim:
    """Everything the checks need: mentions, statements, and the focus rows/columns."""

    claim: str
    norm: str
    mentions: list[Mention]
    numbers: list[NumberMention]
    comparisons: list[Comparison] = field(default_factory=list)
    superlatives: list[Superlative] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    equalities: list[Equality] = field(default_factory=list)
    quantifier: Quantifier = ""
    aggregate: bool = False

    def reasoning_type(self) -> ReasoningType:
        """One tag per claim, most specific first (for per-type accuracy in the bench)."""
        if self.trends:
            return "trend"
        if self.superlatives:
            return "superlative"
        if self.comparisons and any(n.unit in ("%", "points", "x") for n in self.numbers):
            return "difference"
        if self.aggregate or self.quantifier in ("all", "most", "none"):
            return "aggregate"
        if self.comparisons or self.equalities:
            return "comparison"
        return "other"


def _sense(word: str, nxt: str) -> tuple[Sense, int] | None:
    if word in ("more", "less") and nxt.endswith(_ADJ_ENDINGS):
        return "goodness", 1 if word == "more" else -1
    if word in BETTER:
        return "goodness", 1
    if word in WORSE:
        return "goodness", -1
    if word in HIGHER:
        return "value", 1
    if word in LOWER:
        return "value", -1
    return None


def triggers(norm: str) -> list[Trigger]:
    """Direction words of the claim, with their sense and whether a negation precedes them."""
    spans = token_spans(norm)
    out = []
    for i, (word, start, _end) in enumerate(spans):
        nxt = spans[i + 1][0] if i + 1 < len(spans) else ""
        got = _sense(word, nxt)
        prev = spans[i - 1][0] if i else ""
        if word in ("most", "least") and prev not in ("the", "our", "it", "its", "their"):
            continue  # 'most instances' counts, 'the most accurate' ranks
        if got is not None:
            lo = max(clause(norm, start)[0], start - NEGATION_SCOPE, _last_join(norm, start))
            out.append(
                Trigger(word, start, got[0], got[1], negated_before(norm, start, start - lo))
            )
    return out


def _last_join(norm: str, pos: int) -> int:
    """End of the last ' and ' / ', ' / ' or ' before `pos`: a negation does not reach across
    a coordination ('does not fragment X and increases Y')."""
    return max((m.end() for m in re.finditer(r" and |, | or ", norm[:pos])), default=0)


def _word_near(norm: str, start: int, words: frozenset[str], window: int = 60) -> str:
    lo, hi = max(0, start - window), start + window
    for word, _s, _e in token_spans(norm[lo:hi]):
        if word in words:
            return word
    return ""


def _quantifier(norm: str, start: int) -> Quantifier:
    if _word_near(norm, start, ALL_WORDS):
        return "all"
    if _word_near(norm, start, NONE_WORDS):
        return "none"
    if _word_near(norm, start, MOST_WORDS):
        return "most"
    return ""


_BOUNDARY = re.compile(
    r"[.;:!?](?:\s|$)|,\s*(?:and|but|while|whereas|although|though|which|whereas|however)\b"
    r"|\b(?:while|whereas|but|although|though)\b"
)
_SUBORDINATE = re.compile(r"\s*(?:\[continue\]\s*)?(?:although|though|while|whereas|if|when)\b")
NEGATION_SCOPE = 60  # characters before a trigger, within its clause, a negation reaches
_METRIC_GAP = 24  # characters after a trigger within which a named column is its metric


def _disjoint(a: Mention, b: Mention) -> bool:
    return a.axis == b.axis and not set(a.indices) & set(b.indices)


def clause(norm: str, pos: int) -> tuple[int, int]:
    """The clause around `pos`: from the boundary before it to the boundary after it."""
    lo, hi = 0, len(norm)
    for m in _BOUNDARY.finditer(norm):
        if m.end() <= pos:
            lo = m.end()
        elif m.start() >= pos:
            hi = m.start()
            break
    opening = _SUBORDINATE.match(norm, lo)
    if opening:  # 'although A is slower, B is the best': the comma ends the first clause
        comma = norm.find(", ", opening.end(), pos)
        if comma >= 0:
            lo = comma + 2
    return lo, hi


def masked(norm: str, mentions: list[Mention]) -> str:
    """The claim with named rows and columns blanked ('No-reg' holds no negation)."""
    chars = list(norm)
    for m in mentions:
        chars[m.start : m.end] = " " * (m.end - m.start)
    return "".join(chars)


@dataclass(frozen=True)
class Roles:
    subject: Mention | None
    obj: Mention | None
    metric: tuple[int, ...]  # other-axis indices the clause names, () for "all in focus"
    excluded: tuple[Mention, ...] = ()  # named after 'except'


_OBJECT_CUE = re.compile(
    r"(?:than|over|compared (?:to|with)|against|vs\.?|versus|relative to|to that of|"
    r"those of|that of)\s*(?:the\s+)?$"
)


def _marked(norm: str, m: Mention) -> bool:
    """A mention introduced as the object: 'than X', 'over X', 'compared to X'."""
    return bool(_OBJECT_CUE.search(norm[max(0, m.start - 24) : m.start]))


def _pair_on(norm: str, axis: str, before: list[Mention], after: list[Mention]) -> tuple[Any, Any]:
    """Subject: the first unmarked mention of `axis` before the trigger (the clause's subject).
    Object: a marked one ('than C', 'compared to C'), else the first disjoint one after the
    trigger, else another one before it ('A and B: B is better')."""
    b = [m for m in before if m.axis == axis]
    a = [m for m in after if m.axis == axis]
    unmarked = [m for m in b if not _marked(norm, m)]
    subject = unmarked[0] if unmarked else None
    if subject is None:
        return None, None
    rest = [m for m in b + a if m is not subject and _disjoint(m, subject)]
    obj = next((m for m in rest if _marked(norm, m)), None)
    if obj is None:
        obj = next((m for m in a if _disjoint(m, subject)), None)
    if obj is None:
        obj = next((m for m in b if _disjoint(m, subject)), None)
    return subject, obj


_EXCEPT = re.compile(r"(?:except(?: for)?|other than|apart from|excluding|but not)\s*(?:the\s+)?$")


def _excepted(norm: str, m: Mention) -> bool:
    """'all oracle models except es-en Bio': the mention is carved out of the claim."""
    return bool(_EXCEPT.search(norm[max(0, m.start - 20) : m.start]))


def _from_to(norm: str, inside: list[Mention], pos: int) -> tuple[Any, Any]:
    """'from A to B' after a change word: B is the subject (it rose or fell), A the object."""
    after = [m for m in inside if m.start >= pos]
    for a, b in zip(after, after[1:], strict=False):
        if (
            a.axis == b.axis
            and _disjoint(a, b)
            and norm[max(0, a.start - 6) : a.start].strip().endswith("from")
            and norm[a.end : b.start].strip() in ("to", "to the")
        ):
            return b, a
    return None, None


def roles(
    mentions: list[Mention], norm: str, pos: int, mode: Literal["pair", "extreme", "trend"] = "pair"
) -> Roles:
    """Subject, object and metric of the trigger at `pos`, within its clause. A column named
    right after a trigger ('decreases recall', 'the highest success rate') is its metric;
    mentions after 'except' are set aside."""
    lo, hi = clause(norm, pos)
    inside = [m for m in mentions if m.start >= lo and m.end <= hi]
    excluded = tuple(m for m in inside if _excepted(norm, m))
    inside = [m for m in inside if m not in excluded]
    metric_m = [m for m in inside if m.axis == "col" and pos <= m.start <= pos + _METRIC_GAP]
    rest = [m for m in inside if m not in metric_m[:1]]
    before = [m for m in rest if m.end <= pos]
    after = [m for m in rest if m.start >= pos]
    subject = obj = None
    superlative = mode != "pair"
    if not superlative:
        subject, obj = _from_to(norm, rest, pos)
        if subject is None and before:
            subject, obj = _pair_on(norm, before[-1].axis, before, after)
    if subject is None:
        unmarked = [m for m in before if not _marked(norm, m)]
        if superlative:  # named metrics ('the lowest WER and DCE') are not the subject
            unmarked += [m for m in after if not _marked(norm, m)]
            if mode == "extreme":
                unmarked = [m for m in unmarked if not _is_metric(m)] or unmarked
        subject = unmarked[0] if unmarked and not superlative else _closest(unmarked, pos)
    metric = [m for m in inside if subject is None or m.axis != subject.axis]
    idx = tuple(sorted({i for m in metric for i in m.indices}))
    return Roles(subject, obj, idx, excluded)


def _is_metric(m: Mention) -> bool:
    """A column named like a measure (F1, WER, accuracy, success rate)."""
    names = " ".join(normalize(n) for n in m.names)
    return m.axis == "col" and bool(HIGHER_METRIC.search(names) or LOWER_IS_BETTER.search(names))


def _passive_negation(norm: str, t: Trigger, r: Roles) -> Trigger:
    """'the best score is not achieved by X': a negation between the trigger and a subject
    named after it negates the superlative."""
    s = r.subject
    if t.negated or s is None or s.start <= t.start:
        return t
    if negated_before(norm, s.start, s.start - t.start):
        return Trigger(t.word, t.start, t.sense, t.direction, True)
    return t


def _closest(mentions: list[Mention], pos: int) -> Mention | None:
    if not mentions:
        return None
    return min(mentions, key=lambda m: (min(abs(m.start - pos), abs(m.end - pos)), m.axis))


def _is_trend(norm: str, t: Trigger) -> bool:
    window = norm[max(0, t.start - 40) : t.start + 60]
    verb = not t.word.endswith(("er", "est")) and t.word not in ("more", "less", "most", "least")
    return t.sense == "value" and verb and any(cue in window for cue in _TREND_CUES)


def _magnitude(norm: str, pos: int) -> Literal["small", "large", ""]:
    near = _word_near(norm, pos, SMALL | LARGE, 30)
    if not near:
        return ""
    return "small" if near in SMALL else "large"


def parse(view: TableView, claim: str) -> ParsedClaim:
    """Statements of `claim` about the table in `view`."""
    norm = normalize(claim)
    mentions = link(view, claim)
    pc = ParsedClaim(claim, norm, mentions, claim_numbers(claim))
    pc.quantifier = _claim_quantifier(norm)
    pc.aggregate = _has_any(norm, AGGREGATE)
    for t in triggers(masked(norm, mentions)):
        q = _quantifier(norm, t.start)
        if t.word in SUPERLATIVE:
            r = roles(mentions, norm, t.start, "extreme")
            pc.superlatives.append(
                Superlative(_passive_negation(norm, t, r), r.subject, q, r.metric)
            )
        elif _is_trend(norm, t):
            r = roles(mentions, norm, t.start, "trend")
            pc.trends.append(Trend(t, r.subject, r.metric))
        else:
            r = roles(mentions, norm, t.start)
            if r.subject is not None:
                mag = _magnitude(norm, t.start)
                pc.comparisons.append(Comparison(t, r.subject, r.obj, q, mag, r.metric, r.excluded))
    _equalities(pc)
    return pc


def _claim_quantifier(norm: str) -> Quantifier:
    for quantifier, lexicon in (("all", ALL_WORDS), ("none", NONE_WORDS), ("most", MOST_WORDS)):
        if _has_any(norm, lexicon):
            return quantifier  # type: ignore[return-value]
    return ""


def _has_any(norm: str, words: frozenset[str]) -> bool:
    return any(w in words for w, _s, _e in token_spans(norm))


def _equalities(pc: ParsedClaim) -> None:
    text = masked(pc.norm, pc.mentions)
    for word, start, _end in token_spans(text):
        if word not in EQUAL:
            continue
        r = roles(pc.mentions, pc.norm, start)
        if r.subject is not None and r.obj is not None:
            neg = negated_before(text, start)
            pc.equalities.append(Equality(word, r.subject, r.obj, neg, r.metric))
