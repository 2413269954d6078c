"""`sovereign eval scitab` as a user runs it (subprocess) on small claim files, and the
optional LLM step against the scripted OpenAI-compatible server: an accepted proposal is run
by the evaluator and joins the checks; a bad one is retried once, then dropped."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from agents.llm.client import OpenAIChat
from agents.llm.scripted_server import Reply, ScriptedOpenAIServer
from agents.verification.tables.verifier import TableVerifier
from memory.fulltext.model import Table
from tests.conftest import run_cli

pytestmark = pytest.mark.integration

COLUMNS = ["Model", "BLEU", "TER"]
ROWS = [["Baseline", "25.1", "0.60"], ["Ours", "[BOLD] 27.4", "[BOLD] 0.55"]]
CLAIMS = [
    ("Ours outperforms Baseline in BLEU.", "supports"),
    ("Baseline outperforms Ours in BLEU.", "refutes"),
    ("Ours does not outperform Baseline in BLEU.", "refutes"),
    ("Ours achieves the best BLEU.", "supports"),
    ("Ours was trained for three days on eight GPUs.", "not enough info"),
    ("Ours improves BLEU by 2.3 points over Baseline.", "supports"),
]


def write_claims(path: Path, labelled: bool = True) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i, (claim, label) in enumerate(CLAIMS):
            rec: dict[str, Any] = {
                "id": f"c{i}",
                "paper_id": f"p{i % 2}",
                "claim": claim,
                "table_caption": "Table 2: Results.",
                "table_column_names": str(COLUMNS),  # SciTab's Python-literal strings
                "table_content_values": str(ROWS),
            }
            if labelled:
                rec["label"] = label
            fh.write(json.dumps(rec) + "\n")
    return path


def env(**extra: str) -> dict[str, str]:
    out = dict(os.environ)
    out.pop("SOVEREIGN_LLM_BASE_URL", None)
    out.update(extra)
    return out


def test_cli_scores_a_labelled_file(tmp_path: Path) -> None:
    claims = write_claims(tmp_path / "claims.jsonl")
    out = tmp_path / "out.json"
    done = run_cli("eval", "scitab", "--claims", str(claims), "--json", str(out), env=env())
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for part in ("3-class: macro-F1", "2-class (NEI removed): macro-F1", "gold \\ pred", "ECE"):
        assert part in text
    assert "claims/s" in text
    data = json.loads(out.read_text())
    assert data["report"]["three"]["n"] == 6 and data["report"]["two"]["n"] == 5
    assert data["claims_per_s"] > 0
    first = data["predictions"][0]
    assert first["id"] == "c0" and first["gold"] == "supports"
    cells = {c["location"] for check in first["checks"] for c in check["cells"]}
    assert "Table 2, row Ours, column BLEU" in cells


def test_cli_unlabelled_file_gives_verdicts_only(tmp_path: Path) -> None:
    claims = write_claims(tmp_path / "claims.jsonl", labelled=False)
    done = run_cli("eval", "scitab", "--claims", str(claims), "--verifier", "rules", env=env())
    assert done.returncode == 0, done.stderr
    assert "unlabelled: verdicts only" in done.stdout


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    missing = run_cli("eval", "scitab", env=env(SOVEREIGN_SHARED_DATA=str(tmp_path / "none")))
    assert missing.returncode == 2
    assert "--claims" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
    claims = write_claims(tmp_path / "claims.jsonl")
    bad = run_cli("eval", "scitab", "--claims", str(claims), "--verifier", "oracle", env=env())
    assert bad.returncode == 2 and "unknown table verifier" in bad.stderr
    no_llm = run_cli("eval", "scitab", "--claims", str(claims), "--llm", env=env())
    assert no_llm.returncode == 2 and "SOVEREIGN_LLM_BASE_URL" in no_llm.stderr
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"claim": "x", "table_column_names": "[oops"}\n')
    bad_file = run_cli("eval", "scitab", "--claims", str(broken), env=env())
    assert bad_file.returncode == 2 and "broken.jsonl:1" in bad_file.stderr


# --- the LLM step ------------------------------------------------------------------------------

TABLE = Table.from_rows(COLUMNS, ROWS, caption="Table 2: Results.", label="Table 2")
GOOD: dict[str, Any] = {
    "cells": [{"row": "Ours", "column": "BLEU"}, {"row": "Baseline", "column": "BLEU"}],
    "operation": "greater",
    "negated": False,
}
INVENTED = {"cells": [{"row": "GPT-5", "column": "BLEU"}], "operation": "lookup", "value": 30.0}


def client(srv: ScriptedOpenAIServer) -> OpenAIChat:
    return OpenAIChat(srv.base_url, "scripted", None, timeout_s=5.0, rpm=600_000, backoff_s=0.05)


def test_accepted_proposal_is_run_by_the_evaluator(serve: Any) -> None:
    srv = serve([Reply.json(GOOD)])
    verdict = TableVerifier.load(llm=client(srv)).verify("It beats the baseline clearly.", TABLE)
    assert verdict.origin == "llm"
    proposed = [c for c in verdict.checks if c.text.startswith("LLM-proposed")]
    assert len(proposed) == 1 and proposed[0].outcome == "holds"
    assert {c.location for c in proposed[0].cells} == {
        "Table 2, row Ours, column BLEU",
        "Table 2, row Baseline, column BLEU",
    }
    sent = srv.requests[0].text
    assert "<<<DATA table>>>" in sent and "Baseline | 25.1 | 0.60" in sent


def test_proposal_the_table_contradicts_counts_as_a_failing_check(serve: Any) -> None:
    wrong = {**GOOD, "cells": list(reversed(GOOD["cells"]))}  # Baseline > Ours: false
    srv = serve([Reply.json(wrong)])
    verdict = TableVerifier.load(llm=client(srv)).verify("It beats the baseline clearly.", TABLE)
    proposed = [c for c in verdict.checks if c.text.startswith("LLM-proposed")]
    assert [c.outcome for c in proposed] == ["fails"]


def test_invented_cells_are_retried_once_then_dropped(serve: Any) -> None:
    srv = serve([Reply.json(INVENTED)])
    plain = TableVerifier.load().verify("GPT-5 reaches 30 BLEU.", TABLE)
    verdict = TableVerifier.load(llm=client(srv)).verify("GPT-5 reaches 30 BLEU.", TABLE)
    assert verdict.origin == "fallback"
    assert len(srv.requests) == 2
    assert "no row named 'GPT-5'" in srv.requests[1].text  # the rejection is fed back
    assert not any(c.text.startswith("LLM-proposed") for c in verdict.checks)
    assert verdict.probabilities == plain.probabilities  # the deterministic answer stands


def test_cli_llm_flag_uses_the_configured_endpoint(serve: Any, tmp_path: Path) -> None:
    srv = serve([Reply.json(GOOD)])
    claims = write_claims(tmp_path / "claims.jsonl")
    out = tmp_path / "out.json"
    done = run_cli(
        "eval", "scitab", "--claims", str(claims), "--llm", "--json", str(out),
        env=env(SOVEREIGN_LLM_BASE_URL=srv.base_url, SOVEREIGN_HOME=str(tmp_path / "home")),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    origins = {p["origin"] for p in json.loads(out.read_text())["predictions"]}
    assert origins == {"llm"}
    assert len(srv.requests) == len(CLAIMS)


def test_training_command_rebuilds_the_shipped_bytes(tmp_path: Path) -> None:
    from agents.verification.tables.verifier import ARTIFACT
    from tests.conftest import shared_file

    shared_file("scitab/scitab_train.jsonl")
    out = tmp_path / "scitab.joblib"
    done = run_cli("eval", "train-scitab", "--output", str(out), env=env(PYTHONHASHSEED="1"))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == ARTIFACT.read_bytes()
