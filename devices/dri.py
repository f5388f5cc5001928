"""A GE S/5 family monitor as a bed's device: the DRI codec over the serial link.

Real monitors and the virtual one take this same path; only the port differs.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from devices.protocols.datex_s5 import (
    DRI_LEVELS_TO_TRY,
    DriDecoder,
    PhdbClass,
    WaveformBlock,
    display_request,
    waveform_request,
)
from devices.simulator.dri_monitor import VirtualDriMonitor
from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.scenario import Scenario
from devices.transport import LinkState, SerialLink, SerialSettings, Writer
from monitor.clock import Clock
from monitor.model import DeviceEvent, Reading, Source, Waveform
from monitor.ports import DeviceSink
from monitor.training import Debrief, TimelineEntry, TrainingView

log = logging.getLogger(__name__)

PLETH_WAVE = 8  # the plethysmogram, 100 Hz, kept for review

BASIC_SIGNALS = (
    "HR",
    "PR",
    "SPO2",
    "RR",
    "ETCO2",
    "FICO2",
    "TEMP",
    "ART_SYS",
    "ART_DIA",
    "ART_MEAN",
)


class DriMonitor:
    """Implements the hub's Device protocol and the link's LinkProtocol."""

    def __init__(
        self,
        bed: str,
        settings: SerialSettings,
        interval_s: int,
        nibp_interval_s: float,
        clock: Clock,
        virtual: VirtualDriMonitor | None = None,
    ) -> None:
        self.bed = bed
        self.settings = settings
        self.interval_s = interval_s
        self.clock = clock
        self.virtual = virtual
        self.source: Source = "simulated" if virtual is not None else "live"
        self.expected_interval_s = dict.fromkeys(BASIC_SIGNALS, float(interval_s))
        self.expected_interval_s.update(
            dict.fromkeys(("NIBP_SYS", "NIBP_DIA", "NIBP_MEAN"), nibp_interval_s)
        )
        self.decoder = DriDecoder(bed)  # one for the bed's life: NIBP repeats stay recognised
        self.waveform_blocks = 0
        self._sink: DeviceSink | None = None

    # -- Device --------------------------------------------------------------------------

    def run(self, sink: DeviceSink, stop: threading.Event) -> None:
        self._sink = sink
        if self.virtual is not None and not self.virtual.is_open:
            self.virtual.open()
        try:
            SerialLink(self.settings, self, self.clock).run(stop)
        finally:
            if self.virtual is not None:
                self.virtual.close()

    def infusion_changed(self, mg_per_h: float) -> None:
        if self.virtual is not None:
            self.virtual.simulator.infusion_changed(mg_per_h)

    def bolus(self, mg: float) -> None:
        if self.virtual is not None:
            self.virtual.simulator.bolus(mg)

    # -- training: a virtual monitor's patient runs scenarios; its bytes stay a monitor's ---

    @property
    def library(self) -> dict[str, Scenario]:
        return {} if self.virtual is None else self.virtual.simulator.library

    def _simulator(self) -> SimulatedMonitor:
        if self.virtual is None:
            raise ValueError("a real monitor runs no scenarios")
        return self.virtual.simulator

    def start_scenario(self, scenario_id: str) -> None:
        self._simulator().start_scenario(scenario_id)

    def instructor(self, command: str, value: str, level: float | None = None) -> None:
        self._simulator().instructor(command, value, level)

    def start_replay(self, title: str, rows: list[tuple[float, str, float]]) -> None:
        self._simulator().start_replay(title, rows)

    def trainee_action(self, action: str, detail: str = "") -> None:
        if self.virtual is not None:
            self.virtual.simulator.trainee_action(action, detail)

    def training_view(self) -> TrainingView | None:
        return None if self.virtual is None else self.virtual.simulator.training_view()

    def debrief(self, alarms: list[TimelineEntry]) -> Debrief | None:
        return None if self.virtual is None else self.virtual.simulator.debrief(alarms)

    # -- LinkProtocol --------------------------------------------------------------------

    def _request(self, writer: Writer, dri_level: int) -> None:
        writer.write(display_request(self.interval_s, (PhdbClass.BASIC,), dri_level=dri_level))
        writer.write(waveform_request((PLETH_WAVE,), dri_level=dri_level))

    def connection_made(self, writer: Writer) -> None:
        self.decoder.deframer.reset()
        self._request(writer, DRI_LEVELS_TO_TRY[0])

    def silence(self, writer: Writer, attempt: int) -> None:
        # Some monitors answer only a request that names their DRI level (protocols.md §1.5).
        self._request(writer, DRI_LEVELS_TO_TRY[attempt % len(DRI_LEVELS_TO_TRY)])

    def data_received(self, data: bytes) -> None:
        assert self._sink is not None
        for item in self.decoder.feed(data):
            if isinstance(item, (Reading, DeviceEvent)):
                self._sink(item)
            elif isinstance(item, WaveformBlock):
                self.waveform_blocks += 1
                self._sink(
                    Waveform(
                        item.bed,
                        item.t,
                        item.name,
                        item.rate_hz,
                        item.samples.astype(np.float32),
                    )
                )

    def connection_lost(self, error: Exception | None) -> None:
        self.decoder.deframer.reset()

    def state_changed(self, state: LinkState, detail: str) -> None:
        if self._sink is not None:
            self._sink(
                DeviceEvent(
                    self.bed, self.clock.now(), "link", {"state": str(state), "detail": detail}
                )
            )
