"""A bed's event journal: every event its core emits, in order, bounded and sequenced.

Readers keep a cursor (the last sequence number they saw) and read what is newer; `wait`
blocks until something newer arrives. A reader that falls further behind than the journal
holds is told how many events it missed (never silently).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable

from monitor.domain.events import BedEvent

CAPACITY = 32_768  # > 15 min of 10 numerics and a waveform block a second, plus alarms


class Journal:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._ring: deque[tuple[int, BedEvent]] = deque(maxlen=capacity)
        self._seq = 0
        self._cond = threading.Condition(threading.Lock())
        self._waiting = 0  # readers blocked in wait(): only then is a notify worth its cost
        self.listeners: list[Callable[[], None]] = []  # told after each append (a station's wait)

    @property
    def seq(self) -> int:
        """The sequence number of the newest event (0 when empty)."""
        with self._cond:
            return self._seq

    def extend(self, events: Iterable[BedEvent]) -> int:
        with self._cond:
            seq = before = self._seq
            for ev in events:
                seq += 1
                self._ring.append((seq, ev))
            if seq != before:
                self._seq = seq
                if self._waiting:
                    self._cond.notify_all()
        if seq != before:
            for listener in self.listeners:
                listener()
        return seq

    def read(self, cursor: int) -> tuple[list[tuple[int, BedEvent]], int, int]:
        """(entries newer than `cursor` oldest first, the new cursor, how many were lost)."""
        with self._cond:
            ring, newer = self._ring, self._seq - max(cursor, 0)
            if newer <= 0:
                return [], self._seq, 0
            held = min(newer, len(ring))  # sequence numbers are contiguous: index from the end
            return [ring[-i] for i in range(held, 0, -1)], self._seq, newer - held

    def wait(self, cursor: int, timeout: float) -> bool:
        """Block until an event newer than `cursor` exists or `timeout` passes (wall time)."""
        with self._cond:
            self._waiting += 1
            try:
                return self._cond.wait_for(lambda: self._seq > cursor, timeout)
            finally:
                self._waiting -= 1

    def snapshot(self) -> list[tuple[int, BedEvent]]:
        with self._cond:
            return list(self._ring)
