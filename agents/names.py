"""Name matching: does a text name a method, model or system, in any derived form ("SMoES's",
"SMoES-based", "SMoES-routed", "FlexMoEs"), without ever equating two different names that
share a prefix ("SMoE" is not "SMoES") or a name with a common word ("HAWK" the method is not
"Hawk" of "Hawk Eye"). Every match says which form it was, so a run can record why it matched.

Rules, per name token against a text token:
- derived forms are reduced to their base first: a possessive, a trailing "-based"/"-routed"/
  "-style"-like suffix after a name, or a plural "s" after a capital or digit ("VLMs");
- the bases must be equal ignoring case, never one a prefix of the other;
- a name with distinctive casing ("HAWK", "SMoES", "GPT-4") matches only tokens with
  distinctive casing too ("SMOES" yes; "Hawk", "hawk" no);
- an ordinarily capitalised one-word name ("Grove") must not run on into a longer name
  ("Grove Street" is another name)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DERIVATIONS = frozenset(
    [
        "based",
        "routed",
        "style",
        "styled",
        "like",
        "guided",
        "driven",
        "powered",
        "enhanced",
        "augmented",
        "equipped",
        "inspired",
        "specific",
        "only",
        "variant",
        "variants",
        "family",
        "series",
        "type",
    ]
)
_EDGE = "()[]{}\"'“”‘’`,;:?!.*"
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_TOKEN = re.compile(r"[^\s/]+")


@dataclass(frozen=True)
class Token:
    raw: str  # as written, edge punctuation removed
    base: str  # derived forms reduced ("SMoES-based" -> "SMoES")
    form: str  # "", "X's", "X-based", "Xs" ... : how `raw` derives from `base`
    start: int
    end: int


@dataclass(frozen=True)
class NameMatch:
    name: str  # the name looked for
    written: str  # the words of the text that name it
    form: str  # "exact", "case variant", "X-based", "X's", "Xs", ...
    start: int

    def reason(self) -> str:
        how = "as written" if self.form == "exact" else f"in the form {self.form}"
        return f"'{self.written}' names {self.name} {how}"


def distinctive(word: str) -> bool:
    """Casing no common word has: an upper-case letter after the first character of one of
    its hyphenated parts ('SMoES', 'HAWK', 'Flash-VL', 'GPT-4'; not 'Mixture-of-Experts')."""
    return any(any(c.isupper() for c in part[1:]) for part in word.split("-"))


# acronyms that name no method: hardware, fields, model classes, units
GENERIC_ACRONYMS = frozenset(
    ["GPU", "GPUs", "CPU", "CPUs", "TPU", "RAM", "API", "AI", "ML", "NLP", "CV", "RL", "LLM"]
    + ["LLMs", "VLM", "VLMs", "MLLM", "MLLMs", "CNN", "RNN", "GAN", "MoE", "SOTA", "GB", "MB"]
    + ["KB", "TB", "GHz", "MHz", "FLOPs", "US", "UK", "EU"]
)


def names_another(text: str, own: list[str]) -> bool:
    """Does `text` name a method other than `own` ('FastV reduces latency by 40%' in HAWK's
    paper)? Class plurals ('MLLMs') and generic acronyms ('GPU') name nobody."""
    mine = {t.base.lower() for name in own for t in tokens(name)}
    for tok in tokens(text):
        base = tok.base
        if not distinctive(base) or tok.form == "Xs" or base in GENERIC_ACRONYMS:
            continue
        if base.lower() not in mine and len(base) > 1:
            return True
    return False


def _is_name(word: str) -> bool:
    return bool(word) and (word[0].isupper() or distinctive(word) or any(c.isdigit() for c in word))


def reduce(word: str) -> tuple[str, str]:
    """(base, form) of one written word: possessive, derivational suffix, acronym plural."""
    form = ""
    if _POSSESSIVE.search(word) and len(word) > 2:
        word, form = _POSSESSIVE.sub("", word), "X's"
    head, _, tail = word.rpartition("-")
    if head and tail in DERIVATIONS and _is_name(head):
        word, form = head, f"X-{tail}"
    if re.search(r"[A-Z0-9]s$", word) and len(word) > 2:
        word, form = word[:-1], form or "Xs"
    return word, form


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    for m in _TOKEN.finditer(text):
        raw = m.group(0).strip(_EDGE)
        if not raw:
            continue
        start = m.start() + m.group(0).find(raw)
        base, form = reduce(raw)
        out.append(Token(raw, base, form, start, start + len(raw)))
    return out


def _same(name_word: str, token: Token) -> bool:
    if name_word.lower() != token.base.lower():
        return False
    if distinctive(name_word):
        return distinctive(token.base) or token.base.isupper() and len(token.base) > 1
    if name_word[:1].isupper() and "-" not in name_word:
        return token.base[:1].isupper()  # 'Hawk' the name, not 'hawk' the word
    return True


def _title_case(toks: list[Token]) -> bool:
    words = [t.raw for t in toks if len(t.raw) > 3 and t.raw[:1].isalpha()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) / len(words) > 0.6


def _runs_on(name_words: list[str], text: str, toks: list[Token], after: int) -> bool:
    """An ordinary one-word name followed, with nothing but a space between, by another
    capitalised word is part of a longer name ('Hawk Eye')."""
    word = name_words[0]
    if len(name_words) != 1 or distinctive(word) or "-" in word or after >= len(toks):
        return False
    if _title_case(toks):
        return False  # in a Title Case Title every word is capitalised: no boundary to read
    gap = text[toks[after - 1].end : toks[after].start]
    return toks[after].raw[:1].isupper() and not gap.strip()


def _plain_form(written: str, name: str) -> str:
    if written == name:
        return "exact"
    return "case variant" if written.lower() == name.lower() else "singular of a plural name"


def find(name: str, text: str, runs: bool = True) -> NameMatch | None:
    """The first place `text` names `name` (any derived form), or None. `runs=False` lets an
    ordinary one-word name run on ('Winoground Benchmark' names the benchmark)."""
    words = [t.base for t in tokens(name)] or [name]
    toks = tokens(text)
    for i in range(len(toks) - len(words) + 1):
        window = toks[i : i + len(words)]
        if not all(_same(w, t) for w, t in zip(words, window, strict=True)):
            continue
        if runs and _runs_on(words, text, toks, i + len(words)):
            continue
        last = window[-1]
        written = text[window[0].start : last.end]
        form = last.form or _plain_form(written, name)
        return NameMatch(name, written, form, window[0].start)
    return None


def mentions(name: str, text: str) -> bool:
    return find(name, text) is not None


def find_any(names: Iterable[str], text: str) -> NameMatch | None:
    """The first of `names` (a name and its aliases) that `text` names."""
    for name in names:
        if name and (hit := find(name, text)) is not None:
            return hit
    return None


def look_alike(a: str, b: str) -> bool:
    """Two different names one of which extends the other ('SMoE'/'SMoES', 'HAWK'/'Hawk
    Eye'): the pairs a careless match would equate."""
    x, y = a.lower(), b.lower()
    return x != y and (x.startswith(y) or y.startswith(x))


_DEFINED = re.compile(r"\(([A-Za-z][\w.\-]*[A-Z][\w.\-]*)\)")


def _long_form(before: str, acronym: str) -> str | None:
    """The words before '(ACRO)' whose initials spell the acronym's capitals ('Soft
    Modality-guided Expert Specialization (SMoES)'; 'Mixture-of-Experts (MoE)')."""
    caps = [c.lower() for c in acronym if c.isupper()]
    words = before.split()
    for n in range(1, len(caps) + 1):
        span = words[-n:] if len(words) >= n else []
        parts = [p for w in span for p in re.split(r"-(?:of-|and-|the-)?", w) if p]
        if span and [p[0].lower() for p in parts] == caps:
            return " ".join(span).strip(",;:")
        if span and [w[0].lower() for w in span] == caps:
            return " ".join(span).strip(",;:")
    return None


def definitions(text: str) -> list[tuple[str, str]]:
    """(acronym, long form) pairs a text defines: 'Long Form (ACRO)'."""
    out: list[tuple[str, str]] = []
    for m in _DEFINED.finditer(text):
        long_form = _long_form(text[: m.start()], m.group(1))
        if long_form:
            out.append((m.group(1), long_form))
    return out


def aliases_in(name: str, texts: Iterable[str]) -> list[str]:
    """Other names `texts` define for `name`: its acronym when `name` is the long form
    ('Mixture-of-Experts' -> 'MoE'), its long form when `name` is the acronym."""
    key = name.lower()
    out: list[str] = []
    for text in texts:
        for acronym, long_form in definitions(text):
            if long_form.lower() == key and acronym not in out:
                out.append(acronym)
            elif acronym.lower() == key and long_form not in out:
                out.append(long_form)
    return out
