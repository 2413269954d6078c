"""Every `sovereign` command the README shows, run as a user types it (a subprocess of the
console script) over the hand-written mirror fixture: exit codes and what the terminal shows.
The quick start is also run under `script`, a real terminal: no JSON line reaches it, and it
ends with the report's path."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from graph.cli import build_parser
from tests.conftest import REPO, get_free_port, require_component, run_cli

FIXTURE = REPO / "tests" / "fixtures" / "graph" / "mirror_small.jsonl"
FLEX_Q = (
    "What accuracy does FlexMoE reach on MMMU compared with dense VLMs of similar activated size?"
)
QUANT_Q = (
    "How much does 4-bit quantization of experts cut memory in Mixture-of-Experts inference, "
    "and what happens to MMLU accuracy?"
)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# README commands run for real below, or (heavy: training, a local LLM) shown with --help
RUN_FOR_REAL = {
    "mirror ingest", "mirror stats", "mirror serve", "memory index", "memory stats",
    "memory search", "research", "show", "list", "resume", "review",
    "correct", "site build", "site serve", "llm check", "eval scifact", "watch",
    "submit", "worker",  # tests/integration/test_queue_cli.py
}  # fmt: skip
HELP_ONLY = {
    "eval train-verifier", "eval train-stance", "eval scitab", "eval train-scitab", "llm serve",
}  # fmt: skip

pytestmark = pytest.mark.integration


def user_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOVEREIGN_")}
    if "SOVEREIGN_SHARED_DATA" in os.environ:
        env["SOVEREIGN_SHARED_DATA"] = os.environ["SOVEREIGN_SHARED_DATA"]
    # the local mirror only (never the network); the baseline verifier keeps runs short
    env.update(SOVEREIGN_HOME=str(home), SOVEREIGN_ARXIV_MODE="mirror", SOVEREIGN_VERIFIER="tfidf")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("readme") / "home"
    done = run_cli("mirror", "ingest", str(FIXTURE), env=user_env(home))
    assert done.returncode == 0, done.stderr
    assert "-> " in done.stdout
    return home


def sovereign(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=user_env(home), timeout=timeout)


def _known() -> dict[str, set[str]]:
    """Each command and its sub-commands, from the parser itself."""
    parser = build_parser()
    top = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = {}
    for name, sub in top.choices.items():
        nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        out[name] = set(nested[0].choices) if nested else set()
    return out


README_COMMAND = re.compile(
    r"\bsovereign((?:\s+--?[\w-]+(?:\s+[\w.-]+)?)*)\s+([a-z][\w-]*)(?:\s+([a-z][\w-]*))?"
)


def _readme_commands() -> set[str]:
    """`sovereign COMMAND [SUB-COMMAND]` as the README writes them (global flags skipped)."""
    known = _known()
    found = set()
    for m in README_COMMAND.finditer((REPO / "README.md").read_text(encoding="utf-8")):
        command, sub = m[2], m[3]
        if command in known:
            found.add(f"{command} {sub}" if known[command] else command)
    return found


def test_every_readme_command_is_exercised() -> None:
    shown = _readme_commands()
    assert {"research", "list", "show", "mirror ingest", "site serve"} <= shown
    missing = shown - RUN_FOR_REAL - HELP_ONLY
    assert not missing, f"README commands no test runs: {sorted(missing)}"


@pytest.mark.parametrize("command", sorted(HELP_ONLY))
def test_heavy_commands_answer_help(home: Path, command: str) -> None:
    done = sovereign(home, *command.split(), "--help")
    assert done.returncode == 0 and done.stdout.startswith(f"usage: sovereign {command}")


def _visible_lines(raw: str) -> list[str]:
    """What a terminal shows: each carriage return rewrites its line."""
    lines = []
    for line in ANSI.sub("", raw).replace("\r\n", "\n").split("\n"):
        lines.append(line.split("\r")[-1])
    return [line for line in lines if line.strip()]


def test_quick_start_in_a_terminal_has_no_json_and_ends_with_the_report(
    home: Path, tmp_path: Path
) -> None:
    script = shutil.which("script")
    if script is None:
        require_component("script (util-linux)", "apt-get install util-linux")
    command = f"{sys.executable} -m graph.cli research '{QUANT_Q}' --run-id tty"
    done = subprocess.run(
        [script, "-qec", command, str(tmp_path / "typescript")],
        cwd=REPO,
        env=user_env(home, TERM="xterm"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    with (tmp_path / "typescript").open(encoding="utf-8", errors="replace", newline="") as fh:
        raw = fh.read()  # newline="": keep the carriage returns a terminal would obey
    lines = _visible_lines(raw)
    lines = [line for line in lines if not line.startswith("Script ")]  # util-linux's frame
    assert not [line for line in lines if line.lstrip().startswith("{")], "JSON on the terminal"
    assert "\r" in raw  # bars and clocks redraw their line
    for stage in ("paper", "search arXiv", "read sources", "tribunal", "policy", "publication"):
        assert any(re.match(rf"\[\s*[\d.]+s\] {stage}\s", line) for line in lines), stage
    report = home / "runs" / "tty" / "report.md"
    assert lines[-1] == f"report: {report}"
    assert report.exists() and (report.parent / "events.jsonl").stat().st_size > 0


def test_mirror_commands(home: Path, tmp_path: Path) -> None:
    stats = sovereign(home, "mirror", "stats")
    assert stats.returncode == 0 and "papers" in stats.stdout
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not arXiv metadata\n", encoding="utf-8")
    done = sovereign(home, "mirror", "ingest", str(bad), "--db", str(tmp_path / "bad.db"))
    assert done.returncode == 1 and "nothing valid was ingested" in done.stderr
    filtered = sovereign(
        home, "mirror", "ingest", str(FIXTURE), "--category", "cs", "--since", "2023-01",
        "--db", str(tmp_path / "cs.db"),
    )  # fmt: skip
    assert filtered.returncode == 0, filtered.stderr
    port = get_free_port()
    with _serving(home, "mirror", "serve", "--port", str(port)) as line:
        assert f"127.0.0.1:{port}" in line
        url = f"http://127.0.0.1:{port}/api/query?search_query=all:experts&max_results=2"
        with urllib.request.urlopen(url, timeout=30) as answer:
            assert answer.status == 200 and b"<entry>" in answer.read()


def test_memory_commands(home: Path) -> None:
    done = sovereign(home, "memory", "index", str(FIXTURE), "--limit", "5", "--no-sentences")
    assert done.returncode == 0, done.stderr
    stats = sovereign(home, "memory", "stats")
    assert stats.returncode == 0 and re.search(r"papers:\s+[1-9]", stats.stdout)
    found = sovereign(home, "memory", "search", "expert routing", "-k", "2", "--kind", "paper")
    assert found.returncode == 0 and len(found.stdout.splitlines()) == 2


class _serving:
    """A serving sub-command, up until its first stdout line; then stopped as a user or a
    supervisor would: Ctrl-C (SIGINT) for the mirror, SIGTERM for the site."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.stop = signal.SIGTERM if args[0] == "site" else signal.SIGINT
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "graph.cli", *args],
            cwd=REPO,
            env=env or user_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def __enter__(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("serving"), (
            line,
            self.proc.stderr.read() if self.proc.stderr else "",
        )
        return line

    def __exit__(self, *exc: object) -> None:
        self.proc.send_signal(self.stop)
        self.code = self.proc.wait(timeout=30)
        assert self.code == 0, self.proc.stderr.read() if self.proc.stderr else ""


def test_research_show_list_resume_review_correct_site(home: Path, tmp_path: Path) -> None:
    done = sovereign(home, "research", FLEX_Q, "--run-id", "flex")
    assert done.returncode == 0, done.stderr
    assert not [line for line in done.stderr.splitlines() if line.startswith("{")]
    lines = done.stdout.splitlines()
    report = home / "runs" / "flex" / "report.md"
    assert lines[-1] == f"report: {report}"
    assert any(line.startswith("status: awaiting owner review") for line in lines)

    shown = sovereign(home, "show", "flex")
    assert shown.returncode == 0 and shown.stdout.splitlines()[-1] == f"report: {report}"
    assert re.search(r"^time: [\d.]+ s active over \d+ steps", shown.stdout, re.M)
    listed = sovereign(home, "list")
    assert listed.returncode == 0 and listed.stdout.startswith("RUN ")
    assert re.search(r"^flex\s+\S+ \S+\s+What accuracy.*awaiting review", listed.stdout, re.M)
    resumed = sovereign(home, "resume", "flex")
    assert resumed.returncode == 2 and "awaits the owner's review" in resumed.stderr

    queue = sovereign(home, "review", "list")
    assert queue.returncode == 0 and " flex " in queue.stdout
    decided = sovereign(home, "review", "flex", "--approve", "--note", "checked", "--who", "ann")
    assert decided.returncode == 0 and "approved by ann: now published" in decided.stdout
    assert "Approved for publication by ann on " in report.read_text(encoding="utf-8")
    report_id = decided.stdout.split()[0]
    fixed = sovereign(home, "correct", report_id, "--note", "C2 is 71.2%", "--what", "claim C2")
    assert fixed.returncode == 0 and "CORRECTED, 1 correction(s)" in fixed.stdout

    site = tmp_path / "site"
    built = sovereign(home, "site", "build", str(site))
    counted = re.search(r"\((\d+) (reports?)\) in", built.stdout)
    assert built.returncode == 0 and counted and (counted[1] == "1") == (counted[2] == "report")
    for given in ([], ["--dir", str(site)]):
        temp = tmp_path / f"tmp{len(given)}"
        temp.mkdir()
        port = get_free_port()
        args = ("site", "serve", "--port", str(port), *given)
        url = f"http://127.0.0.1:{port}/"
        with (
            _serving(home, *args, env=user_env(home, TMPDIR=str(temp))),
            urllib.request.urlopen(url, timeout=30) as page,
        ):
            assert page.status == 200 and b"Index" in page.read()
        assert list(temp.iterdir()) == [], "site serve left its temporary directory behind"


def test_llm_check_and_eval_scifact(home: Path) -> None:
    check = sovereign(home, "llm", "check")
    assert check.returncode == 2 and check.stderr.startswith("sovereign: no LLM configured")
    shared = Path(os.environ.get("SOVEREIGN_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not (shared / "scifact").is_dir():
        require_component("shared data", f"{shared / 'scifact'} is absent")
    done = sovereign(home, "eval", "scifact", "--verifier", "tfidf", "--limit", "3", timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_missing_paper_is_reported_and_kept_out_of_review(home: Path) -> None:
    done = sovereign(
        home, "research", "What does arXiv 2601.99999 report on MMMU?", "--run-id", "nf"
    )
    assert done.returncode == 1
    assert done.stderr.startswith("sovereign: ") and "2601.99999" in done.stderr
    report = home / "runs" / "nf" / "report.md"
    assert done.stdout.splitlines()[-1] == f"report: {report}"
    assert report.read_text(encoding="utf-8").splitlines()[3].startswith("Not answered — ")
    assert " nf " not in sovereign(home, "review", "list").stdout
    assert re.search(r"^nf\s.*not answered", sovereign(home, "list").stdout, re.M)


def test_research_prints_no_traceback(home: Path) -> None:
    done = sovereign(home, "research", QUANT_Q, "--run-id", "quiet")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]


def test_watch_once_drains_the_logs_and_status_shows_no_lag(home: Path) -> None:
    """The README's `sovereign watch` lines (the acceptance test is tests/integration/
    test_watch.py): one drain consumes every event the ingest appended."""
    before = sovereign(home, "watch", "--status")
    assert before.returncode == 0, before.stderr
    head = int(re.search(r"mirror: cursor \d+, head (\d+)", before.stdout)[1])  # type: ignore[index]
    assert head > 0  # the fixture's ingest appended one event per paper
    done = sovereign(home, "watch", "--once")
    assert done.returncode == 0, done.stderr
    assert "watch: consumed" in done.stderr
    after = sovereign(home, "watch", "--status")
    assert f"mirror: cursor {head}, head {head}, lag 0" in after.stdout
