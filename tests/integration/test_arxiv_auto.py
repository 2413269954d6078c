"""`arxiv_mode = auto`, the default: the local mirror when one has been ingested, else arXiv's
API online after one light request (here a loopback server speaking arXiv's Atom protocol),
else one line that gives both ways in. The choice is what the run's Methodology states."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.services import Services
from graph.settings import Settings
from memory.arxiv_client import ArxivSearch
from memory.errors import ServiceUnavailable
from memory.mirror.ingest import ingest
from memory.mirror.server import start_background
from tests.conftest import get_free_port, run_cli

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "graph" / "mirror_small.jsonl"


def _mirror(path: Path) -> Path:
    ingest(path, [FIXTURE], progress=False)
    return path


@pytest.fixture
def online(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A stand-in for arXiv's API on loopback: the project's mirror server over its own db."""
    handle = start_background(_mirror(tmp_path / "stand-in.db"), host="127.0.0.1", port=0)
    yield handle
    handle.close()


def _services(home: Path, **kw: object) -> Services:
    return Services(Settings(home=home, **kw))  # type: ignore[arg-type]


def test_auto_uses_the_local_mirror_when_one_was_ingested(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _mirror(home / "mirror.db")
    services = _services(home, arxiv_online_url="http://127.0.0.1:9/api/query")
    try:
        search = services.search()
        assert isinstance(search, ArxivSearch)
        assert search.query_url.startswith("http://127.0.0.1:")
        assert search.delay_s == 0.0
        assert services.arxiv_source and services.arxiv_source.startswith("local arXiv mirror")
        assert search.search("all:moe", max_results=3)
    finally:
        services.close()


def test_auto_goes_online_without_a_mirror(tmp_path: Path, online) -> None:  # type: ignore[no-untyped-def]
    services = _services(tmp_path / "home", arxiv_online_url=online.query_url)
    try:
        search = services.search()
        assert isinstance(search, ArxivSearch)
        assert search.query_url == online.query_url
        assert search.delay_s == 3.0  # online: arXiv's own pace, shared by every thread
        assert services.arxiv_source == f"arXiv API online ({online.query_url})"
    finally:
        services.close()


def test_online_default_keeps_arxivs_three_seconds(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert settings.arxiv_mode == "auto"
    assert settings.arxiv_delay(online=True) == 3.0
    assert settings.arxiv_delay(online=False) == 0.0


def test_neither_mirror_nor_arxiv_is_one_line_naming_both_ways_in(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{get_free_port()}/api/query"
    services = _services(tmp_path / "home", arxiv_online_url=dead, arxiv_timeout_s=2)
    with pytest.raises(ServiceUnavailable) as caught:
        services.search()
    message = str(caught.value)
    assert "\n" not in message
    assert "sovereign mirror ingest" in message and dead in message


def test_cli_without_mirror_or_arxiv_stops_with_one_line(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{get_free_port()}/api/query"
    env = {
        "SOVEREIGN_HOME": str(tmp_path / "home"),
        "SOVEREIGN_ARXIV_ONLINE_URL": dead,
        "SOVEREIGN_ARXIV_TIMEOUT_S": "2",
        "SOVEREIGN_LOG_LEVEL": "WARNING",
        "PATH": "/usr/bin:/bin",
    }
    done = run_cli("research", "Does HAWK prune visual tokens?", "--no-owner-review", env=env)
    assert done.returncode != 0
    assert "no arXiv source" in done.stderr and "sovereign mirror ingest" in done.stderr
    assert "Traceback" not in done.stderr
