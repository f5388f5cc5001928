"""Ports: what the station needs of a device, as protocols the devices implement.

Devices import these, never the station's runtime (monitor.hub), storage or UI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from monitor.model import DeviceEvent, Reading, Source, Waveform
from monitor.training import Debrief, TimelineEntry, TrainingView

DeviceSink = Callable[[Reading | DeviceEvent | Waveform], object]


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
