"""Ports: what the station needs of a device and of the session log, as protocols.

Devices import these, never the station's runtime, storage or UI. The runtime
writes through `SessionLog` and the pages read through `ReviewSource`; the SQLite session log
(monitor.storage.sqlite) is one implementation of both. Nothing here imports a database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from monitor.model import (
    AlarmRecord,
    AlarmTransition,
    DeviceEvent,
    LoginRecord,
    Reading,
    SessionInfo,
    Source,
    StoredEvent,
    StoreStats,
    UserRecord,
    Waveform,
)
from monitor.training import Debrief, TimelineEntry, TrainingView

DeviceSink = Callable[[Reading | DeviceEvent | Waveform], object]


class StoreError(Exception):
    """The session log cannot be opened, read or written (any backend); one line."""


@runtime_checkable
class Dosable(Protocol):
    """A simulated patient that receives a bolus (mg), as a real monitor never does."""

    def bolus(self, mg: float) -> None: ...


@runtime_checkable
class Trainable(Protocol):
    """A simulated device that can run training scenarios (devices/simulator)."""

    library: Mapping[str, Any]

    def start_scenario(self, scenario_id: str) -> None: ...

    def instructor(self, command: str, value: str, level: float | None = None) -> None: ...

    def training_view(self) -> TrainingView | None: ...

    def debrief(self, alarms: list[TimelineEntry]) -> Debrief | None: ...

    def start_replay(self, title: str, rows: list[tuple[float, str, float]]) -> None: ...

    def trainee_action(self, action: str, detail: str = "") -> None: ...


class Device(Protocol):
    """What a bed needs of its device: a blocking reader loop and its provenance."""

    source: Source
    expected_interval_s: dict[str, float]
    # An in-process device may also offer `step_due: float | None`, when its own thread
    # next steps: the watchdog then counts a late thread's silence from there (BedCore.silence).

    def run(self, sink: DeviceSink, stop: threading.Event) -> None:
        """Deliver readings and device events to `sink` until `stop` is set."""
        ...

    def infusion_changed(self, mg_per_h: float) -> None:
        """Told what the pump now delivers (the rate times the weight entered for the
        session); real monitors ignore it, a simulated patient receives it."""
        ...


class WaveSamples(Protocol):
    """A stored waveform: all samples in one float32 array, block start times and indices;
    sample times within a block follow from the rate."""

    @property
    def rate_hz(self) -> float: ...

    @property
    def block_t(self) -> np.ndarray: ...

    @property
    def block_start(self) -> np.ndarray: ...

    @property
    def v(self) -> np.ndarray: ...

    def times(self, idx: np.ndarray) -> np.ndarray:
        """Epoch seconds of the samples at `idx`."""
        ...

    def index(self, t: float, after: bool = False) -> int:
        """The index of the first sample at or after `t` (with `after`: strictly after)."""
        ...


class SessionReads(Protocol):
    """What both the runtime and the pages read back of the log: a session, its logged
    events, its readings and its alarm summaries."""

    def session(self, session_id: int) -> SessionInfo: ...

    def events(self, session_id: int) -> list[StoredEvent]: ...

    def readings(
        self, session_id: int, since: float | None = None, signals: Iterable[str] | None = None
    ) -> list[tuple[float, str, float]]: ...

    def alarms(
        self,
        bed: str | None = None,
        *,
        session_id: int | None = None,
        since: float | None = None,
        priority: str | None = None,
    ) -> list[AlarmRecord]: ...


class ReviewSteps(Protocol):
    """Writing a step of a closed record: sign-off, addendum, entered in error."""

    def add_event(
        self,
        session_id: int | None,
        bed: str,
        t: float,
        kind: str,
        user: str,
        payload: dict[str, Any] | None = None,
    ) -> None: ...


class SessionLog(SessionReads, ReviewSteps, Protocol):
    """What the per-bed runtime writes and reads back. Readings, waveform blocks and alarm
    transitions may be batched; sessions and events are written at once. A failed write
    raises (or, for batched writes, shows in `stats`)."""

    def create_session(
        self, bed: str, source: Source, t: float, plan: dict[str, Any], user: str
    ) -> SessionInfo: ...

    def close_session(
        self, session_id: int, t: float, user: str, payload: dict[str, Any] | None = None
    ) -> SessionInfo: ...

    def append_reading(self, session_id: int, reading: Reading) -> None: ...

    def append_waveform(self, session_id: int, block: Waveform) -> None: ...

    def record_transition(self, session_id: int | None, tr: AlarmTransition) -> None: ...

    def set_phase(self, session_id: int, phase: str) -> None: ...

    def open_session_for(self, bed: str) -> SessionInfo | None: ...

    def alarm_log(self, bed: str) -> list[tuple[float, str, str, dict[str, Any]]]:
        """(t, kind, user, payload) of the bed's alarm transitions and audio pauses that a
        restart folds (monitor.alarms.restore)."""
        ...

    def stats(self) -> StoreStats: ...


class ReviewSource(SessionReads, Protocol):
    """What the review pages, exports and reports read. Times are epoch seconds; tracks are
    float64 arrays in time order. `audit` is here because reading a record out (an export)
    leaves an audit entry."""

    def sessions(self, bed: str | None = None) -> list[SessionInfo]: ...

    def track(self, session_id: int, signal: str) -> tuple[np.ndarray, np.ndarray]: ...

    def wave(self, session_id: int, signal: str) -> WaveSamples: ...

    def signals(self, session_id: int, wave: bool = False) -> list[str]: ...

    def audit(self, t: float, user: str, action: str, detail: dict[str, Any]) -> None: ...

    def audit_log(self, limit: int = 500) -> list[tuple[float, str, str, str]]: ...


class Accounts(Protocol):
    """Staff accounts and the audit trail (logins, exports, user changes)."""

    def user(self, name: str) -> UserRecord | None: ...

    def users(self) -> list[UserRecord]: ...

    def audit(self, t: float, user: str, action: str, detail: dict[str, Any]) -> None: ...

    def audit_log(self, limit: int = 500) -> list[tuple[float, str, str, str]]: ...

    def open_login(self, login_id: str, user: str, t: float) -> None: ...

    def login(self, login_id: str) -> LoginRecord | None: ...

    def touch_login(self, login_id: str, t: float) -> None: ...

    def end_login(self, login_id: str, t: float, reason: str) -> None: ...

    def end_logins(self, user: str, t: float, reason: str) -> int: ...

    def open_logins(self) -> dict[str, int]: ...


class StationRecords(ReviewSource, ReviewSteps, Accounts, Protocol):
    """All the web app reads of the records (sessions for review, and the accounts), and
    the review steps it writes."""
