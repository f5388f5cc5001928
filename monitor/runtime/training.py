"""The training half of a bed's runtime: scenario routing and the debrief, for simulated beds.

The scenarios themselves live in devices/simulator; this only forwards the instructor's
commands to the bed's training device and logs them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from monitor.feed import CommandError
from monitor.ports import Device, Trainable
from monitor.training import Debrief, TimelineEntry, TrainingView

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
        self, command: str, user: str, value: str = "", level: float | None = None
    ) -> None:
        """start SCENARIO, or an instructor command for the running one (goto, trigger,
        event, artifact, set, ramp, release). Simulated beds only."""
        trainer = self._trainer()
        try:
            if command == "start":
                trainer.start_scenario(value)
            elif command == "replay":
                session_id = _session_number(value)
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

    def debrief(self) -> Debrief | None:
        """The running scenario's debrief, with this bed's alarms since it started."""
        if not isinstance(self.device, Trainable):
            return None
        view = self.device.training_view()
        if view is None:
            return None
        alarms: list[TimelineEntry] = []
        for row in self.store.alarms(self.info.id, since=view.started_at):
            alarms.append(TimelineEntry(row.onset_t, "alarm", f"{row.name} {row.priority}"))
            if row.acked_at is not None:
                took = row.acked_at - row.onset_t
                text = f"{row.name} acknowledged by {row.acked_by} after {took:.0f} s"
                alarms.append(TimelineEntry(row.acked_at, "alarm", text))
        return self.device.debrief(alarms)


def _session_number(text: str) -> int:
    try:
        number = int(str(text).strip())
    except ValueError:
        raise CommandError(f"session: {text!r} is not a session number") from None
    if number <= 0:
        raise CommandError("session: a positive session number")
    return number
