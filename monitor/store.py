"""The session log: an append-only SQLite database in WAL mode.

Readings and alarm transitions are queued and written in one transaction per flush (at least
once per second), so the acquisition threads never wait on the disk. Session and event writes
are rare and important, so they are written at once.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.model import AlarmPhase, AlarmTransition, Reading, SessionInfo, Source

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
MAX_PENDING = 500_000  # ~14 h of 10 numerics at 1 Hz; past that the oldest are dropped and counted

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
    concentration_mg_ml REAL NOT NULL DEFAULT 10
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
"""


class StoreError(Exception):
    """The session log cannot be opened or written."""


@dataclass(frozen=True, slots=True)
class StoreStats:
    readings_written: int
    pending: int
    failed_flushes: int
    dropped: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    session_id: int | None
    bed: str
    t: float
    kind: str
    user: str
    payload: dict[str, Any]


def _session_from_row(row: sqlite3.Row) -> SessionInfo:
    return SessionInfo(
        id=row["id"],
        bed=row["bed"],
        source=row["source"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        weight_kg=row["weight_kg"],
        rate_mg_kg_h=row["rate_mg_kg_h"],
        patient_ref=row["patient_ref"],
        indication=row["indication"],
        regimen=row["regimen"],
        concentration_mg_ml=row["concentration_mg_ml"],
        state=row["state"],
    )


class SessionStore:
    """SQLite-backed session log. Thread-safe; call `start()` to run the batching writer."""

    def __init__(self, path: Path | str, flush_interval_s: float = 0.5) -> None:
        self.path = Path(path)
        self.flush_interval_s = flush_interval_s
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: WAL mode refused (got {mode})")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if 0 < version < SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: session log schema {version} is older than {SCHEMA_VERSION};"
                    " move it aside (it stays readable) and start a new one"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (sqlite3.Error, OSError) as err:
            raise StoreError(f"{self.path}: cannot open session log: {err}") from None
        self._lock = threading.RLock()
        self._pending: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._written = 0
        self._failed = 0
        self._dropped = 0
        self._last_error: str | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._writer, name="store-writer", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.flush()
        with self._lock:
            self._db.close()

    def _writer(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            self.flush()

    # -- queued writes --------------------------------------------------------------------

    def _enqueue(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            if len(self._pending) >= MAX_PENDING:
                self._pending.popleft()
                self._dropped += 1
            self._pending.append((sql, params))

    def append_reading(self, session_id: int, reading: Reading) -> None:
        self._enqueue(
            "INSERT OR IGNORE INTO readings (session_id, t, signal, value, quality) "
            "VALUES (?, ?, ?, ?, ?)",
            (session_id, reading.t, reading.signal, reading.value, str(reading.quality)),
        )

    def record_transition(self, session_id: int | None, tr: AlarmTransition) -> None:
        """Log every alarm transition as an event, and keep one summary row per alarm."""
        self._enqueue(
            "INSERT INTO events (session_id, bed, t, kind, user, payload)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                session_id,
                tr.bed,
                tr.t,
                f"alarm_{tr.state}",
                tr.user or "system",
                json.dumps(
                    {
                        "alarm": tr.name,
                        "signal": tr.signal,
                        "priority": tr.priority.name,
                        "value": tr.value,
                        "worst": tr.worst,
                        "limit": tr.limit,
                        "op": tr.op,
                        "delay_s": tr.delay_s,
                    },
                    sort_keys=True,
                ),
            ),
        )
        open_row = (
            "(SELECT id FROM alarms WHERE bed = ? AND name = ? AND end_t IS NULL"
            " ORDER BY onset_t DESC LIMIT 1)"
        )
        if tr.state is AlarmPhase.ACTIVE:
            self._enqueue(
                "INSERT OR IGNORE INTO alarms (session_id, bed, name, signal, priority, onset_t,"
                " onset_value, worst_value, op, limit_value, delay_s, technical, priority_now)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    tr.bed,
                    tr.name,
                    tr.signal,
                    tr.priority.name,
                    tr.t,
                    tr.value,
                    tr.worst,
                    tr.op,
                    tr.limit,
                    tr.delay_s,
                    int(tr.technical),
                    tr.priority.name,
                ),
            )
        elif tr.state is AlarmPhase.ACKNOWLEDGED:
            self._enqueue(
                f"UPDATE alarms SET acked_at = coalesce(acked_at, ?),"
                f" acked_by = coalesce(acked_by, ?) WHERE id = {open_row}",
                (tr.t, tr.user, tr.bed, tr.name),
            )
        elif tr.state is AlarmPhase.ESCALATED:
            self._enqueue(
                f"UPDATE alarms SET escalated_at = ?, priority_now = ? WHERE id = {open_row}",
                (tr.t, tr.priority.name, tr.bed, tr.name),
            )
        elif tr.state in (AlarmPhase.CLEARED, AlarmPhase.RESET):
            self._enqueue(
                f"UPDATE alarms SET end_t = ?, worst_value = ?, ended_by = ? WHERE id = {open_row}",
                (tr.t, tr.worst, tr.user, tr.bed, tr.name),
            )

    def flush(self) -> int:
        """Write everything queued in one transaction. On failure the batch is kept for retry."""
        with self._lock:
            if not self._pending:
                return 0
            batch = list(self._pending)
            try:
                self._db.execute("BEGIN")
                for sql, params in batch:
                    self._db.execute(sql, params)
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self._failed += 1
                self._last_error = str(err)
                log.error(
                    "session log write failed (%d queued, kept for retry): %s", len(batch), err
                )
                return 0
            for _ in range(len(batch)):
                self._pending.popleft()
            self._written += sum(1 for sql, _ in batch if "INTO readings" in sql)
            self._last_error = None
            return len(batch)

    def stats(self) -> StoreStats:
        with self._lock:
            return StoreStats(
                self._written, len(self._pending), self._failed, self._dropped, self._last_error
            )

    # -- immediate writes -----------------------------------------------------------------

    def _execute(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, params)
            except sqlite3.Error as err:
                raise StoreError(f"{self.path}: write failed: {err}") from None

    def add_event(
        self,
        session_id: int | None,
        bed: str,
        t: float,
        kind: str,
        user: str,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self._execute(
            "INSERT INTO events (session_id, bed, t, kind, user, payload)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, bed, t, kind, user, json.dumps(payload or {}, sort_keys=True)),
        )

    def create_session(
        self, bed: str, source: Source, t: float, plan: dict[str, Any], user: str
    ) -> SessionInfo:
        """A new session in its pre-infusion phase; `plan` is logged as its first event."""
        with self._lock:
            if self.open_session_for(bed) is not None:
                raise StoreError(f"bed {bed!r} already has an open session")
            cur = self._execute(
                "INSERT INTO sessions (bed, source, started_at, weight_kg, rate_mg_kg_h, state,"
                " patient_ref, indication, regimen, concentration_mg_ml)"
                " VALUES (?, ?, ?, ?, ?, 'pre-infusion', ?, ?, ?, ?)",
                (
                    bed,
                    source,
                    t,
                    plan["weight_kg"],
                    plan["planned_rate_mg_kg_h"],
                    plan.get("patient_ref", ""),
                    plan.get("indication", ""),
                    plan.get("regimen", ""),
                    plan.get("concentration_mg_ml", 10.0),
                ),
            )
            session_id = int(cur.lastrowid or 0)
            self.add_event(session_id, bed, t, "session_created", user, dict(plan, source=source))
            return self.session(session_id)

    def append_many(self, session_id: int, rows: list[tuple[float, str, float]]) -> None:
        """Write many (t, signal, value) readings at once, in one transaction (imports)."""
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR IGNORE INTO readings (session_id, t, signal, value)"
                    " VALUES (?, ?, ?, ?)",
                    [(session_id, t, s, v) for t, s, v in rows],
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: import failed: {err}") from None

    def set_phase(self, session_id: int, phase: str) -> None:
        self._execute("UPDATE sessions SET state = ? WHERE id = ?", (phase, session_id))

    def close_session(
        self, session_id: int, t: float, user: str, payload: dict[str, Any] | None = None
    ) -> SessionInfo:
        with self._lock:
            self.flush()  # the record is complete before it is marked closed
            info = self.session(session_id)
            if info.ended_at is not None:
                raise StoreError(f"session {session_id} is already closed")
            self._execute(
                "UPDATE sessions SET ended_at = ?, state = 'closed' WHERE id = ?", (t, session_id)
            )
            self.add_event(session_id, info.bed, t, "session_closed", user, payload or {})
            return self.session(session_id)

    # -- queries --------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as err:
                raise StoreError(f"{self.path}: read failed: {err}") from None

    def session(self, session_id: int) -> SessionInfo:
        rows = self._query("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            raise StoreError(f"{self.path}: no session {session_id}")
        return _session_from_row(rows[0])

    def open_session_for(self, bed: str) -> SessionInfo | None:
        rows = self._query(
            "SELECT * FROM sessions WHERE bed = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1",
            (bed,),
        )
        return _session_from_row(rows[0]) if rows else None

    def sessions(self, bed: str | None = None) -> list[SessionInfo]:
        if bed is None:
            rows = self._query("SELECT * FROM sessions ORDER BY id")
        else:
            rows = self._query("SELECT * FROM sessions WHERE bed = ? ORDER BY id", (bed,))
        return [_session_from_row(r) for r in rows]

    def readings(
        self, session_id: int, since: float | None = None, signals: Iterable[str] | None = None
    ) -> list[tuple[float, str, float]]:
        """(t, signal, value) rows of a session in time order."""
        sql = "SELECT t, signal, value FROM readings WHERE session_id = ?"
        params: list[Any] = [session_id]
        if since is not None:
            sql += " AND t >= ?"
            params.append(since)
        if signals is not None:
            codes = list(signals)
            sql += f" AND signal IN ({','.join('?' * len(codes))})"
            params.extend(codes)
        sql += " ORDER BY t, signal"
        return [(r[0], r[1], r[2]) for r in self._query(sql, tuple(params))]

    def events(self, session_id: int) -> list[StoredEvent]:
        rows = self._query("SELECT * FROM events WHERE session_id = ? ORDER BY id", (session_id,))
        return [
            StoredEvent(
                r["session_id"], r["bed"], r["t"], r["kind"], r["user"], json.loads(r["payload"])
            )
            for r in rows
        ]

    def alarms(self, bed: str | None = None) -> list[sqlite3.Row]:
        if bed is None:
            return self._query("SELECT * FROM alarms ORDER BY onset_t")
        return self._query("SELECT * FROM alarms WHERE bed = ? ORDER BY onset_t", (bed,))
