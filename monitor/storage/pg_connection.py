"""The session log's statements run on PostgreSQL through a psycopg connection pool.

SessionStore speaks to its connection in SQLite's terms: `?` placeholders, INSERT OR IGNORE,
BEGIN/COMMIT/ROLLBACK as statements, `cursor.lastrowid`, rows readable by index and by
column name, and sqlite3 exceptions. This adapter gives it exactly that over PostgreSQL, so
the store's logic (batching, compaction, alarm summaries, reads) exists once. The schema
itself is not translated: PostgreSQL's is written out in pg_schema.py (REAL there would be
4 bytes, too coarse for epoch seconds).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import Cursor
from psycopg_pool import ConnectionPool

CONNECT_TIMEOUT_S = 5  # an unreachable server is reported, not waited for
POOL_TIMEOUT_S = 5.0  # a statement waits at most this long for a free connection
_IDENTITY_TABLES = ("sessions", "events", "alarms", "audit")  # `id` comes from a sequence
_INSERT_INTO = re.compile(r"^INSERT INTO (\w+) ")


class PgRow(tuple):
    """A row as sqlite3.Row reads: by position, by column name, and as a dict."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> PgRow:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            key = self._index[key]
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def pg_row(cursor: Cursor[Any]) -> Callable[[Sequence[Any]], PgRow]:
    """psycopg row factory for PgRow."""
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: PgRow(values, index)


@lru_cache(maxsize=256)
def to_postgres(sql: str, returning_id: bool = False) -> str:
    """One of the store's statements in PostgreSQL's dialect."""
    if sql.startswith("INSERT OR IGNORE "):
        sql = "INSERT " + sql.removeprefix("INSERT OR IGNORE ") + " ON CONFLICT DO NOTHING"
    sql = re.sub(r"\buser\b", '"user"', sql)  # a reserved word in PostgreSQL
    sql = sql.replace("%", "%%").replace("?", "%s")  # no statement has `?` inside a literal
    table = _INSERT_INTO.match(sql)
    if returning_id and table and table.group(1) in _IDENTITY_TABLES:
        sql += " RETURNING id"  # what sqlite3 gives as cursor.lastrowid
    return sql


def one_line(err: BaseException) -> str:
    """A psycopg message (often several lines: DETAIL, HINT) as one line."""
    return " ".join(part.strip() for part in str(err).splitlines() if part.strip())


@contextmanager
def as_sqlite_errors() -> Iterator[None]:
    """psycopg failures as the sqlite3 exceptions SessionStore already turns into a
    StoreError, a failed flush kept for retry, or a compaction tried later."""
    try:
        yield
    except psycopg.IntegrityError as err:
        raise sqlite3.IntegrityError(one_line(err)) from None
    except psycopg.OperationalError as err:  # the server is gone, or no free connection
        raise sqlite3.OperationalError(one_line(err)) from None
    except psycopg.Error as err:
        raise sqlite3.DatabaseError(one_line(err)) from None


class Result:
    """What a statement returned, read at once so its connection goes back to the pool."""

    def __init__(self, rows: list[PgRow], lastrowid: int | None = None) -> None:
        self._rows = rows
        self.lastrowid = lastrowid

    def fetchall(self) -> list[PgRow]:
        return self._rows

    def fetchone(self) -> PgRow | None:
        return self._rows[0] if self._rows else None

    def __iter__(self) -> Iterator[PgRow]:
        return iter(self._rows)


class PgConnection:
    """The subset of sqlite3.Connection the store uses. A transaction holds one pooled
    connection for its thread from BEGIN to COMMIT or ROLLBACK; any other statement borrows
    one for itself, so reads on other threads never wait for a flush."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._local = threading.local()  # this thread's open transaction, if any

    @classmethod
    def open(
        cls, url: str, pool_size: int, prepare: Callable[[psycopg.Connection[Any]], None]
    ) -> PgConnection:
        """Connect once (a refused connection raises its own message, not a pool timeout),
        run `prepare` (the migrations) on that connection, then open the pool."""
        with as_sqlite_errors(), psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            prepare(conn)
        pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={
                "autocommit": True,
                "row_factory": pg_row,
                "connect_timeout": CONNECT_TIMEOUT_S,
                "application_name": "ketamine-monitor",
            },
            timeout=POOL_TIMEOUT_S,
            check=ConnectionPool.check_connection,  # a server restart costs no statement
            name="session-log",
            open=False,
        )
        with as_sqlite_errors():
            pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        return cls(pool)

    @property
    def in_transaction(self) -> bool:
        return getattr(self._local, "conn", None) is not None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        word = sql.strip().upper()
        if word == "BEGIN":
            return self._begin()
        if word in ("COMMIT", "ROLLBACK"):
            return self._end(word)
        with as_sqlite_errors(), self._borrowed() as conn:
            cur = conn.execute(to_postgres(sql, returning_id=True), tuple(params))
            rows: list[PgRow] = cur.fetchall() if cur.description else []
        lastrowid = rows[0][0] if rows and sql.startswith("INSERT") else None
        return Result([] if lastrowid is not None else rows, lastrowid)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Result:
        """Many rows of one statement in one pipelined round of the protocol."""
        with as_sqlite_errors(), self._borrowed() as conn, conn.cursor() as cur:
            cur.executemany(to_postgres(sql), [tuple(r) for r in rows])
        return Result([])

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _borrowed(self) -> Iterator[psycopg.Connection[Any]]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
        else:
            with self._pool.connection() as conn:
                yield conn

    def _begin(self) -> Result:
        if self.in_transaction:
            raise sqlite3.OperationalError("cannot start a transaction within a transaction")
        with as_sqlite_errors():
            conn = self._pool.getconn()
            try:
                conn.execute("BEGIN")
            except psycopg.Error:
                self._pool.putconn(conn)
                raise
        self._local.conn = conn
        return Result([])

    def _end(self, word: str) -> Result:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            raise sqlite3.OperationalError(f"cannot {word.lower()}: no transaction is active")
        self._local.conn = None
        try:
            with as_sqlite_errors():
                conn.execute(word)
        except sqlite3.Error:
            if word == "COMMIT":
                raise
            # a rollback on a broken connection has nothing left to undo; the pool drops it
        finally:
            self._pool.putconn(conn)
        return Result([])
