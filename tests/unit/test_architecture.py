"""The layout the other work builds on: rooms import downward only (memory <- agents <- graph,
checked by import-linter's contract in pyproject.toml), no module grows past 500 lines, and
the graph's wiring stays readable in one screen."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

from tests.conftest import console_script

REPO = Path(__file__).resolve().parents[2]
ROOMS = ("agents", "graph", "memory", "prompts")
MAX_MODULE_LINES = 500
MAX_BUILDER_LINES = 150


def test_rooms_import_downward_only() -> None:
    done = subprocess.run(
        [console_script("lint-imports", hint="pip install import-linter"), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _modules() -> list[Path]:
    return [p for room in ROOMS for p in (REPO / room).rglob("*.py")]


def test_no_module_over_500_lines() -> None:
    long = {
        str(p.relative_to(REPO)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_builder_reads_in_one_screen() -> None:
    lines = (REPO / "graph" / "builder.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_BUILDER_LINES


def _guarded_room_imports(tree: ast.AST) -> list[int]:
    """Line numbers of our own modules imported inside `try` blocks that catch ImportError."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
        if not caught & {"ImportError", "ModuleNotFoundError"}:
            continue
        for stmt in node.body:
            for inner in ast.walk(stmt):
                if (
                    isinstance(inner, ast.ImportFrom)
                    and (inner.module or "").split(".")[0] in ROOMS
                ):
                    lines.append(inner.lineno)
                if isinstance(inner, ast.Import) and any(
                    a.name.split(".")[0] in ROOMS for a in inner.names
                ):
                    lines.append(inner.lineno)
    return lines


def test_no_guarded_imports_of_parts_that_always_ship() -> None:
    """`except ImportError` around our own modules hid import cycles; none may come back."""
    offenders = {
        str(p.relative_to(REPO)): found
        for p in _modules()
        if (found := _guarded_room_imports(ast.parse(p.read_text(encoding="utf-8"))))
    }
    assert not offenders, offenders


def test_no_script_folder_file_is_named_like_a_stdlib_module() -> None:
    """`python bench/x.py` puts bench/ first on sys.path, so a bench/queue.py replaced the
    standard `queue` for every bench script (urllib3, hence the arXiv client, failed to
    import: `python bench/scifact.py` crashed)."""
    import sys

    clashes = [
        p.relative_to(REPO).as_posix()
        for folder in ("bench", ".ci")
        for p in (REPO / folder).glob("*.py")
        if p.stem in sys.stdlib_module_names
    ]
    assert clashes == []
