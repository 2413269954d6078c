"""Errors every layer may raise; the CLI prints them as one line, never a traceback."""


class UserError(Exception):
    """An expected failure (bad input, a service down, a missing model): one clear line."""


class ServiceUnavailable(UserError):
    """A remote or local service (arXiv, mirror, NIM, LLM, Chroma) could not be reached."""
