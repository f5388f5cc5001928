"""The one injectable clock. Time is seconds since the Unix epoch (UTC) everywhere in the core."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    speed: float
    """Simulated seconds per wall-clock second (1 for real time)."""

    def now(self) -> float:
        """Seconds since the Unix epoch, UTC."""
        ...

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        """Wait `seconds` of this clock's time; return True early if `stop` is set."""
        ...


POLL_S = 0.05  # how often a sleeping thread looks at a clock an instructor may change


class SystemClock:
    """Wall-clock time."""

    speed = 1.0

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told to: deterministic tests and benchmarks.

    `sleep` returns as soon as the clock has been advanced past the wake-up time.
    """

    speed = 1.0

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._t = start
        self._cond = threading.Condition()

    def now(self) -> float:
        with self._cond:
            return self._t

    def advance(self, seconds: float) -> float:
        with self._cond:
            self._t += seconds
            self._cond.notify_all()
            return self._t

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        with self._cond:
            wake = self._t + seconds
            while self._t < wake:
                if stop.is_set():
                    return True
                self._cond.wait(0.05)
        return stop.is_set()


class ScaledClock:
    """Simulated time running `speed` times faster than the wall clock (training, tests).

    It starts at the wall-clock time of its creation, so stored times stay plausible. An
    instructor may change the speed or pause it; simulated time stays continuous.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.paused = False
        self._lock = threading.Lock()
        self._sim0 = time.time()
        self._mono0 = time.monotonic()

    def _now(self) -> float:
        if self.paused:
            return self._sim0
        return self._sim0 + (time.monotonic() - self._mono0) * self.speed

    def now(self) -> float:
        with self._lock:
            return self._now()

    def _rebase(self) -> None:
        self._sim0, self._mono0 = self._now(), time.monotonic()

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        with self._lock:
            self._rebase()
            self.speed = speed

    def pause(self) -> None:
        with self._lock:
            self._rebase()
            self.paused = True

    def resume(self) -> None:
        with self._lock:
            if self.paused:  # resuming a running clock must not rewind it
                self.paused = False
                self._mono0 = time.monotonic()

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        wake = self.now() + max(0.0, seconds)
        while True:
            with self._lock:
                left = wake - self._now()
                wall = POLL_S if self.paused else min(POLL_S, left / self.speed)
            if left <= 0:
                return stop.is_set()
            if stop.wait(wall):
                return True
