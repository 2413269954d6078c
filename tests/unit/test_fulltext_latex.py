"""arXiv e-print source (LaTeX): the real S2ORC e-print and small hand-made ones."""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from functools import cache
from pathlib import Path

import pytest

from memory.fulltext import FullText, FullTextError, read_fulltext
from memory.fulltext.latex import parse_eprint
from tests.conftest import shared_file

EPRINT = "fulltext/arxiv_src/1911.02782.gz"


@cache
def _read(path: Path) -> FullText:
    return read_fulltext(path)


@pytest.fixture(scope="module")
def s2orc() -> FullText:
    return _read(shared_file(EPRINT))


def _tar(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


def test_real_eprint_sections_paragraphs_and_references(s2orc: FullText) -> None:
    assert s2orc.source_format == "latex" and s2orc.paper_id == "1911.02782"
    assert s2orc.title == "S2ORC: The Semantic Scholar Open Research Corpus"
    assert s2orc.abstract.startswith("We introduce S2ORC, a large corpus of 81.1M")
    numbers = [s.number for s in s2orc.sections if s.number]
    assert numbers[:4] == ["1", "2", "2.1", "2.2"] and numbers[-2:] == ["F", "G"]
    assert len(s2orc.paragraphs) >= 60
    assert len(s2orc.references) == 55  # the \bibitem entries of main.bbl
    assert s2orc.references[1].doi == "10.18653/v1/N18-3011"
    text = s2orc.text()
    prose = re.sub(r"\$[^$]*\$", "", text)  # outside math, no command or brace residue
    assert "\\" not in prose and "{" not in prose and "}" not in prose
    assert "$S_{title} = \\frac{2 \\times J \\times C}{J + C}$" in text  # display math kept
    assert "See §2.5 for details on filtering" in text  # \S\ref resolved through the labels
    assert "(e.g. AAN, PubMed Central, Saier and Färber (2019))" in text  # \citet kept
    cited = {c for p in s2orc.paragraphs for c in p.citations}
    assert len(cited) >= 40  # of the 55 keys \cite'd in main.tex, 11 only in tables/captions
    assert cited <= {r.id for r in s2orc.references}
    assert any(p.kind == "footnote" and "pronounced “stork”" in p.text for p in s2orc.paragraphs)


def test_real_eprint_tables(s2orc: FullText) -> None:
    labelled = [t for t in s2orc.tables if t.label]
    assert [t.label for t in labelled] == [f"Table {i}" for i in range(1, 10)]
    first = labelled[0]
    assert first.column_names()[:3] == ["Corpus", "Papers w/ body text", "Citation contexts"]
    row = first.rows[0]
    assert row[0].text == "S2ORC (PDF-parse)" and row[0].bold
    assert (row[1].number, row[1].unit, row[1].bold) == (8.1, "M", True)
    stats = labelled[3]
    assert stats.column_names() == ["Statistic", "Grobid", "LaTeX"]
    assert stats.cell_location(1, 2) == "Table 4, row Paragraphs (body), column LaTeX"
    assert stats.rows[1][2].number == 93.3


def test_ids_are_stable_when_parsing_twice(s2orc: FullText) -> None:
    again = parse_eprint(shared_file(EPRINT).read_bytes(), paper_id="1911.02782")
    assert again == s2orc


def test_small_eprint_with_inputs_macros_lists_math_and_tables() -> None:
    main = r"""\documentclass{article}
\newcommand{\sys}{\textsc{Tiny}\xspace}
\title{A \sys Paper}
\begin{document}
\maketitle
\begin{abstract}
We study \sys. % a comment that must vanish
\end{abstract}
\section{Intro}\label{sec:intro}
\sys works \cite{a1,b2} well.\footnote{See \url{https://x.org}.}

Second paragraph with $x^2$ and
\begin{equation}\label{eq:1} y = 2x \end{equation}
as shown in Section~\ref{sec:intro}.
\input{more}
\appendix
\section{Extra}
\begin{table}[t]
\begin{tabular}{lcc}
\toprule
Model & \multicolumn{2}{c}{Score} \\
\midrule
Ours & \textbf{91.2} & 85.3$\pm$0.4 \\
Base & 88.0 & -- \\
\bottomrule
\end{tabular}
\caption{Results.}
\end{table}
\bibliographystyle{plain}
\begin{thebibliography}{2}
\bibitem{a1} A. Author. First. 2020.
\bibitem{b2} B. Author. Second. doi:10.1000/xyz 2021.
\end{thebibliography}
\end{document}
"""
    more = "\\subsection{Details}\n\\begin{itemize}\n\\item One.\n\\item Two.\n\\end{itemize}\n"
    doc = parse_eprint(_tar({"paper/main.tex": main, "paper/more.tex": more}))
    assert doc.title == "A Tiny Paper"
    assert [s.label() for s in doc.sections] == [
        "Abstract", "§1 Intro", "§1.1 Details", "§A Extra",
    ]  # fmt: skip
    texts = [(p.kind, p.text) for p in doc.paragraphs]
    assert texts == [
        ("text", "We study Tiny."),
        ("text", "Tiny works well."),
        ("footnote", "See https://x.org."),
        ("text", "Second paragraph with $x^2$ and $y = 2x$ as shown in Section 1."),
        ("list", "One."),
        ("list", "Two."),
    ]
    assert doc.paragraphs[1].citations == ["b0", "b1"]
    assert doc.references[1].doi == "10.1000/xyz"
    table = doc.tables[0]
    assert (table.label, table.caption) == ("Table 1", "Results.")
    assert table.column_names() == ["Model", "Score", "Score"]
    ours = table.rows[0]
    assert ours[1].bold and ours[1].number == 91.2 and ours[2].pm == 0.4
    assert table.rows[1][2].number is None


def test_single_gzipped_tex_is_read() -> None:
    tex = "\\documentclass{article}\\begin{document}\\section{Only}Text here.\\end{document}"
    doc = read_fulltext(gzip.compress(tex.encode()))
    assert doc.source_format == "latex"
    assert [p.text for p in doc.paragraphs] == ["Text here."]


def test_bad_eprints_raise() -> None:
    with pytest.raises(FullTextError, match="unreadable e-print"):
        parse_eprint(b"\x1f\x8b" + b"not really gzip")
    with pytest.raises(FullTextError, match="no main .tex"):
        parse_eprint(_tar({"notes.tex": "just text, no document"}))
    with pytest.raises(FullTextError, match="no .tex file"):
        parse_eprint(_tar({"figure.png": "binary"}))
