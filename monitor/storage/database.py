"""The session log file: SQLite in WAL mode, its schema, its migrations, guarded access."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from monitor.files import SharedFileError, private_file, private_folder
from monitor.ports import StoreError
from monitor.storage.ids import new_uid

SCHEMA_VERSION = 7
MIGRATES_FROM = 3  # 4, 5 and 7 only added tables (waves, chunks; users, audit; logins);
# 6 added sessions.uid

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bed TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('live', 'simulated')),
    started_at REAL NOT NULL,
    ended_at REAL,
    weight_kg REAL NOT NULL,
    rate_mg_kg_h REAL NOT NULL,
    state TEXT NOT NULL,
    patient_ref TEXT NOT NULL DEFAULT '',
    indication TEXT NOT NULL DEFAULT '',
    regimen TEXT NOT NULL DEFAULT '',
    concentration_mg_ml REAL NOT NULL DEFAULT 10,
    uid TEXT
);
CREATE INDEX IF NOT EXISTS sessions_open ON sessions (bed, ended_at);
CREATE TABLE IF NOT EXISTS readings (
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    t REAL NOT NULL,
    signal TEXT NOT NULL,
    value REAL NOT NULL,
    quality TEXT NOT NULL DEFAULT 'valid'
);
CREATE UNIQUE INDEX IF NOT EXISTS readings_key ON readings (session_id, signal, t);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER REFERENCES sessions (id),
    bed TEXT NOT NULL,
    t REAL NOT NULL,
    kind TEXT NOT NULL,
    user TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_session ON events (session_id, t);
CREATE INDEX IF NOT EXISTS events_bed ON events (bed, t);
CREATE TABLE IF NOT EXISTS alarms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER REFERENCES sessions (id),
    bed TEXT NOT NULL,
    name TEXT NOT NULL,
    signal TEXT NOT NULL,
    priority TEXT NOT NULL,
    onset_t REAL NOT NULL,
    end_t REAL,
    onset_value REAL,
    worst_value REAL,
    op TEXT NOT NULL,
    limit_value REAL,
    delay_s REAL NOT NULL,
    technical INTEGER NOT NULL DEFAULT 0,
    acked_at REAL,
    acked_by TEXT,
    escalated_at REAL,
    priority_now TEXT,
    ended_by TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS alarms_key ON alarms (bed, name, onset_t);
CREATE INDEX IF NOT EXISTS alarms_session ON alarms (session_id, onset_t);
CREATE TABLE IF NOT EXISTS waves (
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    signal TEXT NOT NULL,
    t0 REAL NOT NULL,
    rate_hz REAL NOT NULL,
    samples BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS waves_key ON waves (session_id, signal, t0);
CREATE TABLE IF NOT EXISTS chunks (
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    signal TEXT NOT NULL,
    wave INTEGER NOT NULL,
    rate_hz REAL NOT NULL DEFAULT 0,
    t0 REAL NOT NULL,
    t1 REAL NOT NULL,
    n INTEGER NOT NULL,
    t BLOB NOT NULL,
    v BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_key ON chunks (session_id, signal, t0);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    pw_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    t REAL NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS logins (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    started_at REAL NOT NULL,
    last_active REAL NOT NULL,
    ended_at REAL,
    end_reason TEXT
);
CREATE INDEX IF NOT EXISTS logins_open ON logins (username) WHERE ended_at IS NULL;
"""


def _add_session_uids(db: sqlite3.Connection) -> None:
    """Schema 6: sessions of older logs get a uid, made from their start time."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
    if "uid" not in columns:
        db.execute("ALTER TABLE sessions ADD COLUMN uid TEXT")
    missing = db.execute("SELECT id, started_at FROM sessions WHERE uid IS NULL").fetchall()
    db.executemany(
        "UPDATE sessions SET uid = ? WHERE id = ?", [(new_uid(t), i) for i, t in missing]
    )
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS sessions_uid ON sessions (uid)")


def open_log(path: Path) -> sqlite3.Connection:
    """Open (or create) a session log in WAL mode, migrated to SCHEMA_VERSION."""
    try:
        private_folder(path.parent)
        private_file(path)  # the WAL and SHM files take the log's mode
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"{path}: WAL mode refused (got {mode})")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if 0 < version < MIGRATES_FROM:
            raise StoreError(
                f"{path}: session log schema {version} is older than {SCHEMA_VERSION};"
                " move it aside (it stays readable) and start a new one"
            )
        db.executescript(_SCHEMA)
        # IMMEDIATE: two processes opening an old log cannot both add the column
        db.execute("BEGIN IMMEDIATE")
        try:
            _add_session_uids(db)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("COMMIT")
        except sqlite3.Error:
            db.execute("ROLLBACK")
            raise
    except SharedFileError as err:
        raise StoreError(str(err)) from None
    except (sqlite3.Error, OSError) as err:
        raise StoreError(f"{path}: cannot open session log: {err}") from None
    return db


class Database:
    """One session log file shared by the threads of a station: every statement holds the
    connection's lock, and a failed statement is a one-line StoreError."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.where = str(path)  # what every error names: the file, or a database URL
        self._db = self._connect()
        self._lock = threading.RLock()  # the database connection

    def _connect(self) -> Any:
        """The connection the store's statements run on (postgres.py gives its own)."""
        return open_log(self.path)

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, params)
            except sqlite3.Error as err:
                raise StoreError(f"{self.where}: write failed: {err}") from None

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as err:
                raise StoreError(f"{self.where}: read failed: {err}") from None
