"""One module per agent role. Each proposes (optionally through an LLM) and the deterministic
core decides."""
