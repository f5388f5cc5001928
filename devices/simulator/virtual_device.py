"""A bed whose monitor is a virtual one: the codec device, plus the training facade.

The bytes still travel the real path (pty, serial link, codec); only the far end is simulated.
The pump, bolus and the trainee's and instructor's commands go straight to the simulated
patient behind the virtual monitor, as they would to a patient at a real monitor. This is the
only place, with inprocess.py, where a device takes training commands.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from devices.codec_device import CodecDevice, HostRequests
from devices.protocols import Codec
from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.scenario import Scenario
from devices.transport import SerialSettings
from monitor.clock import Clock
from monitor.model import Source
from monitor.ports import DeviceSink
from monitor.training import Debrief, TimelineEntry, TrainingView


class VirtualMonitor(Protocol):
    """The monitor end of a pty that speaks a wire protocol (e.g. dri_monitor.py)."""

    simulator: SimulatedMonitor
    link: Path

    @property
    def is_open(self) -> bool: ...

    def open(self) -> Path: ...

    def close(self) -> None: ...


class VirtualMonitorDevice(CodecDevice):
    """A CodecDevice reading a virtual monitor; implements the station's Trainable."""

    source: Source = "simulated"

    def __init__(
        self,
        bed: str,
        settings: SerialSettings,
        codec: Codec,
        host_requests: HostRequests,
        expected_interval_s: dict[str, float],
        clock: Clock,
        virtual: VirtualMonitor,
    ) -> None:
        super().__init__(bed, settings, codec, host_requests, expected_interval_s, clock)
        self.virtual = virtual

    def run(self, sink: DeviceSink, stop: threading.Event) -> None:
        if not self.virtual.is_open:
            self.virtual.open()
        try:
            super().run(sink, stop)
        finally:
            self.virtual.close()

    def infusion_changed(self, mg_per_h: float) -> None:
        self.virtual.simulator.infusion_changed(mg_per_h)

    def bolus(self, mg: float) -> None:
        self.virtual.simulator.bolus(mg)

    # -- training: the virtual monitor's patient runs scenarios; its bytes stay a monitor's --

    @property
    def library(self) -> dict[str, Scenario]:
        return self.virtual.simulator.library

    def start_scenario(self, scenario_id: str) -> None:
        self.virtual.simulator.start_scenario(scenario_id)

    def instructor(self, command: str, value: str, level: float | None = None) -> None:
        self.virtual.simulator.instructor(command, value, level)

    def start_replay(self, title: str, rows: list[tuple[float, str, float]]) -> None:
        self.virtual.simulator.start_replay(title, rows)

    def trainee_action(self, action: str, detail: str = "") -> None:
        self.virtual.simulator.trainee_action(action, detail)

    def training_view(self) -> TrainingView | None:
        return self.virtual.simulator.training_view()

    def debrief(self, alarms: list[TimelineEntry]) -> Debrief | None:
        return self.virtual.simulator.debrief(alarms)
