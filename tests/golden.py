"""Golden files of the README quick start: what a run writes (report.md, run.json, the site's
pages), with only what legitimately changes between two runs taken out (clock times, wall
times, the home directory). Two runs of the same code give identical normalised files, so any
difference is a behaviour change that must be intended and listed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).resolve().parent / "golden" / "quickstart"
RUN_ID = "golden-quickstart"

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_SECONDS = re.compile(r"\b\d+(?:\.\d+)? s\b")
_HASH = re.compile(r"\b[0-9a-f]{64}\b")
# keys whose values are clock readings or durations (and the byte sizes of files that hold them)
_VOLATILE = {"start", "end", "wall_s", "retrieved_at", "started_at", "at", "submitted_at", "bytes"}


def _scrub(text: str, home: Path) -> str:
    text = text.replace(str(home), "<HOME>")
    text = _ISO.sub("<TIME>", text)
    text = _DATE.sub("<DATE>", text)
    text = _SECONDS.sub("<N> s", text)
    return _HASH.sub("<SHA256>", text)


def _scrub_json(value: Any, home: Path) -> Any:
    if isinstance(value, dict):
        return {
            k: "<VOLATILE>" if k in _VOLATILE else _scrub_json(v, home) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub_json(v, home) for v in value]
    if isinstance(value, str):
        return _scrub(value, home)
    return value


def normalise(path: Path, home: Path) -> str:
    """A file's text with clock times, durations, hashes and the home directory replaced."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = _scrub_json(json.loads(raw), home)
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return _scrub(raw, home)


def collect(run_dir: Path, site_dir: Path, home: Path) -> dict[str, str]:
    """Golden name -> normalised text, for the run's files and every site page but the assets.
    The transcript (events.jsonl) is left out: parallel branches log in varying order."""
    out = {
        f"run/{p.name}": normalise(p, home)
        for p in sorted(run_dir.glob("*.*"))
        if p.name != "events.jsonl"
    }
    for page in sorted(site_dir.rglob("*")):
        rel = page.relative_to(site_dir)
        if page.is_file() and rel.parts[0] not in ("assets", "schemas"):
            out[f"site/{rel.as_posix()}"] = normalise(page, home)
    return out
