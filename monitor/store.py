"""The session log: an append-only SQLite database in WAL mode.

Readings, waveform blocks and alarm transitions are queued and written in one transaction per
flush (at least once per second), so the acquisition threads never wait on the disk. Session and
event writes are rare and important, so they are written at once.

Readings land as rows (a journal that survives a crash at any moment). Every few minutes, and
when a session closes, they are compacted into one columnar chunk per signal (float64 arrays in
BLOBs), so a 12-hour review reads a few hundred blobs instead of half a million rows
(dash.md §1.4: columnar session logs for review).
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

import numpy as np

from monitor.model import (
    AUDITED_EVENTS,
    AlarmPhase,
    AlarmTransition,
    Reading,
    SessionInfo,
    Source,
    Waveform,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 5
MIGRATES_FROM = 3  # versions 4 and 5 only add tables (waves, chunks; users, audit)
MAX_PENDING = 500_000  # ~14 h of 10 numerics at 1 Hz; past that the oldest are dropped and counted
COMPACT_AFTER = 6_000  # journal rows (10 min of 10 numerics at 1 Hz) before a session compacts
TRACK_CACHE = 64  # closed sessions' tracks kept decoded in memory (they never change)

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


@dataclass(frozen=True, slots=True)
class WaveTrack:
    """A waveform as stored: all samples in one float32 array, with the start time and first
    sample index of every block; times within a block follow from the sampling rate."""

    rate_hz: float
    block_t: np.ndarray  # float64 epoch seconds of each block's first sample
    block_start: np.ndarray  # int64 index into `v` of each block's first sample
    v: np.ndarray  # float32, NaN where the device marked a sample invalid

    @classmethod
    def from_blocks(cls, rate_hz: float, blocks: list[tuple[float, np.ndarray]]) -> WaveTrack:
        counts = np.array([len(v) for _, v in blocks], dtype=np.int64)
        return cls(
            rate_hz,
            np.array([t for t, _ in blocks], dtype=np.float64),
            np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64),
            np.concatenate([v for _, v in blocks]) if blocks else np.empty(0, np.float32),
        )

    @classmethod
    def from_chunk(cls, rate_hz: float, blocks: np.ndarray, v: np.ndarray) -> WaveTrack:
        """A compacted chunk: `blocks` is (start time, sample count) pairs."""
        pairs = blocks.reshape(-1, 2)
        counts = pairs[:, 1].astype(np.int64)
        return cls(rate_hz, pairs[:, 0], np.concatenate([[0], np.cumsum(counts)[:-1]]), v)

    @classmethod
    def join(cls, parts: list[WaveTrack]) -> WaveTrack:
        parts = [p for p in parts if len(p.v)]
        if not parts:
            return cls(0.0, np.empty(0), np.empty(0, np.int64), np.empty(0, np.float32))
        offsets = np.cumsum([0] + [len(p.v) for p in parts[:-1]])
        return cls(
            parts[0].rate_hz,
            np.concatenate([p.block_t for p in parts]),
            np.concatenate([p.block_start + o for p, o in zip(parts, offsets, strict=True)]),
            np.concatenate([p.v for p in parts]),
        )

    def times(self, idx: np.ndarray) -> np.ndarray:
        """Epoch seconds of the samples at `idx`."""
        block = np.searchsorted(self.block_start, idx, side="right") - 1
        return self.block_t[block] + (idx - self.block_start[block]) / self.rate_hz

    def index(self, t: float, after: bool = False) -> int:
        """The index of the first sample at or after `t` (with `after`: strictly after)."""
        if not len(self.v):
            return 0
        block = max(0, int(np.searchsorted(self.block_t, t, side="right")) - 1)
        end = self.block_start[block + 1] if block + 1 < len(self.block_t) else len(self.v)
        position = round((t - self.block_t[block]) * self.rate_hz, 6)  # in samples
        offset = int(np.floor(position)) + 1 if after else int(np.ceil(position))
        return int(min(self.block_start[block] + max(offset, 0), end))


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
            if 0 < version < MIGRATES_FROM:
                raise StoreError(
                    f"{self.path}: session log schema {version} is older than {SCHEMA_VERSION};"
                    " move it aside (it stays readable) and start a new one"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (sqlite3.Error, OSError) as err:
            raise StoreError(f"{self.path}: cannot open session log: {err}") from None
        self._lock = threading.RLock()  # the database connection
        self._queue = threading.Lock()  # the pending writes: never held while on the disk
        self._pending: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._written = 0
        self._failed = 0
        self._dropped = 0
        self._last_error: str | None = None
        self._journal: dict[int, int] = {}  # session -> rows written since its last compaction
        self._tracks: dict[tuple[int, str], Any] = {}  # closed sessions' decoded tracks

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

    def _enqueue(
        self, sql: str, params: tuple[Any, ...], journal: int | None = None, weight: int = 0
    ) -> None:
        """Queue one write; `journal` names the session whose journal it grows by `weight`."""
        with self._queue:
            if len(self._pending) >= MAX_PENDING:
                self._pending.popleft()
                self._dropped += 1
            self._pending.append((sql, params))
            if journal is not None:
                self._journal[journal] = self._journal.get(journal, 0) + weight

    def append_reading(self, session_id: int, reading: Reading) -> None:
        self._enqueue(
            "INSERT OR IGNORE INTO readings (session_id, t, signal, value, quality) "
            "VALUES (?, ?, ?, ?, ?)",
            (session_id, reading.t, reading.signal, reading.value, str(reading.quality)),
            journal=session_id,
            weight=1,
        )

    def append_waveform(self, session_id: int, block: Waveform) -> None:
        self._enqueue(
            "INSERT INTO waves (session_id, signal, t0, rate_hz, samples) VALUES (?, ?, ?, ?, ?)",
            (
                session_id,
                block.signal,
                block.t,
                block.rate_hz,
                np.asarray(block.samples, dtype=np.float32).tobytes(),
            ),
            journal=session_id,
            weight=10,  # a 1 s block weighs about as much as 10 rows
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
                        "technical": tr.technical,
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
        """Write everything queued in one transaction. On failure the batch is kept for retry.
        Producers keep queueing meanwhile: the queue is only locked to copy and to trim it."""
        with self._lock:
            with self._queue:
                batch = list(self._pending)
                dropped = self._dropped
            if not batch:
                return 0
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
            with self._queue:
                # writes dropped while we wrote came off the front, out of this batch
                for _ in range(max(0, len(batch) - (self._dropped - dropped))):
                    self._pending.popleft()
                due = [sid for sid, rows in self._journal.items() if rows >= COMPACT_AFTER]
            self._written += sum(1 for sql, _ in batch if "INTO readings" in sql)
            self._last_error = None
            for session_id in due:
                self.compact(session_id)
            return len(batch)

    # -- compaction -----------------------------------------------------------------------

    def compact(self, session_id: int) -> int:
        """Move a session's journal rows and waveform blocks into one columnar chunk per
        signal, in one transaction. Returns the number of samples moved."""
        with self._lock:
            try:
                self._db.execute("BEGIN")
                moved = self._compact_readings(session_id) + self._compact_waves(session_id)
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                log.error("session %d: compaction failed (rows kept): %s", session_id, err)
                with self._queue:  # try again after as many rows more, not at every flush
                    self._journal[session_id] = 0
                return 0
            with self._queue:
                self._journal.pop(session_id, None)
            return moved

    def _compact_readings(self, session_id: int) -> int:
        rows = self._db.execute(
            "SELECT signal, t, value FROM readings WHERE session_id = ? ORDER BY signal, t",
            (session_id,),
        ).fetchall()
        by_signal: dict[str, list[tuple[float, float]]] = {}
        for signal, t, v in rows:
            by_signal.setdefault(signal, []).append((t, v))
        for signal, pairs in by_signal.items():
            tv = np.array(pairs, dtype=np.float64)
            self._insert_chunk(session_id, signal, tv[:, 0], tv[:, 1])
        self._db.execute("DELETE FROM readings WHERE session_id = ?", (session_id,))
        return len(rows)

    def _compact_waves(self, session_id: int) -> int:
        moved = 0
        signals = [
            r[0]
            for r in self._db.execute(
                "SELECT DISTINCT signal FROM waves WHERE session_id = ?", (session_id,)
            )
        ]
        for signal in signals:
            wave = self._wave_journal(session_id, signal)
            counts = np.diff(wave.block_start, append=len(wave.v))
            blocks = np.column_stack([wave.block_t, counts]).astype(np.float64)
            if len(wave.v):
                self._db.execute(
                    "INSERT INTO chunks (session_id, signal, wave, rate_hz, t0, t1, n, t, v)"
                    " VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)",
                    (
                        session_id,
                        signal,
                        wave.rate_hz,
                        float(wave.block_t[0]),
                        float(wave.times(np.array([len(wave.v) - 1]))[0]),
                        len(wave.v),
                        blocks.tobytes(),
                        wave.v.tobytes(),
                    ),
                )
            moved += len(wave.v)
        self._db.execute("DELETE FROM waves WHERE session_id = ?", (session_id,))
        return moved

    def _insert_chunk(self, session_id: int, signal: str, t: np.ndarray, v: np.ndarray) -> None:
        if len(t) == 0:
            return
        self._db.execute(
            "INSERT INTO chunks (session_id, signal, wave, t0, t1, n, t, v)"
            " VALUES (?, ?, 0, ?, ?, ?, ?, ?)",
            (
                session_id,
                signal,
                float(t[0]),
                float(t[-1]),
                len(t),
                t.astype(np.float64).tobytes(),
                v.astype(np.float64).tobytes(),
            ),
        )

    def _wave_journal(self, session_id: int, signal: str) -> WaveTrack:
        """The journal's waveform blocks of one signal, not yet compacted."""
        rows = self._db.execute(
            "SELECT t0, rate_hz, samples FROM waves WHERE session_id = ? AND signal = ?"
            " ORDER BY t0",
            (session_id, signal),
        ).fetchall()
        blocks = [(t0, np.frombuffer(blob, dtype=np.float32)) for t0, _, blob in rows]
        return WaveTrack.from_blocks(rows[0][1] if rows else 0.0, blocks)

    def stats(self) -> StoreStats:
        with self._queue:
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
                    plan.get("concentration_mg_ml", 0.0),  # 0: not given; never a guessed 10
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
            self.compact(session_id)
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
        """(t, signal, value) numeric readings of a session in time order, compacted or not."""
        codes = None if signals is None else list(signals)
        where = " WHERE session_id = ?"
        params: list[Any] = [session_id]
        if codes is not None:
            where += f" AND signal IN ({','.join('?' * len(codes))})"
            params.extend(codes)
        out: list[tuple[float, str, float]] = []
        for row in self._query(
            "SELECT signal, t, v FROM chunks" + where + " AND wave = 0 ORDER BY t0", tuple(params)
        ):
            t = np.frombuffer(row[1], dtype=np.float64)
            v = np.frombuffer(row[2], dtype=np.float64)
            if since is not None:
                keep = t >= since
                t, v = t[keep], v[keep]
            out.extend(zip(t.tolist(), [row[0]] * len(t), v.tolist(), strict=True))
        if since is not None:
            where += " AND t >= ?"
            params.append(since)
        out.extend(
            (r[0], r[1], r[2])
            for r in self._query("SELECT t, signal, value FROM readings" + where, tuple(params))
        )
        out.sort(key=lambda r: (r[0], r[1]))
        return out

    def track(self, session_id: int, signal: str) -> tuple[np.ndarray, np.ndarray]:
        """One numeric signal's whole session as (epoch seconds, values) float64 arrays in
        time order: compacted chunks plus the journal. Closed sessions are cached."""
        with self._lock:
            cached = self._tracks.get((session_id, signal))
            if isinstance(cached, tuple):
                return cached
            try:
                chunks = self._db.execute(
                    "SELECT t, v FROM chunks WHERE session_id = ? AND signal = ? AND wave = 0"
                    " ORDER BY t0",
                    (session_id, signal),
                ).fetchall()
                rows = self._db.execute(
                    "SELECT t, value FROM readings WHERE session_id = ? AND signal = ? ORDER BY t",
                    (session_id, signal),
                ).fetchall()
            except sqlite3.Error as err:
                raise StoreError(f"{self.path}: read failed: {err}") from None
            ts = [np.frombuffer(t, dtype=np.float64) for t, _ in chunks]
            vs = [np.frombuffer(v, dtype=np.float64) for _, v in chunks]
            if rows:
                tv = np.array(rows, dtype=np.float64)
                ts.append(tv[:, 0])
                vs.append(tv[:, 1])
            if not ts:
                return np.empty(0), np.empty(0)
            t_all, v_all = np.concatenate(ts), np.concatenate(vs)
            # each part is in time order; only overlapping parts (rare) need a sort
            edges = [(p[0], p[-1]) for p in ts if len(p)]
            if any(b[0] < a[1] for a, b in zip(edges, edges[1:], strict=False)):
                order = np.argsort(t_all, kind="stable")
                t_all, v_all = t_all[order], v_all[order]
            self._remember(session_id, signal, (t_all, v_all))
            return t_all, v_all

    def wave(self, session_id: int, signal: str) -> WaveTrack:
        """One waveform's whole session, compacted chunks plus the journal. Sample times are
        kept per block, not per sample: a 12-hour 100 Hz track is 4.3 M values to read, not
        twice that."""
        with self._lock:
            cached = self._tracks.get((session_id, signal))
            if isinstance(cached, WaveTrack):
                return cached
            try:
                chunks = self._db.execute(
                    "SELECT rate_hz, t, v FROM chunks WHERE session_id = ? AND signal = ?"
                    " AND wave = 1 ORDER BY t0",
                    (session_id, signal),
                ).fetchall()
                journal = self._wave_journal(session_id, signal)
            except sqlite3.Error as err:
                raise StoreError(f"{self.path}: read failed: {err}") from None
            parts = [
                WaveTrack.from_chunk(rate, np.frombuffer(t), np.frombuffer(v, dtype=np.float32))
                for rate, t, v in chunks
            ]
            track = WaveTrack.join([*parts, journal])
            self._remember(session_id, signal, track)
            return track

    def _remember(self, session_id: int, signal: str, track: Any) -> None:
        """Cache a closed session's track: closed sessions never change."""
        closed = self._db.execute(
            "SELECT ended_at IS NOT NULL FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if closed and closed[0]:
            if len(self._tracks) >= TRACK_CACHE:
                self._tracks.pop(next(iter(self._tracks)))
            self._tracks[(session_id, signal)] = track

    def signals(self, session_id: int, wave: bool = False) -> list[str]:
        """The numeric signals (or, with `wave`, the waveforms) a session has data for."""
        journal = "waves" if wave else "readings"
        rows = self._query(
            "SELECT DISTINCT signal FROM chunks WHERE session_id = ? AND wave = ?"
            f" UNION SELECT DISTINCT signal FROM {journal} WHERE session_id = ?",
            (session_id, int(wave), session_id),
        )
        return sorted(r[0] for r in rows)

    def events(self, session_id: int) -> list[StoredEvent]:
        rows = self._query("SELECT * FROM events WHERE session_id = ? ORDER BY id", (session_id,))
        return [
            StoredEvent(
                r["session_id"], r["bed"], r["t"], r["kind"], r["user"], json.loads(r["payload"])
            )
            for r in rows
        ]

    # -- users and audit ------------------------------------------------------------------

    def add_user(self, name: str, role: str, pw_hash: str, t: float) -> None:
        with self._lock:
            if self._query("SELECT 1 FROM users WHERE name = ?", (name,)):
                raise StoreError(f"user {name!r} exists (use reset to change the password)")
            self._execute(
                "INSERT INTO users (name, role, pw_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, role, pw_hash, t),
            )

    def update_user(
        self, name: str, *, pw_hash: str | None = None, disabled: bool | None = None
    ) -> None:
        with self._lock:
            if not self._query("SELECT 1 FROM users WHERE name = ?", (name,)):
                raise StoreError(f"no user {name!r}")
            if pw_hash is not None:
                self._execute(
                    "UPDATE users SET pw_hash = ?, disabled = 0 WHERE name = ?", (pw_hash, name)
                )
            if disabled is not None:
                self._execute("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name))

    def user(self, name: str) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM users WHERE name = ?", (name,))
        return rows[0] if rows else None

    def users(self) -> list[sqlite3.Row]:
        return self._query("SELECT name, role, disabled, created_at FROM users ORDER BY name")

    def audit(self, t: float, user: str, action: str, detail: dict[str, Any]) -> None:
        """Logins, failed logins, exports and user changes (alarm and session actions are
        events of their session)."""
        self._execute(
            "INSERT INTO audit (t, user, action, detail) VALUES (?, ?, ?, ?)",
            (t, user, action, json.dumps(detail, sort_keys=True)),
        )

    def audit_log(self, limit: int = 500) -> list[tuple[float, str, str, str]]:
        """Audit entries and the inactivation, limit and override events, newest first."""
        rows = self._query(
            "SELECT t, user, action, detail FROM audit"
            " UNION ALL SELECT t, user, kind, payload FROM events"
            f" WHERE kind IN ({','.join('?' * len(AUDITED_EVENTS))})"
            " ORDER BY t DESC LIMIT ?",
            (*AUDITED_EVENTS, limit),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def alarm_log(self, bed: str) -> list[tuple[float, str, str, dict[str, Any]]]:
        """(t, kind, user, payload) of the bed's alarm transitions and audio pauses since its
        oldest alarm still open, and its last audio pause: what a restart folds."""
        self.flush()
        oldest = self._query(
            "SELECT min(onset_t) FROM alarms WHERE bed = ? AND end_t IS NULL", (bed,)
        )[0][0]
        paused = self._query(
            "SELECT max(t) FROM events WHERE bed = ? AND kind = 'audio_pause'", (bed,)
        )[0][0]
        since = min(t for t in (oldest, paused, float("inf")) if t is not None)
        rows = self._query(
            "SELECT t, kind, user, payload FROM events WHERE bed = ? AND t >= ?"
            " AND (kind LIKE 'alarm^_%' ESCAPE '^' OR kind = 'audio_pause') ORDER BY id",
            (bed, since),
        )
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def alarms(
        self,
        bed: str | None = None,
        *,
        session_id: int | None = None,
        since: float | None = None,
        priority: str | None = None,
    ) -> list[sqlite3.Row]:
        """Alarm summary rows in onset order, filtered by bed, session, onset and priority."""
        where, params = [], []
        for column, value in (
            ("bed = ?", bed),
            ("session_id = ?", session_id),
            ("onset_t >= ?", since),
            ("priority = ?", priority),
        ):
            if value is not None:
                where.append(column)
                params.append(value)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        return self._query(f"SELECT * FROM alarms{clause} ORDER BY onset_t", tuple(params))
