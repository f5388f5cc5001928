"""A serial port that fails in ways pyserial does not wrap: the bed raises TECH_PORT_LOST, logs
each outage in at most two lines (lost, then connected again), and recovers by itself.

The port is a fake with pyserial's shape, put where the link opens its ports
(`serial.serial_for_url`); the bed, its core and its alarms are the real ones.
"""

from __future__ import annotations

import logging
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dashboard import build_station
from devices import transport
from devices.protocols.datex_s5_encode import phdb_record
from monitor.config import parse_config
from tests.helpers import config_dict, wait_until

VALUES = {"HR": 72, "PR": 72, "SPO2": 98, "RR": 14, "ETCO2": 38, "TEMP": 36.8}
PORT = "/dev/ttyUSB-fake-monitor"
ALARM_LOG = "monitor.runtime.recorder"  # one line per alarm transition, not the link's


def link_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the link and the bed's device loop logged at INFO and above."""
    return [
        r.getMessage() for r in caplog.records if r.levelno >= logging.INFO and r.name != ALARM_LOG
    ]


class FakeLine:
    """The far end of the cable: a monitor sending a record every second, and the faults the
    test switches on (raised by open, or by read on the port that is open)."""

    def __init__(self) -> None:
        self.open_error: BaseException | None = None
        self.read_error: BaseException | None = None
        self.opened = 0
        self.records = 0
        self._lock = threading.Lock()

    def open(self, url: str, **settings: Any) -> FakePort:
        assert url == PORT and settings["timeout"] > 0
        if self.open_error is not None:
            raise self.open_error
        self.opened += 1
        return FakePort(self, settings["timeout"])

    def record(self) -> bytes:
        with self._lock:
            self.records += 1
            return phdb_record(VALUES, int(time.time()), self.records)


class FakePort:
    """What the link uses of a pyserial port: in_waiting, read, write, close."""

    def __init__(self, line: FakeLine, timeout: float) -> None:
        self.line, self.timeout = line, timeout
        self.next_record = time.monotonic()
        self.is_open = True

    @property
    def in_waiting(self) -> int:
        if self.line.read_error is not None:
            raise self.line.read_error
        return 0

    def read(self, size: int = 1) -> bytes:
        if self.line.read_error is not None:
            raise self.line.read_error
        wait = self.next_record - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, self.timeout))
            return b""
        self.next_record += 1.0
        return self.line.record()

    def write(self, data: bytes) -> int:
        return len(data)  # the host's requests: this monitor sends regardless

    def close(self) -> None:
        self.is_open = False


FAULTS = {
    "termios": termios.error(22, "Invalid argument"),
    "oserror": OSError(5, "Input/output error"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failing_port_is_port_lost_logged_once_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    line = FakeLine()
    monkeypatch.setattr(transport.serial, "serial_for_url", line.open)
    data = config_dict(tmp_path / "s.db")
    data["beds"][0]["device"] = {"kind": "datex_s5", "port": PORT, "interval_s": 1}
    station = build_station(parse_config(data))
    hub = station.ward.runtime("chair-1")
    caplog.set_level(logging.INFO)
    station.start()
    try:
        wait_until(lambda: "HR" in hub.snapshot().latest, 5, "readings from the fake port")
        assert hub.active_alarms() == []

        caplog.clear()
        error = FAULTS[fault]
        line.read_error = error  # the port fails as it is read ...
        line.open_error = error  # ... and every reopen fails the same way
        wait_until(
            lambda: "TECH_PORT_LOST" in {a.name for a in hub.active_alarms()},
            2,
            "TECH_PORT_LOST",
        )
        opened = line.opened
        time.sleep(4)  # several retries with backoff (0.5, 1, 2 s)
        assert line.opened == opened  # every reopen failed
        outage = link_lines(caplog)
        assert not any(r.exc_info for r in caplog.records), "no traceback for a lost port"
        assert len(outage) == 1, outage
        assert "lost" in outage[0] and type(error).__name__ in outage[0]

        line.open_error = line.read_error = None  # the port comes back
        wait_until(lambda: not hub.active_alarms(), 10, "recovery")
        records = line.records
        wait_until(lambda: line.records >= records + 2, 5, "readings after recovery")
        assert hub.active_alarms() == []
        lines = link_lines(caplog)
        assert len(lines) <= 2, lines
        assert "connected" in lines[-1]
        assert not any(r.exc_info for r in caplog.records)
    finally:
        station.stop()
    assert hub.rejected == {}


def test_a_port_that_never_opens_is_port_lost_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A pty an earlier process configured: opening it raises termios.error from the start."""
    line = FakeLine()
    line.open_error = termios.error(22, "Invalid argument")
    monkeypatch.setattr(transport.serial, "serial_for_url", line.open)
    data = config_dict(tmp_path / "s.db")
    data["beds"][0]["device"] = {"kind": "datex_s5", "port": PORT, "interval_s": 1}
    station = build_station(parse_config(data))
    hub = station.ward.runtime("chair-1")
    caplog.set_level(logging.INFO)
    station.start()
    try:
        wait_until(
            lambda: "TECH_PORT_LOST" in {a.name for a in hub.active_alarms()},
            2,
            "TECH_PORT_LOST",
        )
        time.sleep(3.5)
        link_lines = [r for r in caplog.records if r.name == transport.__name__]
        assert [r.getMessage().split()[2] for r in link_lines] == ["connecting", "lost"]
        assert not any(r.exc_info for r in caplog.records)
        line.open_error = None
        wait_until(lambda: not hub.active_alarms(), 10, "recovery")
    finally:
        station.stop()
