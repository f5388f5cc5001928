"""The simple simulated monitor: a SimplePatient presented as in-process readings.

It implements the hub's Device protocol. The byte-exact DRI emitter drives the same patient
through the wire protocol instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from devices.simulator.physiology import SimplePatient
from monitor.clock import Clock
from monitor.model import Reading
from monitor.signals import REGISTRY

FIRST_CUFF_AFTER_S = 5.0


class SimulatedMonitor:
    """1 Hz HR, PR, SpO2, RR, EtCO2 and temperature; NIBP every `nibp_interval_s`."""

    source = "simulated"

    def __init__(
        self,
        bed: str,
        patient: SimplePatient,
        clock: Clock,
        interval_s: float = 1.0,
        nibp_interval_s: float = 180.0,
    ) -> None:
        self.bed = bed
        self.patient = patient
        self.clock = clock
        self.interval_s = interval_s
        self.nibp_interval_s = nibp_interval_s
        self.expected_interval_s = {code: interval_s for code in patient.continuous()}
        self.expected_interval_s.update(dict.fromkeys(patient.cuff(), nibp_interval_s))
        self._lock = threading.Lock()  # the patient is shared with instructor/test commands
        self._last: float | None = None
        self._next_cuff = 0.0

    def infusion_changed(self, rate_mg_kg_h: float) -> None:
        with self._lock:
            self.patient.rate_mg_kg_h = rate_mg_kg_h

    def set_value(self, signal: str, value: float | None) -> None:
        """Force a signal to a value (None releases it): the training and test hook."""
        with self._lock:
            if value is None:
                self.patient.overrides.pop(signal, None)
            else:
                self.patient.overrides[signal] = value

    def _emit(self, sink: Callable[[Reading], None], t: float, values: dict[str, float]) -> None:
        for code, value in values.items():
            sink(Reading(self.bed, t, code, value, REGISTRY[code].unit))

    def tick(self, sink: Callable[[Reading], None]) -> None:
        """Move the patient to the clock's now and emit this tick's readings."""
        now = self.clock.now()
        with self._lock:
            if self._last is None:
                self._last, self._next_cuff = now, now + FIRST_CUFF_AFTER_S
            self.patient.advance(now - self._last)
            self._last = now
            numerics = self.patient.continuous()
            cuff = self.patient.cuff() if now >= self._next_cuff else None
            if cuff is not None:
                self._next_cuff += self.nibp_interval_s
                if self._next_cuff <= now:
                    self._next_cuff = now + self.nibp_interval_s
        self._emit(sink, now, numerics)
        if cuff is not None:
            self._emit(sink, now, cuff)

    def run(self, sink: Callable[[Reading], None], stop: threading.Event) -> None:
        next_tick = self.clock.now()
        while not stop.is_set():
            self.tick(sink)
            now = self.clock.now()
            next_tick += self.interval_s
            if next_tick < now:  # fell behind (suspended machine): do not burst to catch up
                next_tick = now + self.interval_s
            if self.clock.sleep(next_tick - now, stop):
                return
