"""The words a table claim is read by: tokens, the numbers it states (with their unit and
bound), and the small lexicons of direction, negation, hedging and quantity. Kept apart from
the checks so the same reading feeds both the statements and the lexical features."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "\u2014": " ", "\u00a0": " "})
_TOKEN = re.compile(r"[a-z0-9]+")
_STEM_KEEP = {"ss", "us", "is"}

Bound = Literal["eq", "gt", "lt", "approx"]
NumberUnit = Literal["%", "points", "x", ""]


def normalize(text: str) -> str:
    """Lower case, one kind of minus, SciTab's [CONTINUE]/[BOLD] marks dropped."""
    text = re.sub(r"\[(CONTINUE|BOLD|ITALIC|EMPTY)\]", " ", text, flags=re.IGNORECASE)
    return text.translate(_MINUS).lower()


def stem(token: str) -> str:
    """A light plural stem, so 'turns' meets 'turn' and 'precisions' meets 'precision'."""
    if len(token) > 3 and token.endswith("s") and token[-2:] not in _STEM_KEEP:
        return token[:-1]
    return token


def tokens(text: str) -> list[str]:
    """Alphanumeric runs of the normalised text, stemmed ('OD-parse' -> ['od', 'parse'])."""
    return [stem(t) for t in _TOKEN.findall(normalize(text))]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """(stemmed token, start, end) in the normalised text, for placing words by position."""
    norm = normalize(text)
    return [(stem(m.group(0)), m.start(), m.end()) for m in _TOKEN.finditer(norm)]


def words(text: str) -> frozenset[str]:
    """A lexicon in the stemmed form `tokens` produces."""
    return frozenset(stem(w) for w in text.split())


STOPWORDS = words(
    "a an the of in on at to for by with and or as is are was were be been being than that this "
    "these those it its from into we our they their which while when also both all any each can "
    "does do did has have had not no more most less very much such other over under between "
    "using use used model models method methods table results result"
)


@dataclass(frozen=True)
class NumberMention:
    """A number the claim states: value, decimals written, unit and bound ('over 20%': gt)."""

    value: float
    decimals: int
    unit: NumberUnit
    bound: Bound
    start: int
    end: int
    text: str
    negated: bool = False  # 'is not 22.3'


_NUM = re.compile(
    r"(?<![\w.\-+])(?P<sign>[-+])?(?P<num>\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)"
    r"(?P<unit>\s*(?:%|percent(?:age)?\s*points?|percent|pp\b|points?\b|pts?\b|x\b|×|times\b"
    r"|-?fold\b))?"
)
_SKIP_BEFORE = re.compile(
    r"(table|tab\.|figure|fig\.|section|sec\.|eq\.|equation|appendix|row|rows|column|"
    r"columns|layer|layers|line|lines|step|version|v|top|@|p\s*[<=>≤≥]|p-value\s*[<=>≤≥])\s*$"
)
_GT = re.compile(r"(over|more than|above|at least|exceed(?:s|ing)?|greater than|beyond|>|≥)\s*$")
_LT = re.compile(r"(under|less than|below|at most|fewer than|up to|within|<|≤)\s*$")
_APPROX = re.compile(r"(about|around|approximately|roughly|nearly|almost|close to|~|≈)\s*$")


def _unit(raw: str | None) -> NumberUnit:
    u = (raw or "").strip()
    if not u:
        return ""
    if "point" in u or u in ("pp", "pt", "pts"):
        return "points"
    if u in ("%", "percent", "percentage"):
        return "%"
    return "x"


def _is_year(value: float, text: str, after: str) -> bool:
    return 1950 <= value <= 2030 and "." not in text and (after.startswith(")") or "," in after[:2])


def claim_numbers(claim: str) -> list[NumberMention]:
    """Numbers a claim states as values: not table/figure/section references, p-values, years
    of citations, or digits inside names ('BLEU-4', 'A4', 'w2v')."""
    norm = normalize(claim)
    out: list[NumberMention] = []
    for m in _NUM.finditer(norm):
        before = norm[max(0, m.start() - 24) : m.start()]
        after = norm[m.end() : m.end() + 3]
        text = m.group("num")
        if _SKIP_BEFORE.search(before) or re.match(r"[a-z]|-[a-z]", after) or before.endswith("="):
            continue
        value = float(text.replace(",", ""))
        if m.group("sign") == "-":
            value = -value
        if _is_year(value, text, after):
            continue
        decimals = len(text.split(".")[1]) if "." in text else 0
        bound: Bound = "eq"
        if _GT.search(before):
            bound = "gt"
        elif _LT.search(before):
            bound = "lt"
        elif _APPROX.search(before):
            bound = "approx"
        unit = _unit(m.group("unit"))
        neg = bool(re.search(r"(?:\bnot|n't|\bnever)\s+(?:\w+\s+)?$", before[-16:]))
        out.append(NumberMention(value, decimals, unit, bound, m.start(), m.end(), text, neg))
    return out


# --- lexicons ---------------------------------------------------------------------------------
# Goodness words say which side is better; value words say which side is larger. Which one a
# claim used matters on columns where lower is better (error, loss, perplexity, WER).
BETTER = words(
    "outperform outperforms outperformed outperforming better best improve improves improved "
    "improving improvement improvements beat beats surpass surpasses surpassed superior gain "
    "gains benefit benefits helps help boost boosts boosted advantage stronger strongest "
    "effective win wins won"
)
WORSE = words(
    "worse worst underperform underperforms underperformed inferior hurt hurts degrade degrades "
    "degraded degradation weaker weakest loses lose lost harm harms poorly poor fail fails"
)
HIGHER = words(
    "higher highest increase increases increased increasing larger largest greater greatest more "
    "most rise rises grows grow exceed exceeds bigger biggest raise raises"
)
LOWER = words(
    "lower lowest decrease decreases decreased decreasing smaller smallest less least drop drops "
    "dropped declines decline reduce reduces reduced reduction fall falls fewer "
    "fewest shrink shrinks"
)
SUPERLATIVE = words(
    "best worst highest lowest largest smallest greatest most least top "
    "strongest weakest biggest fewest"
)
ALL_WORDS = words("all every always consistently each both universally entire")
MOST_WORDS = words("most majority generally mostly usually typically overall")
NONE_WORDS = words("none neither nor never")
NEGATION = words("not no never neither nor cannot without fail fails failed lack lacks")
HEDGE = words(
    "seem seems may might could suggest suggests likely possibly perhaps appear appears "
    "indicate indicates probably somewhat"
)
SMALL = words(
    "slightly marginally little slight marginal small comparable similar similarly "
    "close same par roughly insignificant negligible minor modest limited"
)
LARGE = words(
    "significantly significant substantially substantial large greatly much "
    "considerably dramatically drastically huge remarkably far clearly"
)
CAUSAL = words(
    "because since due therefore thus hence reason explain explains suggests "
    "shows demonstrate demonstrates confirm confirms prove proves"
)
EQUAL = words("same equal identical similar comparable par tie ties tied")
TREND = words("as grows grow increasing decreasing trend steadily gradually")
AGGREGATE = words("average mean total sum overall combined aggregate averaged")
_NEG_PHRASE = re.compile(r"n't\b|\bnot\b|\bno\b|\bnever\b|\bfails? to\b|\bcannot\b|\bnone\b")

# Columns where a lower value is the better one.
LOWER_IS_BETTER = re.compile(
    r"\b(error|errors|err|loss|perplexity|ppl|wer|cer|ser|ter|mae|mse|rmse|latency|time|"
    r"runtime|cost|eer|miss|missed|wrong|distance|turns|length|rank|mr|medr|fpr|far|hter)\b|↓"
)
HIGHER_IS_BETTER = re.compile(r"↑")
LOWER_STATED = re.compile(r"lower (?:is|are|values are|scores are) better|the lower,? the better|↓")
HIGHER_METRIC = re.compile(
    r"\b(acc|accuracy|f1|f-score|f-measure|bleu|meteor|rouge|cider|precision|recall|auc|map|"
    r"mrr|ndcg|score|succ|success|p@\d|r@\d|hits)"
)


def negated_before(claim_norm: str, position: int, window: int = 28) -> bool:
    """A negation within a few words before `position` ('does not outperform')."""
    return bool(_NEG_PHRASE.search(claim_norm[max(0, position - window) : position]))


def count_negations(claim: str) -> int:
    return len(_NEG_PHRASE.findall(normalize(claim)))
