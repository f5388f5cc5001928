"""The session log on SQLite: an append-only database in WAL mode.

Readings, waveform blocks and alarm transitions are queued and written in one transaction per
flush (at least once per second), so the acquisition threads never wait on the disk. Session and
event writes are rare and important, so they are written at once.

Readings land as rows (a journal that survives a crash at any moment). Every few minutes, and
when a session closes, they are compacted into one columnar chunk per signal (columnar.py), so a
12-hour review reads a few hundred blobs instead of half a million rows (dash.md §1.4: columnar
session logs for review).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from monitor.model import (
    AlarmRecord,
    AlarmTransition,
    Reading,
    SessionInfo,
    Source,
    StoredEvent,
    StoreStats,
    Waveform,
)
from monitor.storage import alarm_rows as rows_sql
from monitor.storage.alarm_rows import transition_statements
from monitor.storage.batches import statement_runs
from monitor.storage.columnar import (
    Chunk,
    Track,
    WaveTrack,
    decode_wave_chunk,
    f32_bytes,
    f64_array,
    from_time,
    join_tracks,
    numeric_chunks,
    pairs_track,
    wave_blocks,
    wave_chunk,
)
from monitor.storage.database import SCHEMA_VERSION, StoreError
from monitor.storage.ids import new_uid
from monitor.storage.users import UsersAndAudit

__all__ = ["SCHEMA_VERSION", "SessionStore", "StoreError", "StoreStats", "StoredEvent"]

log = logging.getLogger(__name__)

MAX_PENDING = 500_000  # ~14 h of 10 numerics at 1 Hz; past that the oldest are dropped and counted
COMPACT_AFTER = 6_000  # journal rows (10 min of 10 numerics at 1 Hz) before a session compacts
TRACK_CACHE = 64  # closed sessions' tracks kept decoded in memory (they never change)


def _session(row: sqlite3.Row) -> SessionInfo:
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
        uid=row["uid"],
    )


def _alarm(row: sqlite3.Row) -> AlarmRecord:
    return AlarmRecord(**dict(row) | {"technical": bool(row["technical"])})


class SessionStore(UsersAndAudit):
    """SQLite-backed session log. Thread-safe; call `start()` to run the batching writer."""

    def __init__(self, path: Path | str, flush_interval_s: float = 0.5) -> None:
        super().__init__(path)
        self.flush_interval_s = flush_interval_s
        self._queue = threading.Lock()  # the pending writes: never held while on the disk
        self._pending: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._written = 0
        self._failed = 0
        self._dropped = 0
        self._last_error: str | None = None
        self._journal: dict[int, int] = {}  # session -> rows written since its last compaction
        self._tracks: dict[tuple[int, str], Track | WaveTrack] = {}  # closed sessions' tracks

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
            (session_id, block.signal, block.t, block.rate_hz, f32_bytes(block.samples)),
            journal=session_id,
            weight=10,  # a 1 s block weighs about as much as 10 rows
        )

    def record_transition(self, session_id: int | None, tr: AlarmTransition) -> None:
        """Log every alarm transition as an event, and keep one summary row per alarm."""
        for sql, params in transition_statements(session_id, tr):
            self._enqueue(sql, params)

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
                for sql, rows in statement_runs(batch):
                    self._db.executemany(sql, rows)
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

    def stats(self) -> StoreStats:
        with self._queue:
            return StoreStats(
                self._written, len(self._pending), self._failed, self._dropped, self._last_error
            )

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
        for signal, chunk in numeric_chunks((s, t, v) for s, t, v in rows).items():
            self._insert_chunk(session_id, signal, 0, chunk)
        self._db.execute("DELETE FROM readings WHERE session_id = ?", (session_id,))
        return len(rows)

    def _compact_waves(self, session_id: int) -> int:
        moved = 0
        for (signal,) in self._db.execute(
            "SELECT DISTINCT signal FROM waves WHERE session_id = ?", (session_id,)
        ).fetchall():
            chunk = wave_chunk(self._wave_journal(session_id, signal))
            if chunk is not None:
                self._insert_chunk(session_id, signal, 1, chunk)
                moved += chunk.n
        self._db.execute("DELETE FROM waves WHERE session_id = ?", (session_id,))
        return moved

    def _insert_chunk(self, session_id: int, signal: str, wave: int, c: Chunk) -> None:
        self._db.execute(
            "INSERT INTO chunks (session_id, signal, wave, rate_hz, t0, t1, n, t, v)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, signal, wave, c.rate_hz, c.t0, c.t1, c.n, c.t, c.v),
        )

    def _wave_journal(self, session_id: int, signal: str) -> WaveTrack:
        """The journal's waveform blocks of one signal, not yet compacted."""
        return wave_blocks(
            (t0, rate, blob)
            for t0, rate, blob in self._db.execute(
                "SELECT t0, rate_hz, samples FROM waves WHERE session_id = ? AND signal = ?"
                " ORDER BY t0",
                (session_id, signal),
            ).fetchall()
        )

    # -- immediate writes -----------------------------------------------------------------

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
                " patient_ref, indication, regimen, concentration_mg_ml, uid)"
                " VALUES (?, ?, ?, ?, ?, 'pre-infusion', ?, ?, ?, ?, ?)",
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
                    new_uid(t),
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
                raise StoreError(f"{self.where}: import failed: {err}") from None

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

    def session(self, session_id: int) -> SessionInfo:
        rows = self._query("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            raise StoreError(f"{self.where}: no session {session_id}")
        return _session(rows[0])

    def open_session_for(self, bed: str) -> SessionInfo | None:
        rows = self._query(
            "SELECT * FROM sessions WHERE bed = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1",
            (bed,),
        )
        return _session(rows[0]) if rows else None

    def sessions(self, bed: str | None = None) -> list[SessionInfo]:
        if bed is None:
            rows = self._query("SELECT * FROM sessions ORDER BY id")
        else:
            rows = self._query("SELECT * FROM sessions WHERE bed = ? ORDER BY id", (bed,))
        return [_session(r) for r in rows]

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
        for signal, t_blob, v_blob in self._query(
            "SELECT signal, t, v FROM chunks" + where + " AND wave = 0 ORDER BY t0", tuple(params)
        ):
            t, v = from_time(f64_array(t_blob), f64_array(v_blob), since)
            out.extend(zip(t.tolist(), [signal] * len(t), v.tolist(), strict=True))
        if since is not None:
            where += " AND t >= ?"
            params.append(since)
        out.extend(
            (r[0], r[1], r[2])
            for r in self._query("SELECT t, signal, value FROM readings" + where, tuple(params))
        )
        out.sort(key=lambda r: (r[0], r[1]))
        return out

    def track(self, session_id: int, signal: str) -> Track:
        """One numeric signal's whole session as (epoch seconds, values) float64 arrays in
        time order: compacted chunks plus the journal. Closed sessions are cached."""
        with self._lock:
            cached = self._tracks.get((session_id, signal))
            if isinstance(cached, tuple):
                return cached
            chunks = self._query(
                "SELECT t, v FROM chunks WHERE session_id = ? AND signal = ? AND wave = 0"
                " ORDER BY t0",
                (session_id, signal),
            )
            rows = self._query(
                "SELECT t, value FROM readings WHERE session_id = ? AND signal = ? ORDER BY t",
                (session_id, signal),
            )
            parts = [(f64_array(t), f64_array(v)) for t, v in chunks]
            if rows:
                parts.append(pairs_track([(t, v) for t, v in rows]))
            track = join_tracks(parts)
            if not parts:
                return track  # nothing logged yet: not cached
            self._remember(session_id, signal, track)
            return track

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
                raise StoreError(f"{self.where}: read failed: {err}") from None
            parts = [decode_wave_chunk(rate, t, v) for rate, t, v in chunks]
            track = WaveTrack.join([*parts, journal])
            self._remember(session_id, signal, track)
            return track

    def _remember(self, session_id: int, signal: str, track: Track | WaveTrack) -> None:
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

    def alarm_log(self, bed: str) -> list[tuple[float, str, str, dict[str, Any]]]:
        """(t, kind, user, payload) of what a restart folds to restore the bed's alarms."""
        self.flush()
        oldest = self._query(rows_sql.OLDEST_OPEN, (bed,))[0][0]
        paused = self._query(rows_sql.LAST_PAUSE, (bed,))[0][0]
        since = min(t for t in (oldest, paused, float("inf")) if t is not None)
        rows = self._query(rows_sql.ALARM_LOG, (bed, since))
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def alarms(
        self,
        bed: str | None = None,
        *,
        session_id: int | None = None,
        since: float | None = None,
        priority: str | None = None,
    ) -> list[AlarmRecord]:
        """Alarm summaries in onset order, filtered by bed, session, onset and priority."""
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
        rows = self._query(f"SELECT * FROM alarms{clause} ORDER BY onset_t", tuple(params))
        return [_alarm(r) for r in rows]
