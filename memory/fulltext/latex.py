"""Reader for arXiv e-print source: the gzipped tar (or single gzipped .tex) arXiv serves.

Finds the main file (\\documentclass with \\begin{document}), follows \\input/\\include, drops
comments, expands argument-less \\newcommand/\\def macros, then walks the document body:
sectioning commands numbered as LaTeX would (letters after \\appendix), blank-line
paragraphs, table and figure floats numbered in source order (how LaTeX numbers them),
itemize/enumerate items as list paragraphs, display math kept inline as $...$, and
references from the .bbl (or a thebibliography environment). Citations leave the text and
are kept as reference ids; \\ref is resolved through the \\labels seen."""

from __future__ import annotations

import gzip
import io
import re
import tarfile

from memory.fulltext.builder import DocBuilder
from memory.fulltext.errors import FullTextError
from memory.fulltext.latex_text import bibitems, command_arg, inline, read_group, tabular
from memory.fulltext.model import Cell, FullText, ParagraphKind

_MAX_MEMBER = 20_000_000
_SECTION = re.compile(
    r"\\(section|subsection|subsubsection|paragraph|subparagraph)(\*?)\s*(?:\[[^\]]*\])?\s*(?=\{)"
)
_LEVEL = {"section": 1, "subsection": 2, "subsubsection": 3, "paragraph": 4, "subparagraph": 5}
_MATH_ENVS = r"equation|align|gather|multline|eqnarray|displaymath|flalign|alignat"
_TOKEN = re.compile(
    r"\\(?:section|subsection|subsubsection|paragraph|subparagraph)\*?\s*(?:\[[^\]]*\])?\s*(?=\{)"
    r"|\\begin\{([A-Za-z*]+)\}|\\appendix\b|\n[ \t]*\n"
)
_DROP_ENVS = {"lstlisting", "verbatim", "algorithm", "algorithmic", "tikzpicture", "comment"}
_LIST_ENVS = {"itemize", "enumerate", "description"}


def _unpack(data: bytes) -> dict[str, str]:
    """The .tex and .bbl files of an e-print, by path."""
    try:
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (OSError, EOFError) as e:
        raise FullTextError(f"unreadable e-print: {e}") from None
    files: dict[str, str] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            for member in tar.getmembers():
                wanted = member.name.endswith((".tex", ".bbl"))
                if member.isfile() and member.size <= _MAX_MEMBER and wanted:
                    fh = tar.extractfile(member)
                    if fh is not None:
                        files[member.name] = fh.read().decode("utf-8", errors="replace")
    except tarfile.TarError:
        files = {"main.tex": raw.decode("utf-8", errors="replace")}  # a single gzipped .tex
    if not files:
        raise FullTextError("e-print has no .tex file")
    return files


def _main(files: dict[str, str]) -> str:
    mains = [n for n, t in files.items() if "\\documentclass" in t and "\\begin{document}" in t]
    if not mains:
        raise FullTextError("e-print has no main .tex file (no \\documentclass)")
    return max(mains, key=lambda n: len(files[n]))


def _strip_comments(text: str) -> str:
    text = re.sub(r"(?<!\\)%.*", "", text)
    return re.sub(r"\\begin\{comment\}.*?\\end\{comment\}", "", text, flags=re.S)


def _expand_inputs(files: dict[str, str], name: str, depth: int = 0) -> str:
    text = _strip_comments(files.get(name, ""))
    if depth > 8:
        return text
    folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""

    def sub(m: re.Match[str]) -> str:
        target = m.group(1).strip()
        for cand in (folder + target, folder + target + ".tex", target, target + ".tex"):
            if cand in files:
                return _expand_inputs(files, cand, depth + 1)
        return ""

    return re.sub(r"\\(?:input|include)\s*\{([^{}]+)\}", sub, text)


def _macros(text: str) -> dict[str, str]:
    """Argument-less \\newcommand / \\def macros (name -> body)."""
    out: dict[str, str] = {}
    for m in re.finditer(
        r"\\(?:re)?newcommand\*?\s*\{?\\([A-Za-z]+)\}?\s*(?=\{)|\\def\\([A-Za-z]+)\s*(?=\{)", text
    ):
        body, _ = read_group(text, m.end())
        out[m.group(1) or m.group(2)] = body.replace("\\xspace", "")
    return out


def _apply_macros(text: str, macros: dict[str, str]) -> str:
    if not macros:
        return text
    pattern = re.compile(r"\\(" + "|".join(map(re.escape, macros)) + r")(?![A-Za-z])(\{\})?")
    for _ in range(3):
        text = pattern.sub(lambda m: macros[m.group(1)], text)
    return text


def _labels(body: str) -> dict[str, str]:
    """\\label -> the number LaTeX prints for it (sections, tables, figures, equations)."""
    labels: dict[str, str] = {}
    secs = [0, 0, 0]
    floats = {"table": 0, "figure": 0, "equation": 0}
    appendix = False
    scan = re.compile(
        r"\\(section|subsection|subsubsection)(\*?)\s*(?:\[[^\]]*\])?\s*\{|\\appendix\b"
        r"|\\begin\{(table|figure)\*?\}|\\begin\{(?:" + _MATH_ENVS + r")\*?\}|\\label\{([^{}]*)\}"
    )
    last = ""
    for m in scan.finditer(body):
        word = m.group(0)
        if word.startswith("\\appendix"):
            appendix, secs = True, [0, 0, 0]
        elif m.group(1) and not m.group(2):
            lv = _LEVEL[m.group(1)] - 1
            secs[lv] += 1
            secs[lv + 1 :] = [0] * (2 - lv)
            first = chr(64 + secs[0]) if appendix else str(secs[0])
            last = ".".join([first, *map(str, secs[1 : lv + 1])])
        elif word.startswith("\\begin"):
            kind = m.group(3) or "equation"
            floats[kind] += 1
            last = str(floats[kind])
        elif m.group(4):
            labels[m.group(4).strip()] = last
    return labels


def _env_end(text: str, name: str, start: int) -> tuple[str, int]:
    """Content of the environment `name` whose \\begin ends at `start`, and the index after
    its matching \\end (nesting of the same name respected)."""
    opener, closer = f"\\begin{{{name}}}", f"\\end{{{name}}}"
    depth, i = 1, start
    while depth:
        nxt_close = text.find(closer, i)
        if nxt_close < 0:
            return text[start:], len(text)
        nxt_open = text.find(opener, i)
        if 0 <= nxt_open < nxt_close:
            depth, i = depth + 1, nxt_open + len(opener)
        else:
            depth, i = depth - 1, nxt_close + len(closer)
    return text[start : i - len(closer)], i


class _Walker:
    """Walks the document body in order, feeding a DocBuilder."""

    def __init__(
        self,
        doc: DocBuilder,
        labels: dict[str, str],
        bib_ids: dict[str, str],
        names: dict[str, str],
    ) -> None:
        self.doc = doc
        self.labels = labels
        self.bib_ids = bib_ids
        self.names = names
        self.buf: list[str] = []
        self.counters = [0, 0, 0]
        self.appendix = False
        self.floats = {"table": 0, "figure": 0}

    def flush(self, kind: ParagraphKind = "text") -> None:
        raw = "".join(self.buf)
        self.buf = []
        self.emit(raw, kind)

    def emit(self, raw: str, kind: ParagraphKind) -> None:
        if not raw.strip():
            return
        text = inline(raw, self.labels, self.names)
        cites = [self.bib_ids[k] for k in text.cites if k in self.bib_ids]
        self.doc.paragraph(text.text, kind=kind, citations=list(dict.fromkeys(cites)))
        for note in text.notes:
            self.doc.paragraph(note, kind="footnote")

    def walk(self, text: str) -> None:
        pos = 0
        for m in _TOKEN.finditer(text):
            if m.start() < pos:
                continue
            self.buf.append(text[pos : m.start()])
            pos = self.token(text, m)
        self.buf.append(text[pos:])

    def token(self, text: str, m: re.Match[str]) -> int:
        """Handle one token; returns where reading resumes."""
        word = m.group(0)
        if word.startswith("\\appendix"):
            self.flush()
            self.appendix, self.counters = True, [0, 0, 0]
            return m.end()
        if not word.startswith("\\"):  # blank line
            self.flush()
            return m.end()
        if m.group(1) is None:
            return self.section(text, m)
        return self.environment(text, m.group(1), m.end())

    def section(self, text: str, m: re.Match[str]) -> int:
        self.flush()
        sm = _SECTION.match(text, m.start())
        assert sm is not None
        title, end = read_group(text, sm.end())
        level = _LEVEL[sm.group(1)]
        number = ""
        if level <= 3 and not sm.group(2):
            self.counters[level - 1] += 1
            self.counters[level:] = [0] * (3 - level)
            first = chr(64 + self.counters[0]) if self.appendix else str(self.counters[0])
            number = ".".join([first, *map(str, self.counters[1:level])])
        self.doc.section(number, inline(title, self.labels).text, level)
        return end

    def environment(self, text: str, name: str, start: int) -> int:
        body, end = _env_end(text, name, start)
        base = name.rstrip("*")
        if base in ("table", "figure"):
            self.float(base, body)
        elif base == "abstract":
            self.flush()
            self.doc.section("", "Abstract")
            for part in re.split(r"\n[ \t]*\n", body):
                self.emit(part, "text")
        elif base in _LIST_ENVS:
            self.flush()
            for item in re.split(r"\\item\b\s*(?:\[[^\]]*\])?", body)[1:]:
                self.emit(item, "list")
        elif re.fullmatch(_MATH_ENVS, base):
            math = re.sub(r"\\(?:label\{[^{}]*\}|nonumber|notag)|&", " ", body).replace("\\\\", " ")
            self.buf.append(f" ${' '.join(math.split())}$ ")
        elif base == "thebibliography":
            pass  # read with the .bbl
        elif base in _DROP_ENVS:
            self.doc.warn(f"{base} environments left out")
        else:  # center, minipage, quote, theorem-like: read their content in place
            self.walk(body)
        return end

    def float(self, kind: str, body: str) -> None:
        """A table or figure float. LaTeX numbers a float when it has a \\caption, in source
        order; an uncaptioned table is kept without a label."""
        caption = command_arg(body, "caption")
        label = ""
        if caption is not None:
            self.floats[kind] += 1
            label = f"{kind.title()} {self.floats[kind]}"
        text = inline(caption or "", self.labels, self.names).text
        if kind == "figure":
            if caption is not None:
                self.doc.figure(f"{label}: {text}")
            return
        tab = re.search(r"\\begin\{(tabular[x*]?|tabulary|longtable)\}", body)
        header: list[list[Cell]] = []
        rows: list[list[Cell]] = []
        if tab:
            inner, _ = _env_end(body, tab.group(1), tab.end())
            spec = r"^\s*(?:\{[^{}]*\}\s*)?(?:\{(?:[^{}]|\{[^{}]*\})*\})"  # [width] and spec
            inner = re.sub(spec, "", inner, count=1)
            header, rows = tabular(inner, self.labels)
        if caption is not None or rows:
            self.doc.table(text, header, rows, label=label)


def parse_eprint(data: bytes, paper_id: str = "") -> FullText:
    """Read an arXiv e-print (gzipped tar or gzipped .tex). FullTextError when it is not one
    or holds no main .tex file."""
    files = _unpack(data)
    source = _expand_inputs(files, _main(files))
    macros = _macros(source.split("\\begin{document}", 1)[0])
    body = source.split("\\begin{document}", 1)[1].split("\\end{document}", 1)[0]
    body = _apply_macros(body, macros)
    title = command_arg(_apply_macros(source, macros), "title") or ""
    doc = DocBuilder("latex")
    bbl = next((t for n, t in sorted(files.items()) if n.endswith(".bbl")), "")
    if not bbl and "\\begin{thebibliography}" in body:
        bbl = body[body.index("\\begin{thebibliography}") :]
    bib_ids: dict[str, str] = {}
    names: dict[str, str] = {}
    for key, text, doi, short in bibitems(bbl):
        ref = doc.reference(text, doi=doi)
        if ref is not None:
            bib_ids[key] = ref.id
        if short:
            names[key] = short
    walker = _Walker(doc, _labels(body), bib_ids, names)
    walker.walk(body)
    walker.flush()
    return doc.build(paper_id=paper_id, title=inline(title, {}).text)
