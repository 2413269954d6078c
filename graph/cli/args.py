"""Argument parsing that fails the way the rest of the CLI does: one line, exit 2, and the
value checked against the same rule the settings apply (a flag out of range is a usage
error, before any run is created)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn

from pydantic import TypeAdapter, ValidationError

from graph.settings import Settings, allowed


class OneLineParser(argparse.ArgumentParser):
    """argparse prints the whole usage before an error; for `sovereign research` that is
    twenty lines burying the one that matters. Sub-parsers inherit the class."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def port(text: str) -> int:
    """A TCP port; 0 asks the system for a free one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: expected 0 to 65535")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is out of range: expected 1 or more")
    return value


def setting_type(name: str) -> Callable[[str], Any]:
    """A flag's parser for the Settings field `name`: its type, range and choices."""
    info = Settings.model_fields[name]
    kind: Any = info.annotation
    if info.metadata:  # the field's type with its range
        kind = Annotated[kind, *info.metadata]
    adapter: TypeAdapter[Any] = TypeAdapter(kind)

    def parse(text: str) -> Any:
        try:
            return adapter.validate_python(text)
        except ValidationError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is invalid: expected {allowed(name)}"
            ) from None

    parse.__name__ = name  # argparse names the type in some messages
    return parse
