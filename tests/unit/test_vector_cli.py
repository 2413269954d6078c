"""`sovereign memory index|stats|search` end to end on a tiny JSONL with the local model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.cli import main

RECORDS = [
    {  # listing format
        "id": "2311.03057",
        "title": "GLEN: Generative Retrieval\n  via Lexical Index Learning",
        "categories": ["cs.IR", "cs.CL"],
        "summary": "Generative retrieval generates document identifiers directly. "
        "We propose GLEN, which learns a lexical index.",
        "listing_date": "2023-11-06",
    },
    {  # bulk-snapshot format
        "id": "0704.0001",
        "title": "Prompt diphoton production at the Tevatron",
        "categories": "hep-ph",
        "abstract": "A fully differential calculation of photon pair production is presented.",
        "versions": [{"version": "v1"}, {"version": "v2"}],
    },
]


def test_index_stats_search(
    tmp_path: Path, sovereign_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "papers.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    assert main(["memory", "index", str(src)]) == 0
    stats = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert stats["documents"] == 2 and stats["sentences"] == 3 and stats["embedded"] == 5
    assert main(["memory", "index", str(src)]) == 0  # idempotent
    assert json.loads(capsys.readouterr().out.strip())["embedded"] == 0
    assert main(["memory", "stats"]) == 0
    out = capsys.readouterr().out
    assert "papers:     2" in out and "sentences:  3" in out and str(sovereign_home) in out
    assert main(["memory", "search", "photon pairs at hadron colliders", "-k", "1"]) == 0
    assert "0704.0001v2 s0" in capsys.readouterr().out
    args = ["memory", "search", "photon pairs", "-k", "1", "--exclude", "0704.0001"]
    assert main(args) == 0
    assert "0704.0001" not in capsys.readouterr().out


def test_bad_file_is_one_line(
    tmp_path: Path, sovereign_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1"}\nnot json\n')
    assert main(["memory", "index", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sovereign: ") and "bad.jsonl:1" in err and len(err.splitlines()) == 1
    assert main(["memory", "stats"]) == 0
    assert "papers:     0" in capsys.readouterr().out
