"""Ports: what the station needs of a device and of a session log, as protocols.

Devices import these, never the station's runtime, storage or UI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from monitor.model import AlarmTransition, DeviceEvent, Reading, SessionInfo, Source, Waveform
from monitor.training import Debrief, TimelineEntry, TrainingView

DeviceSink = Callable[[Reading | DeviceEvent | Waveform], object]


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
    """What the hub needs of a device: a blocking reader loop and its provenance."""

    source: Source
    expected_interval_s: dict[str, float]

    def run(self, sink: DeviceSink, stop: threading.Event) -> None:
        """Deliver readings and device events to `sink` until `stop` is set."""
        ...

    def infusion_changed(self, mg_per_h: float) -> None:
        """Told what the pump now delivers (the rate times the weight entered for the
        session); real monitors ignore it, a simulated patient receives it."""
        ...


class SessionLog(Protocol):
    """Where a bed's events are recorded (SQLite embedded; PostgreSQL centrally)."""

    def create_session(
        self, bed: str, source: Source, t: float, plan: dict[str, Any], user: str
    ) -> SessionInfo: ...

    def close_session(
        self, session_id: int, t: float, user: str, payload: dict[str, Any] | None = None
    ) -> SessionInfo: ...

    def add_event(
        self,
        session_id: int | None,
        bed: str,
        t: float,
        kind: str,
        user: str,
        payload: dict[str, Any] | None = None,
    ) -> None: ...

    def append_reading(self, session_id: int, reading: Reading) -> None: ...

    def append_waveform(self, session_id: int, block: Waveform) -> None: ...

    def record_transition(self, session_id: int | None, tr: AlarmTransition) -> None: ...

    def set_phase(self, session_id: int, phase: str) -> None: ...

    def stats(self) -> Any: ...
