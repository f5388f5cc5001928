"""The virtual DRI monitor: a simulated patient that speaks the S/5 computer interface.

It sits on the monitor end of a pseudo-terminal, answers the host's display-values request
and sends a physiological record every requested interval, byte for byte as a CARESCAPE does
(protocols.md §1.12). A stable symlink names the pty, as udev does for a USB adapter, so
closing and reopening the monitor looks to the host like a cable pulled and plugged back in.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from pathlib import Path

import numpy as np

from devices.protocols.datex_s5 import NIBP_LABEL_OLDER_THAN_60S, WAVES, Deframer
from devices.protocols.datex_s5_encode import (
    ECG1_WAVE,
    PLETH_WAVE,
    DisplayRequest,
    parse_request,
    parse_waveform_request,
    phdb_record,
    waveform_record,
)
from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.pty_link import PtyMonitor
from devices.simulator.waves import ecg_wave, pleth_wave
from monitor.clock import Clock
from monitor.model import DeviceEvent, Reading

log = logging.getLogger(__name__)

DRI_LEVEL = 10  # as in the CARESCAPE captures
NIBP_LABEL_ADULT_AUTO = 0x0B
POLL_S = 0.05
WAVE_RECORD_S = 0.25  # a monitor sends its waveforms in small records, several a second
DRAWN = {PLETH_WAVE: pleth_wave, ECG1_WAVE: ecg_wave}


class VirtualDriMonitor(PtyMonitor):
    thread_name = "virtual-dri"

    def __init__(self, simulator: SimulatedMonitor, clock: Clock, link: Path) -> None:
        super().__init__(simulator, clock, link)
        self.records_sent = 0
        self.request: DisplayRequest | None = None
        self.waves: tuple[int, ...] = ()  # waveform ids the host asked for
        self.wave_records_sent = 0
        self._pulse_phase: dict[int, float] = {}
        self._pulse_rate = 75.0
        self._next_wave = 0.0
        self._cuff: dict[str, float] = {}
        self._cuff_t = 0.0
        self._next_send = 0.0  # kept across unplugging: the monitor's cadence does not restart
        self._last_stamp = 0  # a record's whole-second time never repeats, as on a monitor

    def _plugged_in(self) -> None:
        self.request = None
        self.waves = ()

    def _values(self) -> tuple[dict[str, float], int]:
        """This tick's numerics, with the last cuff result repeated as a monitor does."""
        got: list[Reading | DeviceEvent] = []
        self.simulator.tick(got.append)  # artifacts leave signals out: the record marks them
        now = self.clock.now()
        values = {r.signal: r.value for r in got if isinstance(r, Reading)}
        self._pulse_rate = values.get("PR", self._pulse_rate)
        if "NIBP_SYS" in values:
            self._cuff = {k: values[k] for k in ("NIBP_SYS", "NIBP_DIA", "NIBP_MEAN")}
            self._cuff_t = now
        values.update(self._cuff)
        label = NIBP_LABEL_ADULT_AUTO
        if self._cuff and now - self._cuff_t > 60:
            label |= NIBP_LABEL_OLDER_THAN_60S
        return values, label

    def _wave_records(self, now: float) -> bytes:
        """A quarter second of each requested waveform at the last pulse rate, continuous in
        phase across records; none with the probe off or the leads off."""
        out = b""
        for wave_id in self.waves:
            draw = DRAWN.get(wave_id)
            if draw is None or self._wave_off(wave_id):
                continue
            rate = WAVES[wave_id].rate_hz
            n = round(rate * WAVE_RECORD_S)
            step = (self._pulse_rate / 60.0) / rate
            phase = self._pulse_phase.get(wave_id, 0.0) + np.arange(n) * step
            self._pulse_phase[wave_id] = float(phase[-1] + step) % 1.0
            out += waveform_record(wave_id, draw(phase), int(now), self.wave_records_sent)
            self.wave_records_sent += 1
        return out

    def _wave_off(self, wave_id: int) -> bool:
        status = self.simulator.status
        return status.get("SPO2" if wave_id == PLETH_WAVE else "HR", "valid") != "valid"

    def _serve(self, master: int, stop: threading.Event) -> None:
        deframer = Deframer()
        while not stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], POLL_S)
                if ready:
                    for record in deframer.feed(os.read(master, 4096)):
                        request = parse_request(record)
                        if request is not None:
                            self.request = None if request.is_stop else request
                            self._next_send = max(self._next_send, self.clock.now())
                        waves = parse_waveform_request(record)
                        if waves is not None:
                            self.waves = waves
                            self._next_wave = self.clock.now()
                now = self.clock.now()
                if self.waves and now >= self._next_wave:
                    records = self._wave_records(now)
                    if records:
                        os.write(master, records)
                    self._next_wave = max(self._next_wave + WAVE_RECORD_S, now)
                if "disconnect" in self.simulator.artifacts:
                    self._next_send = max(self._next_send, now)  # the cable is out
                elif self.request is not None and now >= self._next_send:
                    values, label = self._values()
                    # a late thread must not stamp two records with one second (its clock
                    # does not jitter as our scheduling does)
                    self._last_stamp = max(int(now), self._last_stamp + 1)
                    frame = phdb_record(
                        values,
                        self._last_stamp,
                        self.records_sent,
                        DRI_LEVEL,
                        self.request.classes,
                        nibp_label=label,
                    )
                    os.write(master, frame)
                    self.records_sent += 1
                    self._next_send = max(self._next_send + self.request.interval_s, now)
            except OSError as err:  # the host side went away; wait to be closed or reopened
                log.debug("virtual DRI monitor: %s", err)
                self.clock.sleep(POLL_S, stop)
