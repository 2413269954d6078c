"""A throwaway PostgreSQL server for tests: Debian's binaries (`.ci/install` installs the
`postgresql` package), a cluster initdb'd in a fresh temporary directory, listening on a free
loopback port and a unix socket in that directory, stopped and deleted at teardown. initdb
refuses to run as root, so under root the cluster belongs to the `postgres` account the
package creates. Missing binaries: skip (fail under CI=true), as conftest's helpers do."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import get_free_port, import_component, require_component

HINT = "apt-get install postgresql (.ci/install does)"


def pg_bin_dir() -> Path:
    """Where initdb and pg_ctl are: on PATH, else Debian's versioned directory."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not versions:
        require_component("PostgreSQL server (initdb, pg_ctl)", f"not found ({HINT})")
    return Path(versions[-1]).parent


def _as_owner(argv: list[str]) -> list[str]:
    """Run as the `postgres` account when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return argv
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        require_component("the postgres account", f"running as root needs it ({HINT})")
    return ["runuser", "-u", "postgres", "--", *argv]


class Cluster:
    """One running server; `url(db)` names a database on it."""

    def __init__(self) -> None:
        self.bin = pg_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="sovereign-pg-"))
        self.data = self.root / "data"
        self.port = get_free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *argv: str) -> None:
        done = subprocess.run(
            _as_owner([str(self.bin / argv[0]), *argv[1:]]),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.resume()

    def halt(self) -> None:
        """Stop the server as a crash would (clients see their connections drop); keep its data
        for `resume`."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def resume(self) -> None:
        """Start the server on its data directory, on the same port."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c max_connections=100"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w",
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():  # not halted, nor failed to start
                self.halt()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        """A fresh, empty database, so no test sees another's queue or checkpoints."""
        psycopg = import_component("psycopg", "pip install -e '.[postgres]'")
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    try:
        cluster.start()
    except RuntimeError as exc:
        shutil.rmtree(cluster.root, ignore_errors=True)
        require_component("a working PostgreSQL server", str(exc).splitlines()[0])
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> str:
    """URL of an empty database on the session's throwaway server."""
    return postgres_cluster.new_database()
