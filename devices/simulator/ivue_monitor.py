"""The virtual IntelliVue: a simulated patient behind Philips Data Export on a pty.

It sits on the monitor end of a pseudo-terminal and holds the monitor's side of the dialog
(protocols.md §2.4): it accepts an association, announces its MDS, and while an extended poll
of the numerics runs it sends one poll result a second from the simulated patient. Like the
virtual DRI monitor, a stable symlink names the pty, so closing and reopening it looks like a
cable pulled and plugged back in. `drop_association` plays a monitor that silently forgets the
host, which the host must notice and renew.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from pathlib import Path

from devices.protocols.intellivue import DN_SPDU, NIBP_SIGNALS, PERIODIC_SIGNALS, REL_TICKS_PER_S
from devices.protocols.intellivue_encode import (
    association_response,
    frame,
    mds_create_event,
    parse_host_message,
    poll_reply,
)
from devices.protocols.intellivue_frame import Deframer
from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.pty_link import PtyMonitor
from monitor.clock import Clock
from monitor.model import Reading

log = logging.getLogger(__name__)

POLL_S = 0.05
RESULT_INTERVAL_S = 1.0  # POLL_EXT_PERIOD_NU_1SEC: numerics once a second


class VirtualIntelliVue(PtyMonitor):
    thread_name = "virtual-ivue"

    def __init__(self, simulator: SimulatedMonitor, clock: Clock, link: Path) -> None:
        self.simulator = simulator
        simulator.emit_pleth = False  # waves are not exported by this monitor (yet)
        self.clock = clock
        super().__init__(link)
        self.associations = 0
        self.results_sent = 0
        self.associated = False
        self._poll_until = 0.0
        self._poll_invoke = 0
        self._invoke = 0
        self._next_send = 0.0
        self._started = clock.now()
        self._cuff: dict[str, float] = {}
        self._cuff_t: float | None = None

    def _plugged_in(self) -> None:
        self.associated = False

    def drop_association(self) -> None:
        """Forget the host without a word, as a monitor does after its time-out."""
        self.associated = False

    def _ticks(self, now: float) -> int:
        return int((now - self._started) * REL_TICKS_PER_S) & 0xFFFFFFFF

    def _next_invoke(self) -> int:
        self._invoke = (self._invoke + 1) & 0xFFFF
        return self._invoke

    def _answer(self, master: int, user: bytes, now: float) -> None:
        message = parse_host_message(user)
        if message.kind == "associate":
            self.associated, self._poll_until = True, 0.0
            self.associations += 1
            os.write(master, association_response())
            os.write(master, mds_create_event(self._next_invoke(), now, self._ticks(now)))
        elif message.kind == "release":
            self.associated = False
            os.write(master, frame(bytes((DN_SPDU, 0))))
        elif message.kind == "poll" and self.associated:
            self._poll_invoke = message.invoke
            self._poll_until = now + message.period_s
            self._next_send = max(self._next_send, now)

    def _values(self, now: float) -> dict[str, float | str]:
        """This second's numerics; what an artifact took off is sent as "absent"."""
        got: list[object] = []
        self.simulator.tick(got.append)
        values = {r.signal: r.value for r in got if isinstance(r, Reading)}
        if "NIBP_SYS" in values:
            self._cuff = {k: values[k] for k in NIBP_SIGNALS}
            self._cuff_t = now
        out: dict[str, float | str] = {s: values.get(s, "absent") for s in PERIODIC_SIGNALS}
        out.update(self._cuff)
        return out

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
                    self._next_send = max(self._next_send, now)  # the cable is out
                elif self.associated and now < self._poll_until and now >= self._next_send:
                    reply = poll_reply(
                        self._values(now),
                        self._poll_invoke,
                        now,
                        self._ticks(now),
                        poll_number=1,
                        nibp_time=self._cuff_t,
                    )
                    os.write(master, reply)
                    self.results_sent += 1
                    self._next_send = max(self._next_send + RESULT_INTERVAL_S, now)
            except OSError as err:  # the host side went away; wait to be closed or reopened
                log.debug("virtual IntelliVue: %s", err)
                self.clock.sleep(POLL_S, stop)
