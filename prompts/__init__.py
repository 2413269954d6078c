"""Prompt templates, one text file per LLM role, shipped as package data and read by
`agents.llm.rendering.load_template`."""
