"""A real, private PostgreSQL for the tests and the bench: initdb into a temporary folder,
started on a free loopback port with its unix socket in that folder, stopped afterwards.

As root the server runs as the `postgres` OS user (PostgreSQL refuses to run as root). CI
must have PostgreSQL (`make test` installs Debian's); elsewhere the tests that need it skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

START_TIMEOUT_S = 30.0
SUPERUSER = "postgres"


def pg_bin(tool: str) -> Path | None:
    """A PostgreSQL server tool: on PATH, else in the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(tool)
    if found:
        return Path(found)
    versions = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(versions[-1]) if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", SUPERUSER, "--", *cmd] if os.geteuid() == 0 else cmd


def _accepting(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def private_cluster(durable: bool = False) -> Iterator[str]:
    """A running cluster; yields the superuser's URL to its `postgres` database. Without
    `durable`, fsync is off: tests need no crash safety and run faster."""
    initdb, pg_ctl = pg_bin("initdb"), None
    if initdb is not None:
        pg_ctl = initdb.parent / "pg_ctl"
    if initdb is None or not pg_ctl or not pg_ctl.exists():
        raise FileNotFoundError("PostgreSQL's initdb and pg_ctl are not installed")
    folder = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, SUPERUSER)
    data, port = folder / "data", _free_port()
    subprocess.run(
        _as_server_user(
            [str(initdb), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8"]
            + ["--no-locale", "--no-sync"]
        ),
        check=True,
        capture_output=True,
        cwd=folder,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    ctl = [str(pg_ctl), "-D", str(data), "-l", str(folder / "server.log")]
    url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
    try:
        # -w: pg_ctl itself waits until the server accepts connections
        subprocess.run(
            _as_server_user([*ctl, "-o", options, "-w", "-t", str(int(START_TIMEOUT_S)), "start"]),
            check=True,
            capture_output=True,
            cwd=folder,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _accepting(url):  # each try waits on the socket, not on a timer
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL on port {port} never accepted a connection")
        yield url
    finally:
        subprocess.run(
            _as_server_user([*ctl, "-m", "fast", "-w", "stop"]), capture_output=True, cwd=folder
        )
        shutil.rmtree(folder, ignore_errors=True)


def create_database(server_url: str, name: str | None = None) -> str:
    """A new, empty database on the cluster; returns its URL."""
    name = name or f"monitor_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the `monitor` database on a private cluster, one per test process."""
    if pg_bin("initdb") is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI (apt-get install postgresql)")
        pytest.skip("PostgreSQL's initdb is not installed; `make test` installs it")
    with private_cluster() as server:
        yield create_database(server, "monitor")


@pytest.fixture
def pg_database(postgres_url: str) -> str:
    """A fresh, empty database for one test, on the session's cluster."""
    return create_database(postgres_url)
