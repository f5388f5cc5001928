"""A networked device's link as its bed sees it: up when a message arrives, down when the
peer goes or falls silent for too long. Each change is one log line and one `link` event
(down raises TECH_PORT_LOST at the bed), never one per check."""

from __future__ import annotations

import logging
import threading

from monitor.clock import Clock
from monitor.model import DeviceEvent
from monitor.ports import DeviceSink

log = logging.getLogger(__name__)


class LinkWatch:
    def __init__(self, bed: str, clock: Clock, silent_after_s: float, silence: str) -> None:
        self.bed, self.clock = bed, clock
        self.silent_after_s = silent_after_s
        self.silence = silence
        """What a silence is called ("chair offline", "gateway silent")."""
        self.sink: DeviceSink | None = None
        self._lock = threading.Lock()
        self._heard = clock.now()
        self._online: bool | None = None  # None: not heard of yet

    def heard(self) -> None:
        """A message arrived (or listening starts: silence counts from now)."""
        with self._lock:
            self._heard = self.clock.now()

    def check_silence(self) -> None:
        with self._lock:
            silent = self.clock.now() - self._heard
        if silent > self.silent_after_s:
            self.change(False, f"{self.silence}: no message for {silent:.0f} s")

    def change(self, online: bool, detail: str) -> bool:
        """Tell the bed the link came or went; True if this changed it."""
        with self._lock:
            if self._online is online:
                return False
            self._online = online
        log.log(logging.INFO if online else logging.WARNING, "bed %s: %s", self.bed, detail)
        if self.sink is not None:
            state = "connected" if online else "lost"
            self.sink(DeviceEvent(self.bed, self.clock.now(), "link",
                                  {"state": state, "detail": detail}))  # fmt: skip
        return True
