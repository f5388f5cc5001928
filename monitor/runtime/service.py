"""Running as a service: the listening sockets, and systemd's notify protocol.

The web port is bound before any bed starts, so a port already taken is one line and exit 2,
not a traceback after the beds began. Under systemd (NOTIFY_SOCKET set, Type=notify) the
station says READY=1 once every bed's core has evaluated its alarms, then WATCHDOG=1 every
half WATCHDOG_USEC, but only while every bed keeps evaluating: a hung station misses its
pings and systemd restarts it (WatchdogSec=, Restart=always).
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 1024  # waitress's own default
POLL_S = 0.1  # how often the notifier looks for the first evaluation


class ListenError(Exception):
    """The web port cannot be bound; the message is one line naming it."""


def listen(host: str, port: int) -> list[socket.socket]:
    """Listening TCP sockets on every address of `host`, for waitress (`sockets=`). Clients that
    connect before the web app is built wait in the backlog."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise ListenError(f"cannot listen on {host} port {port}: {err.strerror}") from None
    bound: list[socket.socket] = []
    missing: OSError | None = None  # an address family this host lacks (::1 without IPv6)
    for family, kind, proto, _name, address in dict.fromkeys(infos):
        try:
            sock = socket.socket(family, kind, proto)
        except OSError as err:
            missing = err
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(LISTEN_BACKLOG)  # two binders with SO_REUSEADDR collide only here
        except OSError as err:
            sock.close()
            if err.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                missing = err
                continue
            for other in bound:
                other.close()
            raise ListenError(_cannot(host, port, err)) from None
        bound.append(sock)
    if not bound:
        raise ListenError(_cannot(host, port, missing))
    return bound


def _cannot(host: str, port: int, err: OSError | None) -> str:
    if err is not None and err.errno == errno.EADDRINUSE:
        why = "the port is already in use (another station, or another program?)"
    else:
        why = err.strerror if err is not None and err.strerror else "no address to bind"
    return f"cannot listen on {host} port {port}: {why}"


def notify(message: str, env: Mapping[str, str] = os.environ) -> bool:
    """Send one sd_notify datagram; False when not under systemd. '@' is the abstract namespace."""
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(message.encode())
    return True


def watchdog_interval(env: Mapping[str, str] = os.environ) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None when not asked."""
    usec, pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) != os.getpid()):
        return None
    return int(usec) / 2e6


class Notifier:
    """READY=1 once `healthy()`, then WATCHDOG=1 while it stays so, on its own thread (with
    no NOTIFY_SOCKET it only logs when the beds first evaluate)."""

    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        self.healthy: Callable[[], bool] = lambda: False
        self.env = dict(env)
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="sd-notify")

    @property
    def wanted(self) -> bool:
        return bool(self.env.get("NOTIFY_SOCKET"))

    def start(self, healthy: Callable[[], bool]) -> None:
        self.healthy = healthy
        self._thread.start()  # logs when every bed evaluates, with or without systemd

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._send("STOPPING=1")

    def _send(self, message: str) -> None:
        if not self.wanted:
            return
        try:
            notify(message, self.env)
        except OSError as err:  # systemd gone or the socket wrong: keep monitoring
            log.warning("sd_notify %s: %s", message.split("=")[0], err)

    def _run(self) -> None:
        while not self.healthy():
            if self._stop.wait(POLL_S):
                return
        log.info("every bed is evaluating its alarms")
        self.ready.set()
        if not self.wanted:
            return
        self._send("READY=1\nSTATUS=every bed is evaluating its alarms")
        interval = watchdog_interval(self.env)
        if interval is None:
            return
        while not self._stop.wait(interval):
            if self.healthy():
                self._send("WATCHDOG=1")
            else:
                log.warning("a bed stopped evaluating its alarms: no watchdog ping to systemd")
