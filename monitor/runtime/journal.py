"""A bed's event journal: every event its core emits, in order, bounded and sequenced.

Readers keep a cursor (the last sequence number they saw) and read what is newer; `wait`
blocks until something newer arrives. A reader that falls further behind than the journal
holds is told how many events it missed (never silently).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

from monitor.domain.events import BedEvent

CAPACITY = 32_768  # > 15 min of 10 numerics and a waveform block a second, plus alarms


class Journal:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._ring: deque[tuple[int, BedEvent]] = deque(maxlen=capacity)
        self._seq = 0
        self._cond = threading.Condition()

    @property
    def seq(self) -> int:
        """The sequence number of the newest event (0 when empty)."""
        with self._cond:
            return self._seq

    def extend(self, events: Iterable[BedEvent]) -> int:
        with self._cond:
            added = False
            for ev in events:
                self._seq += 1
                self._ring.append((self._seq, ev))
                added = True
            if added:
                self._cond.notify_all()
            return self._seq

    def read(self, cursor: int) -> tuple[list[tuple[int, BedEvent]], int, int]:
        """(entries newer than `cursor` oldest first, the new cursor, how many were lost)."""
        with self._cond:
            out: list[tuple[int, BedEvent]] = []
            for entry in reversed(self._ring):
                if entry[0] <= cursor:
                    break
                out.append(entry)
            out.reverse()
            first = out[0][0] if out else self._seq + 1
            lost = max(0, first - cursor - 1) if cursor < self._seq else 0
            return out, self._seq, lost

    def wait(self, cursor: int, timeout: float) -> bool:
        """Block until an event newer than `cursor` exists or `timeout` passes (wall time)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._seq > cursor, timeout)

    def snapshot(self) -> list[tuple[int, BedEvent]]:
        with self._cond:
            return list(self._ring)
