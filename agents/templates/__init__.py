"""Jinja2 templates of the reports agents write (package data)."""
