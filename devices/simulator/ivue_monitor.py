"""The virtual IntelliVue: a simulated patient behind Philips Data Export on a pty.

It sits on the monitor end of a pseudo-terminal and holds the monitor's side of the dialog
(protocols.md §2.4): it accepts an association, announces its MDS, and while the host's
extended polls run it sends from the simulated patient the numerics once a second, the pleth
and ECG lead I waves four times a second (when the association asked for real-time waves),
and its alarm lists once a second. Like the
virtual DRI monitor, a stable symlink names the pty, so closing and reopening it looks like a
cable pulled and plugged back in. `drop_association` plays a monitor that silently forgets the
host, which the host must notice and renew.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from devices.protocols.intellivue import (
    DN_SPDU,
    NIBP_SIGNALS,
    NOM_MOC_VMO_METRIC_NU,
    PERIODIC_SIGNALS,
    REL_TICKS_PER_S,
)
from devices.protocols.intellivue_alert import NOM_MOC_VMO_AL_MON
from devices.protocols.intellivue_encode import (
    POLL_EXT_PERIOD_RTSA,
    alarm_poll_reply,
    association_response,
    frame,
    mds_create_event,
    parse_host_message,
    poll_reply,
    wave_poll_reply,
)
from devices.protocols.intellivue_frame import Deframer
from devices.protocols.intellivue_wave import (
    ECG_I_SPEC,
    NOM_MOC_VMO_METRIC_SA_RT,
    PLETH_SPEC,
    WaveSpec,
)
from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.pty_link import PtyMonitor
from devices.simulator.waves import ecg_wave, pleth_wave
from monitor.clock import Clock
from monitor.model import Reading

log = logging.getLogger(__name__)

POLL_S = 0.05
RESULT_INTERVAL_S = 1.0  # POLL_EXT_PERIOD_NU_1SEC: numerics once a second
WAVE_INTERVAL_S = 0.256  # real-time waves in small results: 32 pleth samples of 8 ms
# each wave, drawn from the patient's pulse, and the numeric whose sensor it needs
WAVES: tuple[tuple[WaveSpec, Callable[[np.ndarray], np.ndarray], str], ...] = (
    (PLETH_SPEC, pleth_wave, "SPO2"),
    (ECG_I_SPEC, lambda phase: ecg_wave(phase) / 1000.0, "HR"),  # µV drawing, sent in mV
)


class VirtualIntelliVue(PtyMonitor):
    thread_name = "virtual-ivue"

    def __init__(self, simulator: SimulatedMonitor, clock: Clock, link: Path) -> None:
        super().__init__(simulator, clock, link)
        self.associations = 0
        self.results_sent = 0
        self.associated = False
        self.wave_results_sent = 0
        self._rtsa = False  # the association asked for real-time waves
        self._polls: dict[int, tuple[int, float]] = {}  # class -> (invoke id, runs until)
        self._invoke = 0
        self._next_send: dict[int, float] = {}
        self._specs_sent: set[int] = set()  # wave objects described since the poll began
        self._pulse_rate = 75.0
        self._phase: dict[int, float] = {}
        self._started = clock.now()
        self._cuff: dict[str, float] = {}
        self._cuff_t: float | None = None

    def _plugged_in(self) -> None:
        self.associated = False
        self._polls.clear()

    def drop_association(self) -> None:
        """Forget the host without a word, as a monitor does after its time-out."""
        self.associated = False
        self._polls.clear()

    def _ticks(self, now: float) -> int:
        return int((now - self._started) * REL_TICKS_PER_S) & 0xFFFFFFFF

    def _next_invoke(self) -> int:
        self._invoke = (self._invoke + 1) & 0xFFFF
        return self._invoke

    def _answer(self, master: int, user: bytes, now: float) -> None:
        message = parse_host_message(user)
        if message.kind == "associate":
            self.associated, self._rtsa = True, bool(message.options & POLL_EXT_PERIOD_RTSA)
            self._polls.clear()
            self.associations += 1
            os.write(master, association_response())
            os.write(master, mds_create_event(self._next_invoke(), now, self._ticks(now)))
        elif message.kind == "release":
            self.associated = False
            os.write(master, frame(bytes((DN_SPDU, 0))))
        elif message.kind == "poll" and self.associated:
            if message.code == NOM_MOC_VMO_METRIC_SA_RT and not self._rtsa:
                return  # waves only for a host whose poll profile asked for them
            if message.code == NOM_MOC_VMO_METRIC_SA_RT and message.code not in self._polls:
                self._specs_sent.clear()  # a new poll's first result describes its objects
            self._polls[message.code] = (message.invoke, now + message.period_s)
            self._next_send[message.code] = max(self._next_send.get(message.code, 0.0), now)

    def _values(self, now: float) -> dict[str, float | str]:
        """This second's numerics; what an artifact took off is sent as "absent"."""
        got: list[object] = []
        self.simulator.tick(got.append)
        values = {r.signal: r.value for r in got if isinstance(r, Reading)}
        self._pulse_rate = float(values.get("PR", values.get("HR", self._pulse_rate)))
        if "NIBP_SYS" in values:
            self._cuff = {k: values[k] for k in NIBP_SIGNALS}
            self._cuff_t = now
        out: dict[str, float | str] = {s: values.get(s, "absent") for s in PERIODIC_SIGNALS}
        out.update(self._cuff)
        return out

    def _waves(self, due: float) -> bytes:
        """WAVE_INTERVAL_S of each wave at the last pulse rate, continuous in phase; none
        while its sensor is off. Stamped with the time it was due: the samples are evenly
        spaced, whenever this thread gets to send them."""
        waves: dict[WaveSpec, np.ndarray] = {}
        status = self.simulator.status
        for spec, draw, sensor in WAVES:
            if status.get(sensor, "valid") != "valid":
                continue
            n = round(spec.rate_hz * WAVE_INTERVAL_S)
            step = (self._pulse_rate / 60.0) / spec.rate_hz
            phase = self._phase.get(spec.physio_id, 0.0) + np.arange(n) * step
            self._phase[spec.physio_id] = float(phase[-1] + step) % 1.0
            waves[spec] = draw(phase)
        if not waves:
            return b""
        invoke, _ = self._polls[NOM_MOC_VMO_METRIC_SA_RT]
        new = {spec.physio_id for spec in waves} - self._specs_sent
        self._specs_sent |= new
        self.wave_results_sent += 1
        return wave_poll_reply(
            waves, invoke, due, self._ticks(due), poll_number=2, with_specs=bool(new)
        )

    def _result(self, code: int, now: float) -> bytes:
        invoke, _ = self._polls[code]
        if code == NOM_MOC_VMO_METRIC_NU:
            self.results_sent += 1
            values = self._values(now)
            return poll_reply(values, invoke, now, self._ticks(now), nibp_time=self._cuff_t)
        if code == NOM_MOC_VMO_AL_MON:
            return alarm_poll_reply([], [], invoke, now, self._ticks(now), poll_number=3)
        return self._waves(self._next_send[code])

    def _serve(self, master: int, stop: threading.Event) -> None:
        deframer = Deframer()
        while not stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], POLL_S)
                now = self.clock.now()
                if ready:
                    for user in deframer.feed(os.read(master, 4096)):
                        self._answer(master, user, now)
                if "disconnect" in self.simulator.artifacts:
                    for code in self._next_send:  # the cable is out
                        self._next_send[code] = max(self._next_send[code], now)
                    continue
                for code, (_, until) in list(self._polls.items()):
                    if now >= until or now < self._next_send[code]:
                        continue
                    data = self._result(code, now)
                    if data:
                        os.write(master, data)
                    every = (
                        WAVE_INTERVAL_S if code == NOM_MOC_VMO_METRIC_SA_RT else RESULT_INTERVAL_S
                    )
                    self._next_send[code] = max(self._next_send[code] + every, now)
            except OSError as err:  # the host side went away; wait to be closed or reopened
                log.debug("virtual IntelliVue: %s", err)
                self.clock.sleep(POLL_S, stop)
