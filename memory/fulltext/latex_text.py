"""LaTeX text helpers for the e-print reader: balanced-brace reading, inline markup to readable
text (math kept as `$...$`), tabular environments to cells, and .bbl entries to references.

Not a TeX engine: macros with arguments are not expanded and unknown commands keep their
braced text, so an unusual paper reads with some markup residue rather than losing words."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from memory.fulltext.model import Cell
from memory.text import clean_whitespace

_CITE = re.compile(
    r"\\(?:cite[a-zA-Z]*|[pP]arencite|[tT]extcite|autocite|footcite|nocite)\*?"
    r"\s*(?:\[[^\]]*\]\s*){0,2}\{([^{}]*)\}"
)
_REF = re.compile(r"\\(?:ref|eqref|autoref|cref|Cref|pageref|nameref)\*?\s*\{([^{}]*)\}")
_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303",
            "=": "\u0304", ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306",
            "H": "\u030b", "k": "\u0328"}  # fmt: skip
_ACCENT = re.compile(r"\\([`'^\"~=.]|[cvuHk](?=[\s{]))\s*(?:\{\\?([A-Za-z])\}|\\?([A-Za-z]))")
_SYMBOLS = {
    r"\%": "%", r"\&": "&", r"\_": "_", r"\#": "#", r"\$": "\x00DOLLAR\x00", r"\{": "{",
    r"\}": "}",
}  # fmt: skip
_WORD_SYMBOLS = {
    "ldots": "…", "dots": "…", "textasciitilde": "∼", "texttildelow": "∼", "S": "§", "ss": "ß",
    "o": "ø", "ae": "æ", "textendash": "–", "textemdash": "—", "textbar": "|",
}  # fmt: skip
_WORD_SYMBOL = re.compile(r"\\(" + "|".join(_WORD_SYMBOLS) + r")(?![A-Za-z])\s*(?:\{\})?")
_DROP_ARG = re.compile(
    r"\\(?:label|vspace|hspace|includegraphics|color|arrayrulecolor|rowcolor|cellcolor"
    r"|setlength|addtolength|phantom|hphantom|vphantom|bibliographystyle|bibliography"
    r"|thanks|Thanks|footnotemark|linewidth|columnwidth|textwidth)\*?\s*(?:\[[^\]]*\])?"
    r"(?:\s*\{[^{}]*\})*"
)
_DROP_CMD = re.compile(
    r"\\(?:centering|raggedright|raggedleft|noindent|small|footnotesize|scriptsize|tiny|large"
    r"|Large|LARGE|huge|Huge|normalsize|bfseries|itshape|rmfamily|sffamily|ttfamily|xspace"
    r"|maketitle|newpage|clearpage|medskip|smallskip|bigskip|par|hline|toprule|midrule"
    r"|bottomrule|nobreak|protect|relax|centerline|appendix)\b\s*"
)
_MATH = re.compile(r"(\$\$.+?\$\$|\$.+?\$|\\\(.+?\\\)|\\\[.+?\\\])", re.S)


def read_group(text: str, start: int) -> tuple[str, int]:
    """The content of the brace group opening at text[start] ('{'), and the index after it."""
    if start >= len(text) or text[start] != "{":
        return "", start
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0:
            return text[start + 1 : i], i + 1
        i += 1
    return text[start + 1 :], len(text)


def command_arg(text: str, name: str) -> str | None:
    """The first braced argument of the first \\name in text."""
    m = re.search(rf"\\{name}\*?\s*(?:\[[^\]]*\])?\s*(?=\{{)", text)
    return read_group(text, m.end())[0] if m else None


def split_top(text: str, sep: str) -> list[str]:
    """Split at `sep` outside braces (cells at '&', rows at '\\\\')."""
    parts, depth, last, i = [], 0, 0, 0
    while i < len(text):
        if text.startswith(sep, i) and depth == 0 and (sep != "&" or text[i - 1 : i] != "\\"):
            parts.append(text[last:i])
            i += len(sep)
            last = i
            continue
        if text[i] == "\\" and not text.startswith(sep, i):
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    parts.append(text[last:])
    return parts


def _accent(m: re.Match[str]) -> str:
    letter = m.group(2) or m.group(3) or ""
    return unicodedata.normalize("NFC", letter + _ACCENTS.get(m.group(1), ""))


def _unwrap(text: str) -> str:
    """\\cmd{x} -> x for any remaining command; bare commands dropped; braces removed."""
    for _ in range(6):
        new = re.sub(r"\\[A-Za-z]+\*?\s*(?:\[[^\]]*\])?\s*\{([^{}]*)\}", r"\1", text)
        if new == text:
            break
        text = new
    text = re.sub(r"\\[A-Za-z]+\*?", " ", text)
    return text.replace("{", "").replace("}", "")


_SIZE_ARGS = re.compile(
    r"\\(?:raisebox|scalebox)\s*\{[^{}]*\}|\\resizebox\*?\s*\{[^{}]*\}\s*\{[^{}]*\}"
)


def _prose(text: str) -> str:
    """Readable form of a stretch with no math in it."""
    text = _SIZE_ARGS.sub("", text)
    text = re.sub(r"\\href\s*\{[^{}]*\}\s*\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\url\s*\{([^{}]*)\}", r"\1", text)
    text = _DROP_ARG.sub(" ", text)
    text = _DROP_CMD.sub(" ", text)
    for k, v in _SYMBOLS.items():
        text = text.replace(k, v)
    text = _WORD_SYMBOL.sub(lambda m: _WORD_SYMBOLS[m.group(1)], text)
    text = _ACCENT.sub(_accent, text)
    text = text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    text = text.replace("`", "‘").replace("~", " ").replace("\\\\", " ")
    text = re.sub(r"\\[,;:! ]", " ", text)
    text = re.sub(r"\\(?:quad|qquad|enspace|thinspace)\b", " ", text)
    return _unwrap(text).replace("\x00DOLLAR\x00", "$")


@dataclass
class Inline:
    """Readable text of a LaTeX stretch and what was taken out of it."""

    text: str
    cites: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _take_footnotes(text: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    out, last = [], 0
    for m in re.finditer(r"\\footnote\s*(?:\[[^\]]*\])?\s*(?=\{)", text):
        if m.start() < last:
            continue
        body, end = read_group(text, m.end())
        out.append(text[last : m.start()])
        notes.append(body)
        last = end
    out.append(text[last:])
    return "".join(out), notes


def _textual(m: re.Match[str], names: dict[str, str]) -> str:
    """\\citet{key} reads as 'Author et al. (2019)' when the .bbl gives that label; other
    citation commands leave the sentence (their keys are kept)."""
    if not re.match(r"\\(?:citet|citeauthor|textcite|Textcite|Citet)", m.group(0)):
        return ""
    keys = [k.strip() for k in m.group(1).split(",")]
    return "; ".join(names[k] for k in keys if k in names)


def inline(text: str, labels: dict[str, str], names: dict[str, str] | None = None) -> Inline:
    """Readable text: citations out (keys kept; textual ones read as their author-year label
    from `names`), references resolved through `labels` ('??' when unknown, as LaTeX prints
    them), footnotes out, math kept as $...$."""
    text, raw_notes = _take_footnotes(text)
    cites = [k.strip() for m in _CITE.finditer(text) for k in m.group(1).split(",") if k.strip()]
    text = _CITE.sub(lambda m: _textual(m, names or {}), text)
    text = _REF.sub(lambda m: labels.get(m.group(1).strip(), "??"), text)
    parts = []
    for i, piece in enumerate(_MATH.split(text)):
        if i % 2:
            body = piece.strip("$")
            body = body[2:-2] if piece.startswith(("\\(", "\\[")) else body
            parts.append(f"${' '.join(body.split())}$")
        else:
            parts.append(_prose(piece))
    clean = clean_whitespace("".join(parts))
    clean = re.sub(r"\(\s*[,;]?\s*\)", "", clean)
    clean = re.sub(r"[,;]\s*\)", ")", clean)
    clean = re.sub(r"\s+([,.;:)])", r"\1", clean)
    notes = [inline(n, labels, names).text for n in raw_notes]
    return Inline(clean_whitespace(clean), cites, [n for n in notes if n])


_RULES = re.compile(
    r"\\(?:hline|toprule|bottomrule|midrule|addlinespace|hhline\{[^{}]*\}|cline\{[^{}]*\}"
    r"|cmidrule(?:\([^)]*\))?\{[^{}]*\}|arrayrulecolor\{[^{}]*\}|rowcolor\{[^{}]*\})"
)


def _cell(raw: str, labels: dict[str, str]) -> Cell:
    raw = raw.strip()
    span = 1
    m = re.match(r"\\multicolumn\s*\{(\d+)\}\s*\{[^{}]*\}\s*(?=\{)", raw)
    if m:
        span = int(m.group(1))
        raw = read_group(raw, m.end())[0]
    raw = re.sub(r"\\multirow\s*\{[^{}]*\}\s*(?:\[[^\]]*\])?\s*\{[^{}]*\}\s*", "", raw)
    raw = re.sub(r"\\makecell\s*(?:\[[^\]]*\])?", "", raw).replace("\\\\", " ")
    bold = bool(re.search(r"\\(?:textbf|bf|bfseries|mathbf)\b", raw))
    italic = bool(re.search(r"\\(?:textit|emph|it|itshape)\b", raw))
    return Cell.parse(inline(raw, labels).text, bold=bold, italic=italic, colspan=span)


def tabular(body: str, labels: dict[str, str]) -> tuple[list[list[Cell]], list[list[Cell]]]:
    """(header rows, body rows) of a tabular body: rows above the first \\midrule are the
    header (the first row when there is no \\midrule)."""
    mid = body.find("\\midrule")
    if mid < 0:
        mid = body.find("\\hline", body.find("\\\\") if "\\\\" in body else 0)
    rows_raw = split_top(body, "\\\\")
    header: list[list[Cell]] = []
    rows: list[list[Cell]] = []
    offset = 0
    for raw in rows_raw:
        row_end = offset + len(raw)
        offset = row_end + 2
        raw = re.sub(r"^\s*\[[^\]]*\]", "", raw)  # \\[2pt]
        text = _RULES.sub("", raw)
        if not text.strip():
            continue
        cells = [_cell(c, labels) for c in split_top(text, "&")]
        above_mid = mid >= 0 and row_end <= mid
        (header if above_mid and not rows else rows).append(cells)
    if not header and len(rows) > 1 and mid < 0:
        header, rows = rows[:1], rows[1:]
    return header, rows


def _short_name(label: str) -> str:
    """'Ammar et~al.(2018)Ammar, ...' (natbib's bibitem label) -> 'Ammar et al. (2018)'."""
    m = re.match(r"\s*\{?(.*?)\((\d{4}[a-z]?)\)", label, re.S)
    if not m:
        return ""
    return f"{_prose(m.group(1)).strip()} ({m.group(2)})"


def bibitems(bbl: str) -> list[tuple[str, str, str | None, str]]:
    """(key, text, doi, author-year label or '') for each \\bibitem of a .bbl or a
    thebibliography environment."""
    out = []
    items = re.split(r"\\bibitem\s*", bbl)[1:]
    for item in items:
        item = item.strip()
        label = ""
        m = re.match(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]", item)
        if m:
            label, item = _short_name(m.group(1)), item[m.end() :].lstrip()
        key, end = read_group(item, 0)
        text = re.sub(r"\\end\{thebibliography\}.*", "", item[end:], flags=re.S)
        text = text.replace("\\newblock", " ")
        doi = re.search(r"(?:doi\.org/|\\doi\{|doi:\s*)(10\.\d{4,9}/[^\s{}]+)", text)
        out.append((key.strip(), inline(text, {}).text, doi.group(1) if doi else None, label))
    return out
