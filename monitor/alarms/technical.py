"""Technical alarms: the bed's feed, not the patient. They never latch and clear on recovery.

TECH_NO_DATA: no valid reading has arrived for more than twice the feed's interval.
TECH_PORT_LOST: the device's port has vanished or cannot be opened.
Both are MEDIUM, as clinical.md §6 proposes for a stale feed.
"""

from __future__ import annotations

from monitor.model import ActiveAlarm, AlarmEvent, AlarmState, Priority

DEVICE = "DEVICE"  # the `signal` of a technical alarm: it concerns the device, not a vital sign
NO_DATA = "TECH_NO_DATA"
PORT_LOST = "TECH_PORT_LOST"
STALE_FACTOR = 2.0


class TechnicalAlarms:
    def __init__(self, bed: str, feed_interval_s: float) -> None:
        self.bed = bed
        self.limit_s = STALE_FACTOR * feed_interval_s
        self._active: dict[str, ActiveAlarm] = {}

    def _raise(self, name: str, t: float, value: float, limit: float, op: str) -> AlarmEvent:
        self._active[name] = ActiveAlarm(name, DEVICE, Priority.MEDIUM, t, value, value, limit, op)
        return AlarmEvent(
            self.bed,
            t,
            name,
            DEVICE,
            Priority.MEDIUM,
            AlarmState.ACTIVE,
            value,
            value,
            limit,
            op,
            0.0,
        )

    def _clear(self, name: str, t: float, value: float) -> list[AlarmEvent]:
        a = self._active.pop(name, None)
        if a is None:
            return []
        return [
            AlarmEvent(
                self.bed,
                t,
                name,
                DEVICE,
                a.priority,
                AlarmState.ENDED,
                value,
                max(a.worst_value, value),
                a.limit,
                a.op,
                0.0,
            )
        ]

    def check_feed(self, now: float, last_arrival: float) -> list[AlarmEvent]:
        """Called on a timer: raises TECH_NO_DATA when the feed has gone quiet."""
        silent = now - last_arrival
        if silent <= self.limit_s or NO_DATA in self._active:
            if NO_DATA in self._active:
                a = self._active[NO_DATA]
                self._active[NO_DATA] = ActiveAlarm(
                    a.name,
                    a.signal,
                    a.priority,
                    a.onset_t,
                    a.onset_value,
                    round(silent, 1),
                    a.limit,
                    a.op,
                )
            return []
        return [self._raise(NO_DATA, now, round(silent, 1), self.limit_s, ">")]

    def reading_arrived(self, now: float, last_arrival: float) -> list[AlarmEvent]:
        if NO_DATA not in self._active:
            return []
        return self._clear(NO_DATA, now, round(now - last_arrival, 1))

    def port_lost(self, t: float) -> list[AlarmEvent]:
        return [] if PORT_LOST in self._active else [self._raise(PORT_LOST, t, 0, 0, "lost")]

    def port_connected(self, t: float) -> list[AlarmEvent]:
        return self._clear(PORT_LOST, t, 0)

    def active(self) -> list[ActiveAlarm]:
        return list(self._active.values())
