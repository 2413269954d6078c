"""Errors every layer may raise; the CLI prints them as one line, never a traceback."""


class UserError(Exception):
    """An expected failure (bad input, a service down, a missing model): one clear line."""


class ServiceUnavailable(UserError):
    """A remote or local service (arXiv, mirror, NIM, LLM, Chroma) could not be reached."""


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none): drivers such
    as psycopg put a multi-line report in one exception, and we say one line."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
