"""The CLI's first hour, in process: usage, settings and path errors are one line (exit 2) and
store nothing; help texts are for users; transcripts keep counts that only look like secrets;
progress lines are stage lines (a bar on a terminal) with no JSON; time is split into active
and waiting."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from graph.cli import build_parser, main
from graph.cli.progress import TerminalProgress, summarise
from graph.cli.runs import time_line
from graph.transcript import REDACTED, is_secret_key, redact
from memory.run import RunRecord

Q = "What accuracy does FlexMoE reach on MMMU compared with dense VLMs of similar activated size?"


def run(*args: str) -> int:
    """main() as the console script runs it (argparse's exit included)."""
    try:
        return main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("research", ""), "the question is empty"),
        (("research",), "the question is empty"),
        (("research", "   \t "), "the question is empty"),
        (("research", "?!? ... --"), "no words"),
        (("research", "x" * 2001), "the limit is 2000"),
        (("research", Q, "--max-revisions", "-1"),
         "--max-revisions: '-1' is invalid: expected an integer >= 0 and <= 5"),
        (("research", Q, "--num-queries", "0"),
         "--num-queries: '0' is invalid: expected an integer >= 1 and <= 12"),
        (("research", Q, "--consensus-threshold", "ten"), "expected a number >= 0 and <= 10"),
        (("research", Q, "--arxiv-mode", "pigeon"), "expected one of auto, mirror, online"),
        (("research", Q, "--run-id", "../escape"), "--run-id '../escape'"),
        (("research", Q, "--paper", " "), "--paper is empty"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_and_leave_nothing(
    sovereign_home: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], says: str
) -> None:
    assert run(*args) == 2
    captured = capsys.readouterr()
    assert says in one_line(captured.err)
    assert captured.out == ""
    assert list(sovereign_home.iterdir()) == []  # no checkpoint, run directory or store


def test_unwritable_out_and_taken_run_id_are_refused_before_the_run(
    sovereign_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert run("research", Q, "--out", str(blocker / "out")) == 2
    assert "--out" in one_line(capsys.readouterr().err)
    (sovereign_home / "runs" / "taken").mkdir(parents=True)
    (sovereign_home / "runs" / "taken" / "run.json").write_text("{}")
    assert run("research", Q, "--run-id", "taken") == 2
    assert "already exists" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("env", "value", "says"),
    [
        ("SOVEREIGN_CONSENSUS_THRESHOLD", "abc", "expected a number >= 0 and <= 10"),
        ("SOVEREIGN_MAX_REVISIONS", "9", "expected an integer >= 0 and <= 5"),
        ("SOVEREIGN_ARXIV_MODE", "pigeon", "expected one of auto, mirror, online"),
        ("SOVEREIGN_LOG_LEVEL", "loud", "expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_for_every_command(
    sovereign_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: str,
    value: str,
    says: str,
) -> None:
    monkeypatch.setenv(env, value)
    for command in (("mirror", "stats"), ("list",), ("review", "list"), ("research", Q)):
        assert run(*command) == 2
        line = one_line(capsys.readouterr().err)
        assert f"{env}={value!r} is invalid" in line and says in line


@pytest.mark.parametrize(
    "args",
    [("site", "serve", "--port", "99999"), ("mirror", "serve", "--port", "99999"),
     ("llm", "serve", "--port", "-1"), ("site", "serve", "--port", "http")],
)  # fmt: skip
def test_bad_ports_are_one_line(
    sovereign_home: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    assert run(*args) == 2
    assert "--port" in one_line(capsys.readouterr().err)


def test_site_build_into_a_directory_it_cannot_create(
    sovereign_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert run("site", "build", str(blocker / "site")) == 2
    assert f"cannot write the site into {blocker / 'site'}" in one_line(capsys.readouterr().err)


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    out = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                out += _parsers(sub)
    return out


def test_every_option_has_user_help() -> None:
    """No option falls back to its field name or shows a developer's docstring."""
    for parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            assert action.help, f"{parser.prog} {action.option_strings or action.dest}: no help"
            assert action.help.split(" (")[0] != action.dest, f"{parser.prog} {action.dest}"
        text = parser.format_help()
        assert '"""' not in text and "`" not in text, parser.prog


def test_counts_are_not_secrets_keys_are() -> None:
    for key in ("llm_max_tokens", "prompt_tokens", "completion_tokens", "tokens", "tokenizer"):
        assert not is_secret_key(key), key
    for key in ("api_key", "llm_api_key", "apiKey", "token", "auth-token", "password"):
        assert is_secret_key(key), key
    settings = {"llm_max_tokens": 1024, "nim_api_key": "nvapi-secret-123456"}
    assert redact(settings, "settings_used") == {"llm_max_tokens": 1024, "nim_api_key": REDACTED}


def _updates() -> list[tuple[str, dict[str, object]]]:
    return [
        ("resolve_paper", {"target": {"arxiv_id": "2601.00001", "title": "FlexMoE"}}),
        ("search_arxiv", {"papers": [{}] * 10, "search_log": [{"error": None}]}),
        ("search_arxiv", {"papers": [{}] * 6, "search_log": [{"error": "HTTP 503"}]}),
        ("skeptic", {"reviews": [{"role": "SKEPTIC", "score": 7.666}]}),
        ("validator", {"reviews": [{"role": "VALIDATOR", "score": 6.0}]}),
        ("synthesizer", {"reviews": [{"role": "SYNTHESIZER", "score": 9.0}]}),
    ]


def _drive(progress: TerminalProgress) -> None:
    """Task events as the runner sends them: a stage's branches all start, then finish."""
    groups = (["resolve_paper"], ["search_arxiv"] * 2, ["skeptic", "validator", "synthesizer"])
    updates = iter(_updates())
    for group in groups:
        for node in group:
            progress.started(node)
        for _ in group:
            progress.finished(*next(updates))
    progress.started("owner_review")
    progress.finished("owner_review", {}, interrupted=True)


def test_progress_is_one_line_per_stage_without_json() -> None:
    out = io.StringIO()
    with TerminalProgress(out, tty=False) as progress:
        _drive(progress)
    lines = out.getvalue().splitlines()
    assert [line.split("]", 1)[1].split()[0] for line in lines] == [
        "paper", "search", "tribunal", "owner",
    ]  # fmt: skip
    assert "2601.00001 FlexMoE" in lines[0]
    assert "2 searches, 16 results, 1 failed" in lines[1]
    assert "SKEPTIC 7.67, VALIDATOR 6.00, SYNTHESIZER 9.00" in lines[2]
    assert "awaiting the owner's decision" in lines[3]
    assert not any(line.lstrip().startswith("{") for line in lines)


def test_progress_draws_a_bar_on_a_terminal() -> None:
    out = io.StringIO()
    with TerminalProgress(out, tty=True) as progress:
        _drive(progress)
    text = out.getvalue()
    assert "[" + "#" * 12 + "." * 12 + "] 1/2" in text  # half of the searches done
    assert "\r" in text
    assert summarise("unknown stage", [{"things": [1]}]) == "things"


def test_time_is_split_into_active_and_waiting() -> None:
    def t(node: str, start: float, end: float) -> dict[str, object]:
        return {"node": node, "start": start, "end": end, "wall_s": end - start}

    record = RunRecord.from_state(
        {
            "timings": [
                t("resolve_paper", 0, 1),
                t("search_arxiv", 1, 4),
                t("search_arxiv", 1, 3),  # parallel: counted once
                t("publish", 4, 5),
                t("owner_review", 905, 906),  # 900 s of the owner's wait before it
            ]
        }
    )
    line = time_line(record, paused=False)
    assert line.startswith("time: 6.0 s active over 5 steps")
    assert "900.0 s waiting for the owner's decision" in line
    assert "between steps" not in line
    paused = RunRecord.from_state({"timings": [t("publish", 0, 5)]})
    assert "waiting for the owner's decision for 95 s" in time_line(paused, True, now=100)


def test_events_file_is_json_lines(tmp_path: Path) -> None:
    from graph.transcript import attach_run, configure, get_logger

    configure(None, to_stderr=False)
    try:
        get_logger("held-run", "resolve_paper", "resolver").info("node_start")  # held back
        path = attach_run("held-run", tmp_path / "run")
        get_logger("held-run", "plan_queries", "planner").info("decision", llm_max_tokens=1024)
    finally:
        configure(to_stderr=True)
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [e["node"] for e in events] == ["resolve_paper", "plan_queries"]
    assert events[1]["llm_max_tokens"] == 1024


def test_langchain_openai_is_not_declared() -> None:
    """Declared but never imported: the chat layer is the `openai` client (see README)."""
    import tomllib

    from tests.conftest import REPO

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not [d for d in project["dependencies"] if d.startswith("langchain-openai")]


def test_log_json_puts_the_transcript_on_stderr_too(
    sovereign_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from graph.cli import _transcripts
    from graph.settings import load_settings
    from graph.transcript import attach_run, get_logger

    path = attach_run("flagged", sovereign_home / "runs" / "flagged")
    try:
        for to_stderr in (False, True):
            _transcripts(load_settings(), to_stderr)
            get_logger("flagged", "plan_queries", "planner").info("decision", asked=to_stderr)
            err = capsys.readouterr().err
            assert (json.loads(err)["asked"] is True) if to_stderr else err == ""
    finally:
        _transcripts(load_settings(), True)
    assert [json.loads(x)["asked"] for x in path.read_text().splitlines()] == [False, True]
