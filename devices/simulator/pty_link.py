"""A virtual monitor's serial port: a raw pseudo-terminal behind a stable link path."""

from __future__ import annotations

import contextlib
import os
import termios
import threading
import tty
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devices.simulator.inprocess import SimulatedMonitor
    from monitor.clock import Clock


def open_pty(link: Path) -> tuple[int, int]:
    """(master, slave) of a new raw pty, with `link` pointing at the slave. The link is
    swapped in one rename, so a station reopening the port never finds it missing."""
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(link)
    except (OSError, termios.error):  # setraw raises termios.error, not an OSError
        os.close(master)
        os.close(slave)
        raise
    return master, slave


class PtyMonitor:
    """A virtual monitor's serial end: `open` plugs it in (a pty behind `link`, answered by
    one thread running `_serve`), `close` unplugs it. Protocols add `_serve` and, for what a
    monitor forgets when unplugged, `_plugged_in`."""

    thread_name = "virtual-monitor"

    def __init__(self, simulator: SimulatedMonitor, clock: Clock, link: Path) -> None:
        self.simulator = simulator
        simulator.emit_pleth = False  # the virtual monitor sends its own, in its protocol
        self.clock = clock
        self.link = link
        self._master: int | None = None
        self._slave: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_open(self) -> bool:
        return self._master is not None

    def open(self) -> Path:
        """Create the pty, point the link at it and start answering. Returns the link."""
        if self.is_open:
            self.close()
        self._master, self._slave = open_pty(self.link)
        self._plugged_in()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._serve,
            args=(self._master, self._stop),
            daemon=True,
            name=f"{self.thread_name}-{self.link.name}",
        )
        self._thread.start()
        return self.link

    def close(self) -> None:
        """Unplug: stop sending, close both ends and remove the link."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()

    def _plugged_in(self) -> None:
        """Forget the host's requests: a replugged monitor waits to be asked again."""

    def _serve(self, master: int, stop: threading.Event) -> None:
        raise NotImplementedError
