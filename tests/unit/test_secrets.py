"""Issue 18.3: the scrubber that runs on everything a run stores masks credentials, and only
credentials (paper prose that says "Bearer tokens" or "authorization: we ..." is data)."""

from __future__ import annotations

from memory.secrets import REDACTED, redact_text, register_secret, scrub


def test_a_registered_key_is_masked_wherever_it_appears() -> None:
    register_secret("tenant-key-without-shape")
    text = "401 for tenant-key-without-shape (echoed in the body: tenant-key-without-shape)"
    assert redact_text(text) == f"401 for {REDACTED} (echoed in the body: {REDACTED})"


def test_echoed_headers_and_key_shapes_are_masked() -> None:
    echoed = '{"authorization": "Bearer abcdefghijkl", "x-api-key": "k3y-0123456789"}'
    assert redact_text(echoed) == f'{{"authorization": "{REDACTED}", "x-api-key": "{REDACTED}"}}'
    assert REDACTED in redact_text("key sk-proj-0123456789abcdef or nvapi-abcdefghijklmnop")
    assert redact_text("Authorization: Bearer abcdefghijkl") == f"Authorization: {REDACTED}"


def test_prose_is_left_alone() -> None:
    prose = "Bearer tokens and authorization: we propose OAuth flows (api keys rotate daily)."
    assert redact_text(prose) == prose


def test_scrub_touches_strings_only() -> None:
    register_secret("sekrit-value-42")
    state = {"llm_max_tokens": 1024, "errors": ["echo sekrit-value-42"], "n": 3}
    assert scrub(state) == {"llm_max_tokens": 1024, "errors": [f"echo {REDACTED}"], "n": 3}
