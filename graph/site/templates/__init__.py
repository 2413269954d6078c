"""Jinja2 templates of the public site (package data)."""
