"""Keeping credentials out of everything the kernel stores or prints.

A key enters through one door (the LLM or embedding client it is handed to) and can leave
through any error message that echoes the request: a 401 body quoting the Authorization
header would otherwise reach the run's state, run.json, the checkpoints, the publication store
and the site. So the clients register the keys they hold (`register_secret`), scrub their own
error messages, and the storage write points pass their text through `redact_text` as a last
line of defence. Key-shaped substrings (nvapi-..., sk-..., Bearer ...) and the value of any
`Authorization`/`api-key` field are masked even when no key was registered."""

from __future__ import annotations

import re
import threading
from typing import Any

REDACTED = "[REDACTED]"
MIN_SECRET_CHARS = 6  # shorter "keys" (e.g. "no-key" placeholders) would mask ordinary words

# Key words that name a credential. Matched per word of a key ("llm_api_key", "auth-token"),
# so counts such as `llm_max_tokens` or `prompt_tokens` are not mistaken for secrets.
_SECRET_WORDS = {"apikey", "token", "secret", "password", "passwd", "authorization", "bearer"}
# A credential-like token: 8+ URL/base64 characters with a digit ("Bearer tokens" in a paper's
# prose is no key; stored text is masked only where it is a credential with high likelihood).
_TOKEN = r"(?=[A-Za-z0-9._~+/=\-]*\d)[A-Za-z0-9._~+/=\-]{8,}"
_SECRET_VALUE = re.compile(
    rf"\b(nvapi-[A-Za-z0-9_\-]{{8,}}|sk-[A-Za-z0-9_\-]{{8,}}|Bearer\s+{_TOKEN})"
)
# `Authorization: Bearer xyz`, `"authorization": "xyz"`, `x-api-key=xyz` as a server may echo them
_SECRET_FIELD = re.compile(
    r"(?P<name>\b(?:authorization|x-api-key|api[-_]?key)[\"']?\s*[:=]\s*[\"']?)"
    rf"(?P<value>(?:Bearer|Basic)\s+[^\s\"',}}\[\]]+|{_TOKEN})",
    re.IGNORECASE,
)
_known: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a credential this process holds, so `redact_text` masks it wherever it shows up."""
    if value and len(value) >= MIN_SECRET_CHARS:
        with _lock:
            _known.add(value)


def redact_text(text: str) -> str:
    """`text` with every registered key, key-shaped token and credential field value masked."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)  # a key containing another goes first
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _SECRET_FIELD.sub(lambda m: m.group("name") + REDACTED, text)
    return _SECRET_VALUE.sub(REDACTED, text)


def is_secret_key(key: str) -> bool:
    """True when a mapping key names a credential ("api_key", "llm_api_key", "auth-token")."""
    words = [w for w in re.split(r"[^a-z0-9]+", key.lower()) if w]
    joined = {a + b for a, b in zip(words, words[1:], strict=False)}  # "api", "key" -> "apikey"
    return bool((set(words) | joined) & _SECRET_WORDS)


def redact(value: Any, key: str = "") -> Any:
    """Mask values under secret-looking keys and secrets inside any string, recursively."""
    if key and is_secret_key(key) and value not in (None, "", 0):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def scrub(value: Any) -> Any:
    """`value` with `redact_text` applied to every string in it (keys and numbers untouched):
    the last-line filter at the points where a run's data is stored."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value
