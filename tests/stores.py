"""The session log on each backend, for tests that must hold on both: `open_store` opens
store instances (a restarted station is a second one) on one SQLite file or one fresh
PostgreSQL database, and reads it back through a connection of its own."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from monitor.storage.backends import open_session_log
from monitor.storage.sqlite import SessionStore

BACKENDS = ("sqlite", "postgres")


@dataclass
class StoreUnderTest:
    backend: str
    path: Path  # the SQLite file (its folder also holds what a station keeps locally)
    url: str | None  # the PostgreSQL database, or None on SQLite

    def __call__(self, flush_interval_s: float = 0.5) -> SessionStore:
        """One more store instance on this log."""
        return open_session_log(self.path, self.url, flush_interval_s)

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        """A statement on a connection of its own, committed: what another process sees."""
        if self.url is not None:
            with psycopg.connect(self.url, autocommit=True) as conn:
                cur = conn.execute(sql)
                return cur.fetchall() if cur.description else []
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def count(self, table: str) -> int:
        return int(self.run(f"SELECT COUNT(*) FROM {table}")[0][0])


@pytest.fixture(params=BACKENDS)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreUnderTest:
    url = request.getfixturevalue("pg_database") if request.param == "postgres" else None
    return StoreUnderTest(request.param, tmp_path / "s.db", url)
