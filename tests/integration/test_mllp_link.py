"""HL7 PCD-01 over MLLP on a loopback socket: the virtual gateway, the listener, the bed."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from dashboard import build_station
from devices.mllp_link import Pcd01Bed, listener_for
from devices.protocols.hl7_pcd01 import frame
from devices.protocols.hl7_pcd01_encode import PumpState, oru_r01
from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.pcd01_gateway import VirtualPcd01Gateway
from devices.simulator.physiology import SimplePatient
from monitor.alarms.technical import PORT_LOST
from monitor.clock import SystemClock
from monitor.config import parse_config
from monitor.device_config import Hl7Pcd01Device
from monitor.model import DeviceEvent
from monitor.storage.sqlite import SessionStore
from tests.helpers import config_dict, start_by_override, wait_until

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, port: int) -> dict[str, Any]:
    data = config_dict(tmp_path / "s.db", beds=2)
    for i, bed in enumerate(data["beds"]):
        bed["device"] = {
            "kind": "hl7_pcd01",
            "host": HOST,
            "port": port,
            "location": f"ICU^^{i + 3}",
            "interval_s": 1.0,
        }
    return data


def _msa(sock: socket.socket) -> list[str]:
    data = b""
    while not data.endswith(b"\x1c\r"):
        chunk = sock.recv(4096)
        assert chunk, "the station closed the connection"
        data += chunk
    (msa,) = [s for s in data[1:-2].decode().split("\r") if s.startswith("MSA")]
    return msa.split("|")


def test_gateway_readings_reach_the_beds_and_a_dropped_link_is_an_alarm(tmp_path: Path) -> None:
    port = _free_port()
    station = build_station(parse_config(_config(tmp_path, port)))
    hub, other = (station.ward.runtime(b) for b in ("chair-1", "chair-2"))
    assert isinstance(hub.device, Pcd01Bed) and hub.info.source == "live"
    clock = SystemClock()
    chairs = {"ICU^^3": SimulatedMonitor("gw-3", SimplePatient(3), clock)}
    gateway = VirtualPcd01Gateway(HOST, port, chairs, clock, interval_s=0.5)
    gateway.pumps["ICU^^3"] = PumpState(rate_ml_h=10.5)
    station.start()
    try:
        start_by_override(hub, 70, 0.75, "nurse")
        wait_until(lambda: listener_for(HOST, port) is not None, 5, "the listener")
        gateway.start()
        wait_until(lambda: len(hub.since(0)[0]) >= 3 * 5, 10, "readings from the gateway")
        latest = hub.snapshot().latest
        assert {"HR", "SPO2", "RR", "TEMP"} <= set(latest) and latest["HR"].unit == "/min"
        assert set(gateway.acks) == {"AA"} and hub.rejected == {}
        assert not other.since(0)[0]  # ICU^^4 has no gateway: nothing reaches chair-2

        gateway.stop()  # the gateway restarts: its connection drops
        wait_until(lambda: PORT_LOST in {a.name for a in hub.active_alarms()}, 5, PORT_LOST)
        gateway.start()
        wait_until(lambda: PORT_LOST not in {a.name for a in hub.active_alarms()}, 10, "recovery")
        count = len(hub.since(0)[0])
        wait_until(lambda: len(hub.since(0)[0]) > count, 5, "readings after reconnecting")
    finally:
        gateway.stop()
        station.stop()
    assert listener_for(HOST, port) is None  # the last bed to stop closes the listener
    log = SessionStore(station.store.path)
    session = log.sessions("chair-1")[0]
    pumps = [e.payload for e in log.events(session.id) if e.kind == "device_pump"]
    assert pumps and pumps[-1]["rate_ml_h"] == 10.5  # the pump's rate is on the record


def test_a_bad_msh_is_refused_and_an_unknown_bed_is_counted(tmp_path: Path) -> None:
    port = _free_port()
    station = build_station(parse_config(_config(tmp_path, port)))
    station.start()
    try:
        wait_until(lambda: listener_for(HOST, port) is not None, 5, "the listener")
        listener = listener_for(HOST, port)
        assert listener is not None
        with socket.create_connection((HOST, port), timeout=5) as sock:
            sock.sendall(frame(b"MSX|garbage|CTRL1\rPV1||O|ICU^^3\r"))
            assert _msa(sock)[1] == "AR"
            sock.sendall(oru_r01("CTRL2", "ICU^^9", SystemClock().now(), []))
            assert _msa(sock)[1] == "AE"  # no chair at ICU^^9
        wait_until(lambda: listener.counts().get("rejected") == 1, 5, "the refusal counted")
        counts = listener.counts()
        assert counts["malformed"] == 1 and counts["unrouted"] == 1
    finally:
        station.stop()


def test_a_silent_gateway_is_a_lost_link_until_messages_resume(tmp_path: Path) -> None:
    port = _free_port()
    data = _config(tmp_path, port)
    data["beds"] = data["beds"][:1]
    station = build_station(parse_config(data))
    hub = station.ward.runtime("chair-1")
    clock = SystemClock()
    chairs = {"ICU^^3": SimulatedMonitor("gw-3", SimplePatient(3), clock)}
    gateway = VirtualPcd01Gateway(HOST, port, chairs, clock, interval_s=0.5)
    station.start()
    try:
        wait_until(lambda: listener_for(HOST, port) is not None, 5, "the listener")
        gateway.start()
        wait_until(lambda: len(hub.since(0)[0]) >= 5, 10, "readings from the gateway")
        gateway.silent = True  # connected, but the gateway sends nothing
        wait_until(lambda: PORT_LOST in {a.name for a in hub.active_alarms()}, 5, PORT_LOST)
        gateway.silent = False
        wait_until(lambda: PORT_LOST not in {a.name for a in hub.active_alarms()}, 5, "recovery")
    finally:
        gateway.stop()
        station.stop()


def test_a_port_in_use_is_a_lost_link_with_one_clear_line() -> None:
    with socket.create_server((HOST, 0)) as taken:
        port = int(taken.getsockname()[1])
        config = Hl7Pcd01Device(kind="hl7_pcd01", host=HOST, port=port, location="ICU^^3")
        bed = Pcd01Bed("chair-1", config, SystemClock())
        events: list[object] = []
        stop = threading.Event()
        thread = threading.Thread(target=bed.run, args=(events.append, stop), daemon=True)
        thread.start()
        try:
            wait_until(lambda: bool(events), 5, "the link state")
        finally:
            stop.set()
            thread.join(5)
    (event,) = events
    assert isinstance(event, DeviceEvent) and event.detail["state"] == "lost"
    assert f"cannot listen on {HOST}:{port}" in event.detail["detail"]
    assert listener_for(HOST, port) is None and not thread.is_alive()
