"""The session log on PostgreSQL, for a central station several stations write to.

Everything the store does (batched writes, compaction into columnar chunks, alarm summary
rows, the reads of the review, exports and audit) is SessionStore's own code; this class
only gives it a pooled PostgreSQL connection (pg_connection.py) and a migrated schema
(pg_schema.py). Session display ids come from one sequence in the database, so they are
unique across every station writing to it, as the `uid`s are everywhere.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from monitor.ports import StoreError
from monitor.storage.pg_connection import PgConnection, PgRow, one_line
from monitor.storage.pg_schema import migrate
from monitor.storage.sqlite import SessionStore

POOL_SIZE = 8  # the writer, the beds' immediate writes and a few review pages at once


class PostgresStore(SessionStore):
    """SessionStore over a psycopg pool. `url` is postgresql://user@host:port/db; the
    password comes from PGPASSWORD or ~/.pgpass, never from the URL."""

    def __init__(self, url: str, flush_interval_s: float = 0.5, pool_size: int = POOL_SIZE):
        self.url = url
        self.pool_size = pool_size
        super().__init__(url, flush_interval_s)

    def _connect(self) -> PgConnection:
        try:
            return PgConnection.open(self.url, self.pool_size, prepare=_migrate)
        except sqlite3.Error as err:
            raise StoreError(f"{self.url}: cannot open the session log database: {err}") from None

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[PgRow]:
        # no store lock: each read borrows its own pooled connection, so a review page
        # never waits behind a flush
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as err:
            raise StoreError(f"{self.where}: read failed: {err}") from None


def _migrate(conn: Any) -> None:
    try:
        migrate(conn)
    except StoreError:
        raise
    except Exception as err:  # psycopg's, named in one line by the caller's handler
        raise sqlite3.DatabaseError(f"schema migration failed: {one_line(err)}") from None
