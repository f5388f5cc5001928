"""Running as a service: binding the web port, and systemd's notify protocol over a real
AF_UNIX datagram socket standing in for systemd."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.runtime.service import ListenError, Notifier, listen, notify, watchdog_interval


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(5)
    yield sock
    sock.close()


def received(sock: socket.socket, seconds: float) -> list[str]:
    """Every datagram that arrives within `seconds`."""
    got = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return got


def test_notify_sends_one_datagram(systemd: socket.socket) -> None:
    assert notify("READY=1", {"NOTIFY_SOCKET": systemd.getsockname()})
    assert systemd.recv(4096) == b"READY=1"


def test_notify_without_systemd_does_nothing() -> None:
    assert not notify("READY=1", {})


def test_notify_abstract_namespace() -> None:
    name = f"ketamine-monitor-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(4096) == b"WATCHDOG=1"


def test_watchdog_interval_is_half_of_watchdog_usec() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "10000000"}) == 5.0
    assert watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid())}) == 5
    assert watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}) is None  # not us
    assert watchdog_interval({}) is None


def test_ready_once_healthy_then_pings_only_while_healthy(systemd: socket.socket) -> None:
    healthy = threading.Event()
    env = {"NOTIFY_SOCKET": systemd.getsockname(), "WATCHDOG_USEC": "100000"}  # ping each 0.05 s
    notifier = Notifier(env)
    notifier.start(healthy.is_set)
    try:
        assert received(systemd, 0.3) == []  # no bed evaluated yet: not ready
        healthy.set()
        ready = systemd.recv(4096).decode()
        assert ready.splitlines()[0] == "READY=1"
        pings = received(systemd, 0.5)
        assert len(pings) >= 3 and set(pings) == {"WATCHDOG=1"}
        healthy.clear()  # a bed stopped evaluating: systemd must not be told all is well
        time.sleep(0.1)  # a ping already decided may still be in flight
        received(systemd, 0.02)  # drained
        assert received(systemd, 0.4) == []
        healthy.set()
        assert "WATCHDOG=1" in received(systemd, 0.3)
    finally:
        notifier.stop()
    assert received(systemd, 1.0)[-1] == "STOPPING=1"


def test_no_watchdog_asked_means_ready_only(systemd: socket.socket) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": systemd.getsockname()})
    notifier.start(lambda: True)
    assert notifier.ready.wait(5)
    notifier.stop()
    got = received(systemd, 0.5)
    assert [g.splitlines()[0] for g in got] == ["READY=1", "STOPPING=1"]


def test_systemd_gone_does_not_stop_the_station(tmp_path: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody"), "WATCHDOG_USEC": "100000"})
    notifier.start(lambda: True)
    assert notifier.ready.wait(5)
    time.sleep(0.2)
    notifier.stop()  # logged, not raised


def test_listen_on_a_port_in_use_names_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenError) as err:
            listen("127.0.0.1", port)
    assert str(err.value) == (
        f"cannot listen on 127.0.0.1 port {port}: "
        "the port is already in use (another station, or another program?)"
    )


def test_listen_returns_listening_sockets() -> None:
    (sock,) = listen("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # accepted into the backlog before anyone serves
    finally:
        sock.close()
