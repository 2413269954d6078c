"""The check that every sentence of a report's Answer section traces to a passage: each line is
a statement resting on a verbatim passage of the paper it cites, at the place it names (its
text the passage's own words, or an LLM's wording that passes the grounding check), or a
'No retrieved source reports' gap, or a conflict citing existing claims."""

from __future__ import annotations

import re

from agents.answer import grounding_problems
from agents.plain import plain
from memory.run import RunRecord
from memory.text import quote_in_source

STATEMENT = re.compile(
    r'^- (?:"(?P<quoted>.+)"|(?P<worded>.+) \(LLM wording of the passage\))'
    r" — \[(?P<sid>[^\]]+)\]\([^)]*\), (?P<loc>[^;]+);"
)
GAP, CONFLICT = "- No retrieved source reports", "- Sources disagree on"


def answer_section(report: str) -> str:
    """The Answer section, which must come right after the Abstract."""
    after_abstract = report.split("## Abstract", 1)[1]
    heading = re.search(r"^## .+$", after_abstract, re.M)
    assert heading is not None and heading.group(0) == "## Answer", "Answer must follow Abstract"
    return after_abstract.split("## Answer", 1)[1].split("\n## ", 1)[0]


def answer_traces(record: RunRecord, report: str, sources: dict[str, str]) -> int:
    """Assert the Answer traces to passages (`sources`: each paper's readable text by id);
    returns how many statements it holds."""
    assert record.answer is not None
    statements = {(s.text, s.source_id): s for p in record.answer.parts for s in p.statements}
    claims = {c.id for c in record.claims}
    n = 0
    for line in answer_section(report).splitlines():
        if not line.startswith("- "):
            continue
        if line.startswith((GAP, CONFLICT)):
            assert set(re.findall(r"\b(C\d+)\b", line)) <= claims, line
            continue
        m = STATEMENT.match(line)
        assert m, f"an Answer line that is neither statement, gap nor conflict: {line}"
        text = m["quoted"] or m["worded"]
        st = statements[(text, m["sid"])]
        assert quote_in_source(st.quote, sources[m["sid"]]), st.quote
        assert (st.location or "place unknown") == m["loc"]
        if m["quoted"]:
            assert text == plain(st.quote)
        else:
            assert grounding_problems(text, st.quote) == []
        n += 1
    return n
