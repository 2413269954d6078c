"""LaTeX markup as a reader sees it: abstracts and full texts keep their TeX ('\\textbf{95\\%}',
'$\\times$', '$\\sim$2x'), which a report must not show raw. Claims and Answer statements are
rendered to plain text here; the verbatim source text is kept beside them (run.json), so a
rendering can always be checked against what the paper says."""

from __future__ import annotations

import re

_SYMBOLS = {
    r"\times": "×",
    r"\sim": "~",
    r"\approx": "≈",
    r"\pm": "±",
    r"\leq": "≤",
    r"\le": "≤",
    r"\geq": "≥",
    r"\ge": "≥",
    r"\rightarrow": "→",
    r"\to": "→",
    r"\uparrow": "↑",
    r"\downarrow": "↓",
    r"\cdot": "·",
    r"\%": "%",
    r"\&": "&",
    r"\_": "_",
    r"\#": "#",
    r"\$": "$",
    r"\ldots": "…",
    r"\dots": "…",
    r"\alpha": "α",
    r"\beta": "β",
    r"\gamma": "γ",
    r"\lambda": "λ",
    r"\mu": "μ",
    r"\sigma": "σ",
}
# \textbf{x}, \emph{x}, \mathrm{x} ... keep their argument; \cite{x}, \ref{x} ... go
_KEEP_ARG = re.compile(
    r"\\(?:textbf|textit|texttt|textrm|textsc|textsf|emph|underline|mathrm|mathbf|mathit|"
    r"mathsf|mathtt|mathcal|text|mbox|operatorname|boldsymbol|bm)\s*\{([^{}]*)\}"
)
_DROP = re.compile(r"\\(?:cite\w*|ref|eqref|label|footnote|url|href)\s*(?:\[[^\]]*\])?\{[^{}]*\}")
_SCRIPT = re.compile(r"([_^])\{([^{}]*)\}")
_COMMAND = re.compile(r"\\[A-Za-z]+\*?")


def _symbols(text: str) -> str:
    for macro in sorted(_SYMBOLS, key=len, reverse=True):
        if macro[1:].isalpha():
            text = re.sub(re.escape(macro) + r"(?![A-Za-z])", _SYMBOLS[macro], text)
        else:
            text = text.replace(macro, _SYMBOLS[macro])
    return text


def plain(text: str) -> str:
    """`text` with TeX markup rendered: commands that style keep their argument, symbols
    become characters, references and citations go, math dollars and braces vanish."""
    if "\\" not in text and "$" not in text and "{" not in text:
        return text
    out = _DROP.sub("", text)
    for _ in range(3):  # nested styling: \textbf{\emph{x}}
        out = _KEEP_ARG.sub(r"\1", out)
    out = re.sub(r"(?<!\\)~", " ", out)  # TeX's non-breaking space; \sim becomes "~" below
    out = _symbols(out)
    out = _SCRIPT.sub(lambda m: ("^" if m.group(1) == "^" else "") + m.group(2), out)
    out = _COMMAND.sub("", out)
    out = out.replace("$", "").replace("{", "").replace("}", "")
    out = re.sub(r"\s+([,.;:%)])", r"\1", out)
    return re.sub(r"\s{2,}", " ", out).strip()
