"""Table-cell parsing shared by every reader and by the table-claim verifier: a cell's display
text, its number, unit and ± part, and whether it was bold or italic. A claim such as
"improves top-1 by 2.3 points" can only be checked against numbers, and the winning cell of a
results table is usually the bold one, so both survive parsing; the text is kept as written."""

from __future__ import annotations

import re
from dataclasses import dataclass

from memory.text import normalize_text

# Markup that only styles a cell. Bold/italic wrappers set a flag; the rest is dropped.
_BOLD_CMDS = ("textbf", "mathbf", "bf", "bm", "boldsymbol", "bfseries")
_ITALIC_CMDS = ("textit", "emph", "mathit", "it", "itshape", "textsl")
# \multicolumn{2}{c}{X} and \multirow{2}{*}{X}: only X is content.
_SPAN = re.compile(r"\\multi(?:column|row)\s*\{[^{}]*\}\s*\{[^{}]*\}\s*")
_WRAP = re.compile(r"\\([A-Za-z]+)\s*\{")
_SWITCH = re.compile(r"\{\\(bf|it|bfseries|itshape)\s+")
_SCITAB_MARK = re.compile(r"\[(BOLD|ITALIC|EMPTY)\]", re.IGNORECASE)
_SPACES = re.compile(r"\s+")

# Minus signs and dashes that a leading position makes a minus; thin spaces used as separators.
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "\ufe63": "-", "\uff0d": "-"})
_THIN = re.compile(r"[\u2009\u202f\u00a0]")

_NUM = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?"
_UNIT = (
    r"%|‰|pp|points?|pts?|ms|µs|us|ns|s|sec|min|h|hrs?|x|×|k|K|M|B|G|T|GB|MB|KB|TB|"
    r"GiB|MiB|tokens/s|tok/s|it/s|samples/s|img/s|FPS|fps|Hz|kHz|MHz|GHz|dB|W|kW|J|°C|C|"
    r"GFLOPs?|TFLOPs?|FLOPs?|params|mm|cm|m|km|kg|g"
)
_PM = r"(?:±|\+/-|\+-|\\pm)"
_CELL = re.compile(
    rf"^\s*(?P<num>{_NUM})\s*(?P<unit>{_UNIT})?"
    rf"(?:\s*{_PM}\s*(?P<pm>{_NUM})\s*(?P<pmunit>{_UNIT})?)?"
    r"\s*(?:\((?P<paren>[^()]*)\))?\s*(?P<marks>[*†‡§¶♠♣♦♥#^]*)\s*$"
)


@dataclass(frozen=True)
class ParsedCell:
    """What `parse_cell` read out of one cell."""

    text: str
    number: float | None = None
    unit: str | None = None
    pm: float | None = None
    bold: bool = False
    italic: bool = False


def _strip_wrappers(text: str) -> tuple[str, bool, bool]:
    """Remove \\cmd{...} wrappers (innermost first), noting bold and italic ones."""
    bold = italic = False
    for _ in range(20):  # nested markup is shallow; the bound guards malformed input
        m = _WRAP.search(text)
        if m is None:
            break
        cmd = m.group(1)
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        inner = text[m.end() : i - 1] if depth == 0 else text[m.end() :]
        bold |= cmd in _BOLD_CMDS
        italic |= cmd in _ITALIC_CMDS
        text = text[: m.start()] + inner + text[i:]
    for m in _SWITCH.finditer(text):
        bold |= m.group(1) in ("bf", "bfseries")
        italic |= m.group(1) in ("it", "itshape")
    text = _SWITCH.sub("{", text)
    return text, bold, italic


def clean_cell_text(raw: str) -> tuple[str, bool, bool]:
    """Display text of a cell without styling markup, and its bold/italic flags."""
    bold = italic = False
    marks = {m.upper() for m in _SCITAB_MARK.findall(raw)}
    bold |= "BOLD" in marks
    italic |= "ITALIC" in marks
    text = _SCITAB_MARK.sub(" ", normalize_text(raw))  # the kernel's one text hygiene pass
    text = _SPAN.sub("", text)
    text, b, i = _strip_wrappers(text)
    bold |= b
    italic |= i
    text = text.replace("\\pm", "±").replace("\\%", "%").replace("\\times", "×")
    text = text.replace("\\ddagger", "‡").replace("\\dagger", "†").replace("\\ast", "*")
    text = re.sub(r"\^\s*\{?(?=[†‡*])", "", text)  # superscript significance marks
    text = re.sub(r"(?<!\\)\$", "", text)  # inline-math dollars around a number
    text = text.replace("{", "").replace("}", "").replace("\\,", " ").replace("~", " ")
    text = _THIN.sub(" ", text)
    return _SPACES.sub(" ", text).strip(), bold, italic


def _to_float(s: str | None) -> float | None:
    if s is None or not re.search(r"\d", s):
        return None
    try:
        return float(s.replace(",", ""))
    except ValueError:
        return None


def _unit(u: str | None) -> str | None:
    if not u:
        return None
    return "x" if u == "×" else u


def parse_number(text: str) -> tuple[float | None, str | None, float | None]:
    """(number, unit, ±) of a cell whose whole content is one measured value, else Nones.

    A cell that also holds words ("BERT 85.3", "top-1") gives no number: reading a number out of
    a label would let a verifier compare the wrong thing."""
    s = text.translate(_MINUS)
    s = _THIN.sub(" ", s).strip()
    s = re.sub(r"^-\s+(?=\d)", "-", s)  # "- 1.2" typeset with a gap after the minus
    m = _CELL.match(s)
    if m is None:
        return None, None, None
    number = _to_float(m.group("num"))
    if number is None:
        return None, None, None
    unit = _unit(m.group("unit") or m.group("pmunit"))
    pm = _to_float(m.group("pm"))
    paren = m.group("paren")
    if pm is None and paren:
        pm_in = re.fullmatch(rf"\s*{_PM}\s*({_NUM})\s*", paren.translate(_MINUS))
        pm = _to_float(pm_in.group(1)) if pm_in else None
    return number, unit, (abs(pm) if pm is not None else None)


def parse_cell(raw: str) -> ParsedCell:
    """Parse one cell as written in LaTeX, SciTab (`[BOLD]` marks) or extracted from a PDF."""
    text, bold, italic = clean_cell_text(raw)
    number, unit, pm = parse_number(text)
    return ParsedCell(text=text, number=number, unit=unit, pm=pm, bold=bold, italic=italic)
