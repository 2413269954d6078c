"""Offline arXiv mirror: `ingest` (metadata JSONL -> SQLite + FTS5), `search` (arXiv's query
semantics), `server` (arXiv's /api/query over HTTP) and `cli` (`sovereign mirror ...`)."""
