"""The simulated monitor: a patient presented as in-process readings, optionally running a
training scenario.

It implements the bed's Device protocol. The byte-exact DRI emitter drives the same monitor
through the wire protocol instead. Artifacts act where a real monitor's would: a probe off
or a lead off removes the numeric and reports the sensor status, a failed cuff gives no
pressure, motion makes the pulse rate erratic, and a disconnect sends nothing at all.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from devices.simulator.physiology import SimplePatient
from devices.simulator.scenario import Scenario, ScenarioRun, replay_scenario
from devices.simulator.waves import PLETH_HZ, PlethSource
from monitor.clock import Clock
from monitor.model import DeviceEvent, Reading, Waveform
from monitor.signals import REGISTRY
from monitor.training import Debrief, TimelineEntry, TrainingView

FIRST_CUFF_AFTER_S = 5.0
# A late thread (a busy machine) catches up: it emits the missed ticks, each with its own
# time. Further behind than this (a suspended machine) it skips ahead instead of bursting.
MAX_CATCH_UP_S = 60.0
WAVE_CHUNK_S = 0.25  # live strips get the pleth in chunks this long
CONTINUOUS = ("HR", "PR", "SPO2", "RR", "ETCO2", "TEMP")
CUFF = ("NIBP_SYS", "NIBP_DIA", "NIBP_MEAN")
# the numerics each sensor artifact removes, and the status the monitor reports for them
SENSOR_ARTIFACTS = {
    "probe_off": (("SPO2", "PR"), "sensor off"),
    "lead_off": (("HR",), "lead off"),
}
Sink = Callable[[Reading | DeviceEvent], object]


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
        library: dict[str, Scenario] | None = None,
    ) -> None:
        self.bed = bed
        self.patient = patient
        self.clock = clock
        self.interval_s = interval_s
        self.nibp_interval_s = nibp_interval_s
        self.library = library or {}
        self.run_: ScenarioRun | None = None
        self.expected_interval_s = dict.fromkeys(CONTINUOUS, interval_s)
        self.expected_interval_s.update(dict.fromkeys(CUFF, nibp_interval_s))
        self._lock = threading.Lock()  # the patient is shared with instructor/test commands
        self._last: float | None = None
        self._next_cuff = 0.0
        self._status: dict[str, str] = {}  # signals a sensor artifact has taken off
        self._cuff_failed = False
        self._replay: list[tuple[float, str, float]] | None = None
        self._replay_next = 0
        self._noise = random.Random(bed)
        self.emit_pleth = True  # a live pleth strip; off where nobody draws it (headless)
        self._pleth = PlethSource()
        self._pleth_end: float | None = None
        self._pulse: float | None = None  # the pleth's pulse rate; None while there is none
        self.step_due: float | None = None
        """When `run` next steps the patient (None while it does not run). The bed's watchdog
        reads it: a thread that is late but catching up is not a silent monitor."""

    # -- bed hooks ------------------------------------------------------------------------

    def infusion_changed(self, mg_per_h: float) -> None:
        with self._lock:
            self.patient.mg_per_h = mg_per_h

    def bolus(self, mg: float) -> None:
        with self._lock:
            self.patient.bolus(mg)

    def set_value(self, signal: str, value: float | None) -> None:
        """Force a signal to a value (None releases it): the test hook."""
        with self._lock:
            if value is None:
                self.patient.overrides.pop(signal, None)
            else:
                self.patient.overrides[signal] = value

    def trainee_action(self, action: str, detail: str = "") -> None:
        with self._lock:
            if self.run_ is not None:
                self.run_.trainee_action(self.clock.now(), action, detail)

    # -- training --------------------------------------------------------------------------

    def start_scenario(self, scenario_id: str) -> None:
        """A new patient from the scenario (its seed, baseline and sensitivity), keeping the
        infusion rate the bed is running."""
        scenario = self.library.get(scenario_id)
        if scenario is None:
            raise ValueError(f"no scenario {scenario_id!r}")
        with self._lock:
            self._replay = None
            self._last = None  # the new patient starts now, not when the last one did
            rate = self.patient.mg_per_h
            self.patient = scenario.patient_model()
            self.patient.mg_per_h = rate
            self.run_ = ScenarioRun(scenario, self.patient, self.clock.now())

    def start_replay(self, title: str, rows: list[tuple[float, str, float]]) -> None:
        """Play recorded (t, signal, value) readings back as this monitor's output, at their
        recorded pace from now on: a real case to teach with. Trainee actions are logged and
        the debrief lists them with the alarms the recording raises."""
        if not rows:
            raise ValueError("the recording has no readings")
        rows = sorted(rows, key=lambda r: r[0])  # usually sorted already: cheap
        scenario = replay_scenario(title, rows)
        first = rows[0][0]
        with self._lock:
            self._replay = [(t - first, s, v) for t, s, v in rows]
            self._replay_next = 0
            self._last = None
            self.run_ = ScenarioRun(scenario, self.patient, self.clock.now())

    def instructor(self, command: str, value: str, level: float | None = None) -> None:
        with self._lock:
            if self.run_ is None:
                raise ValueError("no scenario is running")
            self.run_.instructor(self.clock.now(), command, value, level)

    def training_view(self) -> TrainingView | None:
        with self._lock:
            return None if self.run_ is None else self.run_.view(self.clock.now())

    def debrief(self, alarms: list[TimelineEntry]) -> Debrief | None:
        with self._lock:
            return None if self.run_ is None else self.run_.debrief(self.clock.now(), alarms)

    @property
    def artifacts(self) -> set[str]:
        """The artifacts on now (a copy: the instructor changes them from another thread)."""
        with self._lock:
            return self._artifacts()

    def _artifacts(self) -> set[str]:
        return set() if self.run_ is None else set(self.run_.artifacts)

    # -- emitting --------------------------------------------------------------------------

    def _emit(self, sink: Sink, t: float, values: dict[str, float]) -> None:
        for code, value in values.items():
            sink(Reading(self.bed, t, code, value, REGISTRY[code].unit))

    def _apply_artifacts(
        self, sink: Sink, t: float, numerics: dict[str, float], artifacts: set[str]
    ) -> None:
        off: dict[str, str] = {}
        for name, (signals, status) in SENSOR_ARTIFACTS.items():
            if name in artifacts:
                off |= dict.fromkeys(signals, status)
        for signal in sorted(set(off) | set(self._status)):
            status = off.get(signal, "valid")
            if self._status.get(signal, "valid") != status:
                detail = {"signal": signal, "status": status}
                sink(DeviceEvent(self.bed, t, "signal_status", detail))
            if status == "valid":
                self._status.pop(signal, None)
            else:
                self._status[signal] = status
        for signal in off:
            numerics.pop(signal, None)
        if "motion" in artifacts:  # an erratic pulse rate and a wandering SpO2
            if "PR" in numerics:
                numerics["PR"] = float(max(30, round(numerics["PR"] + self._noise.gauss(0, 15))))
            if "SPO2" in numerics:
                dip = abs(self._noise.gauss(0, 2))
                numerics["SPO2"] = float(min(100, round(numerics["SPO2"] - dip)))

    def _due(self, now: float) -> list[Reading]:
        """The recording's readings that are due, each at its recorded offset from the start
        of the replay."""
        assert self._replay is not None and self.run_ is not None
        start, rows, due = self.run_.started_at, self._replay, []
        while self._replay_next < len(rows) and start + rows[self._replay_next][0] <= now:
            offset, signal, value = rows[self._replay_next]
            due.append(Reading(self.bed, start + offset, signal, value, REGISTRY[signal].unit))
            self._replay_next += 1
        return due

    def tick(self, sink: Sink, at: float | None = None) -> None:
        """Move the patient to `at` (the clock's now by default) and emit that tick's readings,
        stamped `at`. A given time not after the last tick's is skipped."""
        now = self.clock.now() if at is None else at
        with self._lock:  # the sink is called outside: the bed takes its own lock
            replayed = self._due(now) if self._replay is not None else None
        if replayed is not None:
            for reading in replayed:
                sink(reading)
            return
        with self._lock:
            if self._last is None:
                self._last, self._next_cuff = now, now + FIRST_CUFF_AFTER_S
            elif at is not None and now <= self._last:
                return  # a catch-up tick older than a new patient's start
            self.patient.advance(now - self._last)
            self._last = now
            numerics = self.patient.continuous()
            cuff = self.patient.cuff() if now >= self._next_cuff else None
            if cuff is not None:
                self._next_cuff += self.nibp_interval_s
                if self._next_cuff <= now:
                    self._next_cuff = now + self.nibp_interval_s
            if self.run_ is not None:
                self.run_.tick(now, numerics | (cuff or {}))
            artifacts = self._artifacts()
        if "disconnect" in artifacts:
            self._pulse = None
            return  # nothing reaches the station: its watchdog raises the technical alarm
        self._apply_artifacts(sink, now, numerics, artifacts)
        self._emit(sink, now, numerics)
        pulse = numerics.get("PR", numerics.get("HR"))
        # no pleth with the probe off: the strip shows the gap
        self._pulse = pulse if "SPO2" in numerics else None
        self.wave_tick(sink)
        if cuff is not None:
            failed = "cuff_failure" in artifacts
            if failed != self._cuff_failed:
                status = "measurement failed" if failed else "valid"
                detail = {"signal": "NIBP_SYS", "status": status}
                sink(DeviceEvent(self.bed, now, "signal_status", detail))
                self._cuff_failed = failed
            if not failed:
                self._emit(sink, now, cuff)

    @property
    def status(self) -> dict[str, str]:
        """Signals a sensor artifact has taken off, and why."""
        return dict(self._status)

    def wave_tick(self, sink: Sink) -> None:
        """Emit the pleth from where the last block ended up to now (a 250-ms chunk between
        numerics ticks), so a late tick still joins (up to a 2-s gap)."""
        now = self.clock.now()
        if not self.emit_pleth or self._pulse is None:
            self._pleth_end = None
            return
        start = self._pleth_end
        if start is not None and 0 <= now - start < 1 / PLETH_HZ:
            return  # nothing new since the last chunk
        if start is None or not 0 < now - start <= 2.0:
            start = now - self.interval_s
        samples = self._pleth.block(now - start, self._pulse)
        sink(Waveform(self.bed, start, "PLETH", PLETH_HZ, samples))
        self._pleth_end = start + len(samples) / PLETH_HZ

    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Step every `interval_s` of the clock. A late wake-up emits the ticks it missed,
        each with its own time, so a busy machine delays readings but never drops them."""
        next_tick = self.clock.now()
        try:
            while not stop.is_set():
                now = self.clock.now()
                if now - next_tick > MAX_CATCH_UP_S:  # suspended machine: do not burst
                    next_tick = now
                while next_tick <= now and not stop.is_set():
                    self.step_due = next_tick
                    self.tick(sink, next_tick)
                    next_tick += self.interval_s
                self.step_due = next_tick
                now = self.clock.now()
                while self.emit_pleth and now + WAVE_CHUNK_S < next_tick:
                    if self.clock.sleep(WAVE_CHUNK_S, stop):
                        return
                    self.wave_tick(sink)
                    now = self.clock.now()
                if self.clock.sleep(next_tick - now, stop):
                    return
        finally:
            self.step_due = None
