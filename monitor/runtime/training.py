"""The training half of a bed's runtime: scenario routing and the debrief, for simulated beds.

The scenarios themselves live in devices/simulator; this only forwards the instructor's
commands to the bed's training device and logs them.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING

from monitor.feed import CommandError
from monitor.ports import Device, StoreError, Trainable
from monitor.session import rate_steps
from monitor.training import Debrief, TimelineEntry, TrainingView

TREND_SIGNALS = ("HR", "SPO2", "NIBP_SYS", "NIBP_DIA", "RR")
TREND_POINTS = 1000  # per signal: SVG draws a few thousand points quickly

if TYPE_CHECKING:
    from monitor.clock import Clock
    from monitor.domain.bed import BedCore
    from monitor.feed import BedInfo
    from monitor.ports import SessionLog
    from monitor.runtime.journal import Journal


class BedTraining:
    device: Device
    store: SessionLog
    clock: Clock
    core: BedCore
    info: BedInfo
    _lock: threading.Lock
    journal: Journal

    def _drain(self) -> None: ...

    def _trainer(self) -> Trainable:
        if not isinstance(self.device, Trainable) or not self.device.library:
            raise CommandError(f"{self.info.name} has no training scenarios")
        return self.device

    def scenarios(self) -> list[tuple[str, str]]:
        device = self.device
        if not isinstance(device, Trainable):
            return []
        return [(sid, sc.title) for sid, sc in sorted(device.library.items())]

    def training_view(self) -> TrainingView | None:
        return self.device.training_view() if isinstance(self.device, Trainable) else None

    def training_command(
        self,
        command: str,
        user: str,
        value: str = "",
        level: float | None = None,
        may_review: bool = False,
    ) -> None:
        """start SCENARIO, or an instructor command for the running one (goto, trigger,
        event, artifact, set, ramp, release). Simulated beds only. Replaying a patient's
        (live) session shows a real record: only for a user who `may_review` it."""
        trainer = self._trainer()
        try:
            if command == "start":
                trainer.start_scenario(value)
            elif command == "replay":
                session_id = _session_number(value)
                try:
                    source = self.store.session(session_id).source
                except StoreError:
                    raise CommandError(f"session: no session {session_id}") from None
                if source == "live" and not may_review:
                    self._refuse_replay(user, session_id)
                rows = self.store.readings(session_id)
                trainer.start_replay(f"Replay of session {session_id}", rows)
            else:
                trainer.instructor(command, value, level)
        except ValueError as err:
            raise CommandError(str(err)) from None
        payload = {"command": command, "value": value, "level": level}
        with self._lock:
            self.core.log_event("instructor", user, payload, self.clock.now())
            self.journal.extend(self.core.take())
        self._drain()

    def _refuse_replay(self, user: str, session_id: int) -> None:
        why = "replaying a patient's session needs the review permission"
        payload = {"command": "replay", "session": session_id, "reasons": [why]}
        with self._lock:
            self.core.log_event("refused", user, payload, self.clock.now())  # audited
            self.journal.extend(self.core.take())
        self._drain()
        raise CommandError(why)

    def debrief(self) -> Debrief | None:
        """The running scenario's debrief, with this bed's alarms since it started."""
        if not isinstance(self.device, Trainable):
            return None
        view = self.device.training_view()
        if view is None:
            return None
        alarms: list[TimelineEntry] = []
        for row in self.store.alarms(self.info.id, since=view.started_at):
            onset = f"{row.name} {row.priority}"
            alarms.append(TimelineEntry(row.onset_t, "alarm", onset, row.name))
            if row.acked_at is not None:
                took = row.acked_at - row.onset_t
                text = f"{row.name} acknowledged by {row.acked_by} after {took:.0f} s"
                alarms.append(TimelineEntry(row.acked_at, "alarm", text))
        debrief = self.device.debrief(alarms)
        if debrief is None:
            return None
        return dataclasses.replace(debrief, trend=self._trend(view.started_at))

    def _trend(self, since: float) -> dict[str, list[tuple[float, float]]]:
        """The run's vitals (thinned to TREND_POINTS each) and infusion rate, for the chart."""
        with self._lock:
            session, events = self.core.session, list(self.core.session_events)
        if session is None:
            return {}
        trend: dict[str, list[tuple[float, float]]] = {code: [] for code in TREND_SIGNALS}
        for t, code, value in self.store.readings(session.id, since=since, signals=TREND_SIGNALS):
            trend[code].append((t, value))
        for code, points in trend.items():
            step = max(1, len(points) // TREND_POINTS)
            trend[code] = points[::step]
        trend["RATE"] = [(t, rate) for t, rate, _ in rate_steps(events)]
        return trend


def _session_number(text: str) -> int:
    try:
        number = int(str(text).strip())
    except ValueError:
        raise CommandError(f"session: {text!r} is not a session number") from None
    if number <= 0:
        raise CommandError("session: a positive session number")
    return number
