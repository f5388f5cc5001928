"""The serial link: the only module that imports pyserial.

Shaped like pyserial's `serial.threaded`: a reader loop owns the port and hands bytes to a
`LinkProtocol`, which does the framing elsewhere. The loop opens the port with
`serial_for_url` (a device path, a pty, or a `loop://`/`socket://` URL), tells the protocol
when the link is made, asks it to poke a silent monitor, and reconnects with backoff after any
error. Link states are reported as they change: connecting, connected, silent, lost.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import threading
from dataclasses import dataclass
from typing import Protocol

import serial

from monitor.clock import Clock

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.2
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 5.0)


class LinkState(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    SILENT = "silent"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class SerialSettings:
    url: str
    baudrate: int = 19200
    bytesize: int = serial.EIGHTBITS
    parity: str = serial.PARITY_EVEN
    stopbits: float = serial.STOPBITS_ONE
    rtscts: bool = True
    silence_s: float = 10.0
    """No bytes for this long makes the link 'silent' and re-sends the request."""


class Writer(Protocol):
    def write(self, data: bytes) -> int | None: ...


class LinkProtocol(Protocol):
    def connection_made(self, writer: Writer) -> None:
        """The port is open: send the request that starts the monitor talking."""
        ...

    def data_received(self, data: bytes) -> None: ...

    def silence(self, writer: Writer, attempt: int) -> None:
        """Nothing has arrived for `silence_s`: poke the monitor again (attempt 1, 2, ...)."""
        ...

    def connection_lost(self, error: Exception | None) -> None: ...

    def state_changed(self, state: LinkState, detail: str) -> None: ...


class SerialLink:
    """Runs `protocol` over the port named by `settings` until `stop` is set."""

    def __init__(self, settings: SerialSettings, protocol: LinkProtocol, clock: Clock) -> None:
        self.settings = settings
        self.protocol = protocol
        self.clock = clock
        self.state: LinkState | None = None
        self._served = False  # data arrived on the port now open

    def _set_state(self, state: LinkState, detail: str = "") -> None:
        if state != self.state:
            self.state = state
            level = logging.WARNING if state in (LinkState.LOST, LinkState.SILENT) else logging.INFO
            log.log(level, "link %s: %s %s", self.settings.url, state, detail)
            self.protocol.state_changed(state, detail)

    def _open(self) -> serial.SerialBase:
        s = self.settings
        return serial.serial_for_url(
            s.url,
            baudrate=s.baudrate,
            bytesize=s.bytesize,
            parity=s.parity,
            stopbits=s.stopbits,
            rtscts=s.rtscts,
            timeout=READ_TIMEOUT_S,
        )

    def run(self, stop: threading.Event) -> None:
        """Open, serve, and after any failure reopen with backoff, until `stop` is set.

        Any exception from opening, configuring or reading the port (pyserial's, OSError,
        termios.error, a driver's own) makes the link lost; the loop never raises. During an
        outage the state stays lost while it retries, so an outage is one log line (and one
        `link` event) when it starts and one when data flows again, not one per retry."""
        failures = 0
        self._set_state(LinkState.CONNECTING, self.settings.url)
        while not stop.is_set():
            try:
                port = self._open()
            except Exception as err:  # whatever the driver raises: a lost port
                self._lost(err, failures)
                failures += 1
                if self.clock.sleep(_backoff(failures), stop):
                    break
                continue
            error: Exception | None = None
            try:
                self._serve(port, stop)
            except Exception as err:  # a read or write failed: the port is gone
                error = err
            finally:
                with contextlib.suppress(Exception):
                    port.close()
            if self._served:
                failures = 0  # data flowed on this port: retry soon
            try:
                self.protocol.connection_lost(error)
            except Exception:  # a protocol's bug must not end the link
                log.exception("link %s: protocol failed on connection lost", self.settings.url)
            if stop.is_set():
                break
            self._lost(error, failures)
            failures += 1
            if self.clock.sleep(_backoff(failures), stop):
                break

    def _lost(self, err: BaseException | None, failures: int) -> None:
        """The port failed (or closed): lost, logged once per outage; retries are debug."""
        detail = _describe(err) if err is not None else "port closed"
        if self.state is LinkState.LOST:
            log.debug("link %s: retry %d failed: %s", self.settings.url, failures, detail)
        else:
            self._set_state(LinkState.LOST, detail)

    def _serve(self, port: serial.SerialBase, stop: threading.Event) -> None:
        self._served = False
        self.protocol.connection_made(port)
        last_rx = self.clock.now()
        attempt = 0
        connected = False
        while not stop.is_set():
            data = port.read(port.in_waiting or 1)
            now = self.clock.now()
            if data:
                last_rx, attempt = now, 0
                if not connected:
                    connected = self._served = True
                    self._set_state(LinkState.CONNECTED)
                self.protocol.data_received(data)
            elif now - last_rx >= self.settings.silence_s * (attempt + 1):
                attempt += 1
                connected = False
                self._set_state(LinkState.SILENT, f"no data for {now - last_rx:.0f} s")
                self.protocol.silence(port, attempt)


def _backoff(failures: int) -> float:
    return BACKOFF_S[min(max(failures, 1), len(BACKOFF_S)) - 1]


def _one_line(err: BaseException | None) -> str:
    return str(err).splitlines()[0] if err and str(err) else type(err).__name__


def _describe(err: BaseException) -> str:
    """One line naming the error's type, e.g. "error: (22, 'Invalid argument')"."""
    return f"{type(err).__name__}: {_one_line(err)}"


class ReplayError(Exception):
    """The replay port cannot be opened or written; one line for the operator."""


def replay(
    url: str,
    frames: list[tuple[float, bytes]],
    speed: float,
    clock: Clock,
    stop: threading.Event,
    baudrate: int = 19200,
) -> int:
    """Send `(record time, bytes)` frames to `url`, spaced as recorded and divided by `speed`."""
    try:
        port = serial.serial_for_url(
            url, baudrate=baudrate, parity=serial.PARITY_EVEN, rtscts=False, timeout=1
        )
    except (serial.SerialException, OSError, ValueError) as err:
        raise ReplayError(f"cannot open {url}: {_one_line(err)}") from None
    sent = 0
    try:
        start_wall = clock.now()
        first = frames[0][0] if frames else 0.0
        for t, data in frames:
            due = start_wall + (t - first) / speed
            if clock.sleep(due - clock.now(), stop):
                break
            port.write(data)
            sent += 1
    except (serial.SerialException, OSError) as err:
        raise ReplayError(f"writing to {url}: {_one_line(err)}") from None
    finally:
        with contextlib.suppress(serial.SerialException, OSError):
            port.close()
    return sent
