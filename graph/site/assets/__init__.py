"""Bundled JS/CSS of the public site (package data; no CDN)."""
