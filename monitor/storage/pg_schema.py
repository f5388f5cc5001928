"""The session log's schema on PostgreSQL, as ordered, versioned migrations.

Each migration runs once, in version order, and is recorded in `schema_version`. All run in
one transaction under an advisory lock, so two stations starting against one database at
the same moment migrate it once: the second waits, then finds nothing left to do. Columns
mirror database.py's SQLite schema, with DOUBLE PRECISION for every time and value and
BYTEA for the columnar chunks.
"""

from __future__ import annotations

from typing import Any

import psycopg

from monitor.ports import StoreError

# Any constant works; it only has to be the same for every station of this application.
MIGRATION_LOCK = 0x6B6D_5343_4845_4D41

_SESSION_LOG = """
CREATE TABLE sessions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bed TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('live', 'simulated')),
    started_at DOUBLE PRECISION NOT NULL,
    ended_at DOUBLE PRECISION,
    weight_kg DOUBLE PRECISION NOT NULL,
    rate_mg_kg_h DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL,
    patient_ref TEXT NOT NULL DEFAULT '',
    indication TEXT NOT NULL DEFAULT '',
    regimen TEXT NOT NULL DEFAULT '',
    concentration_mg_ml DOUBLE PRECISION NOT NULL DEFAULT 10,
    uid TEXT NOT NULL
);
CREATE UNIQUE INDEX sessions_uid ON sessions (uid);
CREATE INDEX sessions_open ON sessions (bed, ended_at);
CREATE TABLE readings (
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    t DOUBLE PRECISION NOT NULL,
    signal TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    quality TEXT NOT NULL DEFAULT 'valid'
);
CREATE UNIQUE INDEX readings_key ON readings (session_id, signal, t);
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id BIGINT REFERENCES sessions (id),
    bed TEXT NOT NULL,
    t DOUBLE PRECISION NOT NULL,
    kind TEXT NOT NULL,
    "user" TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_session ON events (session_id, t);
CREATE INDEX events_bed ON events (bed, t);
CREATE TABLE alarms (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id BIGINT REFERENCES sessions (id),
    bed TEXT NOT NULL,
    name TEXT NOT NULL,
    signal TEXT NOT NULL,
    priority TEXT NOT NULL,
    onset_t DOUBLE PRECISION NOT NULL,
    end_t DOUBLE PRECISION,
    onset_value DOUBLE PRECISION,
    worst_value DOUBLE PRECISION,
    op TEXT NOT NULL,
    limit_value DOUBLE PRECISION,
    delay_s DOUBLE PRECISION NOT NULL,
    technical INTEGER NOT NULL DEFAULT 0,
    acked_at DOUBLE PRECISION,
    acked_by TEXT,
    escalated_at DOUBLE PRECISION,
    priority_now TEXT,
    ended_by TEXT
);
CREATE UNIQUE INDEX alarms_key ON alarms (bed, name, onset_t);
CREATE INDEX alarms_session ON alarms (session_id, onset_t);
CREATE TABLE waves (
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    signal TEXT NOT NULL,
    t0 DOUBLE PRECISION NOT NULL,
    rate_hz DOUBLE PRECISION NOT NULL,
    samples BYTEA NOT NULL
);
CREATE INDEX waves_key ON waves (session_id, signal, t0);
CREATE TABLE chunks (
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    signal TEXT NOT NULL,
    wave INTEGER NOT NULL,
    rate_hz DOUBLE PRECISION NOT NULL DEFAULT 0,
    t0 DOUBLE PRECISION NOT NULL,
    t1 DOUBLE PRECISION NOT NULL,
    n INTEGER NOT NULL,
    t BYTEA NOT NULL,
    v BYTEA NOT NULL
);
CREATE INDEX chunks_key ON chunks (session_id, signal, t0);
"""

_ACCOUNTS_AND_AUDIT = """
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    pw_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    t DOUBLE PRECISION NOT NULL,
    "user" TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
"""

# Several stations share one database: the store's check-then-insert cannot stop two of
# them opening a session on the same chair at once, this index can.
_ONE_OPEN_SESSION_PER_BED = """
CREATE UNIQUE INDEX sessions_one_open ON sessions (bed) WHERE ended_at IS NULL;
"""

# A login is a row: logging out, a password reset, disabling the user or an admin's "log out
# everywhere" ends it, and a cookie naming an ended login is refused.
_LOGINS = """
CREATE TABLE logins (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    last_active DOUBLE PRECISION NOT NULL,
    ended_at DOUBLE PRECISION,
    end_reason TEXT
);
CREATE INDEX logins_open ON logins (username) WHERE ended_at IS NULL;
"""

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "sessions, readings, events, alarms, waveforms and chunks", _SESSION_LOG),
    (2, "staff accounts and the audit trail", _ACCOUNTS_AND_AUDIT),
    (3, "at most one open session per bed across stations", _ONE_OPEN_SESSION_PER_BED),
    (4, "logins kept by the station, so that ending one is immediate", _LOGINS),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The newest migration applied (0 on an empty database)."""
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection[Any]) -> list[int]:
    """Bring the database to SCHEMA_VERSION; returns the versions applied (none if current).
    A database newer than this station is refused rather than written in a shape it
    does not know."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
            " description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"database schema {current} is newer than this station's {SCHEMA_VERSION};"
                " upgrade the station"
            )
        for version, description, ddl in MIGRATIONS:
            if version > current:
                conn.execute(ddl)  # several statements at once: allowed without parameters
                conn.execute(
                    "INSERT INTO schema_version (version, description) VALUES (%s, %s)",
                    (version, description),
                )
                applied.append(version)
    return applied
