"""A virtual monitoring gateway: pushes HL7 PCD-01 ORU^R01 to the station's MLLP listener.

Every `interval_s` it sends one message per chair (its PV1-3 location) with that chair's
simulated monitor readings and, where a pump is set, the pump's rate; it reads each ACK and
keeps the MSA-1 codes. `stop()` drops the connection the way a gateway restart does; a later
`start()` connects again.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading

from devices.protocols.hl7_pcd01 import END, MllpDeframer, Pcd01Stats
from devices.protocols.hl7_pcd01_encode import PumpState, oru_r01
from devices.simulator.inprocess import SimulatedMonitor
from monitor.clock import Clock
from monitor.model import Reading

log = logging.getLogger(__name__)


class VirtualPcd01Gateway:
    def __init__(
        self,
        host: str,
        port: int,
        chairs: dict[str, SimulatedMonitor],
        clock: Clock,
        interval_s: float = 1.0,
    ) -> None:
        self.host, self.port, self.chairs = host, port, chairs
        self.clock, self.interval_s = clock, interval_s
        self.pumps: dict[str, PumpState] = {}  # location -> what its pump reports
        self.acks: list[str] = []  # MSA-1 of each ACK received
        self.sent = 0
        self.silent = False  # stays connected but pushes nothing (a stalled gateway)
        self._ids = itertools.count(1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        for monitor in chairs.values():
            monitor.emit_pleth = False  # PCD-01 carries numerics only

    def start(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                with socket.create_connection((self.host, self.port), timeout=2.0) as sock:
                    self._push(sock, stop)
            except OSError as err:
                log.info("virtual gateway: %s; connecting again", err)
                self.clock.sleep(self.interval_s, stop)

    def _push(self, sock: socket.socket, stop: threading.Event) -> None:
        deframer = MllpDeframer(Pcd01Stats())
        while True:
            for location, monitor in () if self.silent else self.chairs.items():
                items: list[object] = []
                monitor.tick(items.append)
                got = [item for item in items if isinstance(item, Reading)]
                control = f"VGW{next(self._ids):08d}"
                message = oru_r01(
                    control, location, self.clock.now(), got, self.pumps.get(location)
                )
                sock.sendall(message)
                self.sent += 1
                self._read_ack(sock, deframer)
            if self.clock.sleep(self.interval_s, stop):
                return

    def _read_ack(self, sock: socket.socket, deframer: MllpDeframer) -> None:
        data = b""
        while END not in data:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("the station closed the connection")
            data += chunk
        for body in deframer.feed(data):
            msa = [s for s in body.decode(errors="replace").split("\r") if s.startswith("MSA")]
            self.acks.append(msa[0].split("|")[1] if msa else "?")
