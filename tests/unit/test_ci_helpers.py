"""The conftest helpers that decide between skip and fail: under CI=true a missing component
fails with one line, elsewhere it skips with the same line; console scripts are found beside
the interpreter first, then on PATH."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests import conftest
from tests.conftest import console_script, import_component, require_component, shared_file


@pytest.fixture
def no_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")


def test_missing_component_fails_under_ci(ci: None) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"^widget is missing: apt-get install it"):
        require_component("widget", "apt-get install it")


def test_missing_component_skips_outside_ci(no_ci: None) -> None:
    with pytest.raises(pytest.skip.Exception, match=r"^widget is missing: apt-get install it$"):
        require_component("widget", "apt-get install it")


@pytest.mark.parametrize("value", ["", "false", "0"])
def test_ci_must_say_true(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception):
        require_component("widget", "why")


def test_console_script_beside_the_interpreter_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv_bin, path_bin = tmp_path / "venv" / "bin", tmp_path / "path"
    for folder in (venv_bin, path_bin):
        folder.mkdir(parents=True)
        tool = folder / "sov-tool"
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))  # need not exist
    monkeypatch.setenv("PATH", str(path_bin))
    assert console_script("sov-tool", hint="-") == str(venv_bin / "sov-tool")
    (venv_bin / "sov-tool").unlink()
    assert console_script("sov-tool", hint="-") == str(path_bin / "sov-tool")
    (path_bin / "sov-tool").chmod(0o644)  # not executable: not found
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="sov-tool / other is missing: not beside"):
        console_script("sov-tool", "other", hint="apt-get install sov-tool")


def test_console_script_and_import_skip_outside_ci(no_ci: None) -> None:
    with pytest.raises(pytest.skip.Exception, match="no-such-sov-tool is missing"):
        console_script("no-such-sov-tool", hint="-")
    with pytest.raises(pytest.skip.Exception, match="no_such_sov_module is missing"):
        import_component("no_such_sov_module", "pip install it")
    assert import_component("json", "-").dumps([]) == "[]"


def test_absent_shared_data_fails_under_ci_and_skips_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path)
    (tmp_path / "here.txt").write_text("x")
    assert shared_file("here.txt") == tmp_path / "here.txt"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="shared data is missing"):
        shared_file("absent.txt")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="shared data is missing"):
        shared_file("absent.txt")
