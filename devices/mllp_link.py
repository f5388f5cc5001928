"""The station's MLLP listener for HL7 PCD-01 gateways, and the beds it feeds (kind: hl7_pcd01).

One listener per `host:port`, shared by every hl7_pcd01 bed that names it: the first bed to
run starts it and the last to stop closes it. Each gateway connection has its own decoder
(devices/protocols/hl7_pcd01.py), which routes every message to a bed by PV1-3 or EUI-64;
the ACKs go back on the same connection. A bed's link is up while a connection carries its
messages; it is lost when that connection drops or the bed hears nothing for two intervals.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
from collections import Counter
from dataclasses import asdict

from devices.link_watch import LinkWatch
from devices.protocols.hl7_pcd01 import Pcd01Decoder, Routes, location_key
from devices.simulator.inprocess import CONTINUOUS, CUFF
from monitor.clock import Clock
from monitor.device_config import Hl7Pcd01Device
from monitor.model import DeviceEvent, Reading, Source
from monitor.ports import DeviceSink

log = logging.getLogger(__name__)

POLL_S = 0.2  # how soon the listener sees a stop
CHECK_S = 0.25
SILENT_FACTOR = 2.0  # intervals without a message before the bed's link counts as lost
RETRY_LISTEN_S = 5.0

_registry_lock = threading.Lock()
_listeners: dict[tuple[str, int], MllpListener] = {}


class MllpListener:
    """Accepts gateway connections on one address and hands each bed its messages."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self._beds: dict[str, Pcd01Bed] = {}
        self._routes = Routes()
        self._decoders: dict[socket.socket, Pcd01Decoder] = {}
        self._closed_counts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: socket.socket | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the real port when bound to port 0)."""
        assert self._server is not None
        host, port = self._server.getsockname()[:2]
        return host, port

    def counts(self) -> dict[str, int]:
        """What the decoders of all connections so far counted (rejected, unrouted, ...)."""
        with self._lock:
            total = Counter(self._closed_counts)
            for decoder in self._decoders.values():
                total.update(_numbers(decoder))
        return dict(total)

    # -- beds ------------------------------------------------------------------------------

    def attach(self, bed: Pcd01Bed) -> None:
        with self._lock:
            self._beds[bed.bed] = bed
            self._reroute()

    def detach(self, bed: Pcd01Bed) -> bool:
        """Forget the bed; True when no bed is left (the caller closes the listener)."""
        with self._lock:
            self._beds.pop(bed.bed, None)
            self._reroute()
            return not self._beds

    def _reroute(self) -> None:
        locations, equipment = {}, {}
        for bed in self._beds.values():
            if bed.config.location:
                locations[location_key(bed.config.location)] = bed.bed
            if bed.config.equipment:
                equipment[bed.config.equipment.upper()] = bed.bed
        self._routes = Routes(locations, equipment)
        for decoder in self._decoders.values():
            decoder.routes = self._routes

    # -- the socket loop -------------------------------------------------------------------

    def start(self) -> None:
        """Bind and serve in a thread; a bind error raises OSError here, not in the thread."""
        server = socket.create_server((self.host, self.port), reuse_port=False)
        server.setblocking(False)
        self._server = server
        self._thread = threading.Thread(target=self._serve, name=f"mllp-{self.port}", daemon=True)
        self._thread.start()
        log.info("listening for HL7 PCD-01 gateways on %s:%d", *self.address)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _serve(self) -> None:
        assert self._server is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._server, selectors.EVENT_READ)
            try:
                while not self._stop.is_set():
                    for key, _ in sel.select(POLL_S):
                        sock = key.fileobj
                        assert isinstance(sock, socket.socket)
                        if sock is self._server:
                            self._accept(sel)
                        elif not self._receive(sock):
                            self._drop(sel, sock, "the gateway closed the connection")
            finally:
                for sock in list(self._decoders):
                    self._drop(sel, sock, "the station stopped")
                self._server.close()

    def _accept(self, sel: selectors.BaseSelector) -> None:
        try:
            conn, peer = self._server.accept()  # type: ignore[union-attr]
        except OSError:
            return
        conn.settimeout(2.0)  # ACKs are small: a gateway that takes none for 2 s is gone
        with self._lock:
            self._decoders[conn] = Pcd01Decoder("gateway", self._routes)
        sel.register(conn, selectors.EVENT_READ)
        log.info("HL7 gateway connected from %s:%d", *peer[:2])

    def _receive(self, sock: socket.socket) -> bool:
        """Read, decode, ACK and deliver; False when the connection is over."""
        try:
            data = sock.recv(65536)
        except OSError:
            return False
        if not data:
            return False
        decoder = self._decoders[sock]
        refused = decoder.stats.rejected + decoder.stats.unrouted
        items = decoder.feed(data)
        if decoder.stats.rejected + decoder.stats.unrouted > refused:
            counts = self.counts()
            log.warning(
                "HL7 gateway on port %d: a message was refused or named no bed "
                "(%d refused, %d for no bed so far)",
                self.port, counts.get("rejected", 0), counts.get("unrouted", 0),
            )  # fmt: skip
        try:
            for ack in decoder.take_acks():
                sock.sendall(ack)
        except OSError:
            return False
        with self._lock:
            beds = dict(self._beds)
        for item in items:
            bed = beds.get(item.bed)
            if bed is not None:  # the bed may have stopped since the routes were made
                bed.deliver(item, id(sock))
        return True

    def _drop(self, sel: selectors.BaseSelector, sock: socket.socket, why: str) -> None:
        sel.unregister(sock)
        with self._lock:
            decoder = self._decoders.pop(sock)
            self._closed_counts.update(_numbers(decoder))
            beds = list(self._beds.values())
        sock.close()
        for bed in beds:
            bed.connection_closed(id(sock), why)


def _numbers(decoder: Pcd01Decoder) -> dict[str, int]:
    return {k: v for k, v in asdict(decoder.stats).items() if isinstance(v, int)}


def listener_for(host: str, port: int) -> MllpListener | None:
    """The running listener for this address, if a bed has started one."""
    with _registry_lock:
        return _listeners.get((host, port))


class Pcd01Bed:
    """Implements the station's Device for a bed fed by an HL7 PCD-01 gateway."""

    source: Source = "live"

    def __init__(self, bed: str, config: Hl7Pcd01Device, clock: Clock) -> None:
        self.bed, self.config, self.clock = bed, config, clock
        self.expected_interval_s = dict.fromkeys(CONTINUOUS, config.interval_s)
        self.expected_interval_s.update(dict.fromkeys(CUFF, config.nibp_interval_s))
        self.watch = LinkWatch(bed, clock, SILENT_FACTOR * config.interval_s, "gateway silent")
        self.listener: MllpListener | None = None
        self._lock = threading.Lock()
        self._sink: DeviceSink | None = None
        self._conn: int | None = None  # the connection that last carried this bed's messages

    # -- Device ---------------------------------------------------------------------------

    def run(self, sink: DeviceSink, stop: threading.Event) -> None:
        self._sink = self.watch.sink = sink
        while self.listener is None and not stop.is_set():
            try:
                self.listener = _attach(self)
            except OSError as err:
                where = f"{self.config.host}:{self.config.port}"
                self.watch.change(False, f"cannot listen on {where}: {err.strerror or err}")
                self.clock.sleep(RETRY_LISTEN_S, stop)
        self.watch.heard()  # silence counts from when we start listening
        try:
            while not self.clock.sleep(CHECK_S, stop):
                self.watch.check_silence()
        finally:
            _detach(self)

    def infusion_changed(self, mg_per_h: float) -> None:
        """The gateway only reports; the station tells it nothing."""

    # -- the listener's thread ------------------------------------------------------------

    def deliver(self, item: Reading | DeviceEvent, conn: int) -> None:
        with self._lock:
            self._conn = conn
        self.watch.heard()
        self.watch.change(True, "gateway connected")
        if self._sink is not None:
            self._sink(item)

    def connection_closed(self, conn: int, why: str) -> None:
        with self._lock:
            mine = self._conn == conn
            if mine:
                self._conn = None
        if mine:
            self.watch.change(False, f"gateway link lost: {why}")


def _attach(bed: Pcd01Bed) -> MllpListener:
    key = (bed.config.host, bed.config.port)
    with _registry_lock:
        listener = _listeners.get(key)
        if listener is None:
            listener = MllpListener(*key)
            listener.start()
            _listeners[key] = listener
        listener.attach(bed)
        return listener


def _detach(bed: Pcd01Bed) -> None:
    key = (bed.config.host, bed.config.port)
    with _registry_lock:
        listener = _listeners.get(key)
        if listener is None or not listener.detach(bed):
            return
        del _listeners[key]
    listener.close()
