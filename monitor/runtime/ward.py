"""The Ward: all beds of this station, the in-process LiveFeed the pages read."""

from __future__ import annotations

import threading
from typing import Any

from monitor.clock import Clock, ScaledClock
from monitor.feed import BedDelta, BedInfo, BedSnapshot, CommandError
from monitor.gates import ChecklistItem
from monitor.model import Reading, SessionInfo
from monitor.runtime.bed import BedRuntime
from monitor.session import SessionEvent, SessionView
from monitor.training import SPEEDS, Debrief, TrainingView

HEALTHY_WITHIN_S = 2.0  # the watchdog ticks every 0.5 s; four missed ticks is a hung bed


class Ward:
    """All beds of this station: the in-process LiveFeed."""

    def __init__(self, beds: list[BedRuntime], clock: Clock, training_speed: float = 1.0) -> None:
        self._beds = {b.info.id: b for b in beds}
        self.clock = clock
        self.training_speed = training_speed  # what a scenario runs at when it starts
        self.paused = False
        self._changed = threading.Condition(threading.Lock())  # any bed's journal grew
        self._waiters = 0
        self._streams_closed = False
        for runtime in beds:
            runtime.journal.listeners.append(self._journal_grew)

    def _journal_grew(self) -> None:
        if self._waiters:  # read without the lock: a missed wake-up costs one heartbeat
            with self._changed:
                self._changed.notify_all()

    def close_streams(self) -> None:
        """The station is stopping: every waiting stream returns now and ends."""
        with self._changed:
            self._streams_closed = True
            self._changed.notify_all()

    def wait_any(self, cursors: dict[str, int], timeout: float) -> dict[str, int] | None:
        """Block until any of these beds has something newer than its cursor, or `timeout`
        passes (wall time). Returns the beds with news and their new cursors, or None once
        the station is stopping."""
        journals = {bed: self.runtime(bed).journal for bed in cursors}

        def news() -> dict[str, int]:
            seqs = {bed: j.seq for bed, j in journals.items()}
            return {bed: seq for bed, seq in seqs.items() if seq > cursors[bed]}

        with self._changed:
            self._waiters += 1
            try:
                self._changed.wait_for(lambda: self._streams_closed or news(), timeout)
            finally:
                self._waiters -= 1
        return None if self._streams_closed else news()

    def runtime(self, bed: str) -> BedRuntime:
        try:
            return self._beds[bed]
        except KeyError:
            raise CommandError(f"no bed {bed!r}") from None

    def start(self) -> None:
        for b in self._beds.values():
            b.start()

    def stop(self) -> None:
        self.close_streams()
        for b in self._beds.values():
            b.stop()

    def beds(self) -> list[BedInfo]:
        return [b.info for b in self._beds.values()]

    def health(self) -> tuple[bool, dict[str, float | None]]:
        """Whether every bed's core evaluated its alarms in the last HEALTHY_WITHIN_S, and
        each bed's seconds since it did (None: not yet). A training bed slowed below real time
        ticks less often in wall time, and is allowed as much longer."""
        ages = {bed: b.evaluated_ago() for bed, b in self._beds.items()}
        ok = all(
            age is not None and age <= HEALTHY_WITHIN_S / min(1.0, self._beds[bed].clock.speed)
            for bed, age in ages.items()
        )
        return ok, ages

    def now(self) -> float:
        return self.clock.now()

    def snapshot(self, bed: str) -> BedSnapshot:
        return self.runtime(bed).snapshot()

    def since(self, bed: str, cursor: int) -> tuple[list[Reading], int]:
        return self.runtime(bed).since(cursor)

    def delta(self, bed: str, cursor: int) -> BedDelta:
        return self.runtime(bed).delta(cursor)

    def wait(self, bed: str, cursor: int, timeout: float) -> bool:
        return self.runtime(bed).journal.wait(cursor, timeout)

    def window(self, bed: str, seconds: float) -> tuple[list[Reading], int]:
        return self.runtime(bed).window(seconds)

    # -- training --------------------------------------------------------------------------

    def scenarios(self, bed: str) -> list[tuple[str, str]]:
        return self.runtime(bed).scenarios()

    def training_view(self, bed: str) -> TrainingView | None:
        return self.runtime(bed).training_view()

    def training_command(
        self,
        bed: str,
        command: str,
        user: str,
        value: str = "",
        level: float | None = None,
        may_review: bool = False,
    ) -> None:
        runtime = self.runtime(bed)
        runtime.training_command(command, user, value, level, may_review)
        clock = runtime.clock
        if (
            command in ("start", "replay")
            and isinstance(clock, ScaledClock)
            and clock is not self.clock
        ):
            clock.set_speed(self.training_speed)  # the scenario's bed, and only it, runs fast
            if self.paused:
                clock.pause()

    def debrief(self, bed: str) -> Debrief | None:
        return self.runtime(bed).debrief()

    def _training_clocks(self) -> list[ScaledClock]:
        """The clocks an instructor controls: the station's own when every bed shares one
        (tests), else those of the simulated beds running a scenario. Live beds keep real time."""
        if isinstance(self.clock, ScaledClock):
            return [self.clock]
        return [
            b.clock
            for b in self._beds.values()
            if isinstance(b.clock, ScaledClock) and b.training_view() is not None
        ]

    def clock_control(self, command: str, speed: float | None = None) -> None:
        """pause, resume or speed N for the beds in training (never a live bed)."""
        if not isinstance(self.clock, ScaledClock) and not any(
            isinstance(b.clock, ScaledClock) for b in self._beds.values()
        ):
            raise CommandError("this station runs in real time")
        if command == "speed" and speed not in SPEEDS:
            raise CommandError(f"speed must be one of {', '.join(f'{x:g}x' for x in SPEEDS)}")
        if command not in ("pause", "resume", "speed"):
            raise CommandError(f"unknown clock command {command!r}")
        if command == "speed":
            assert speed is not None
            self.training_speed = speed
        else:
            self.paused = command == "pause"
        for clock in self._training_clocks():
            if command == "pause":
                clock.pause()
            elif command == "resume":
                clock.resume()
            else:
                clock.set_speed(self.training_speed)

    def clock_state(self) -> tuple[float, bool] | None:
        """(speed, paused) of training time; None on a station that runs in real time."""
        if isinstance(self.clock, ScaledClock):
            return self.clock.speed, self.clock.paused
        if any(isinstance(b.clock, ScaledClock) for b in self._beds.values()):
            return self.training_speed, self.paused
        return None

    def stop_session(self, bed: str, user: str) -> SessionInfo:
        return self.runtime(bed).stop_session(user)

    def acknowledge(self, bed: str, user: str) -> int:
        return self.runtime(bed).acknowledge(user)

    def reset_alarms(self, bed: str, user: str) -> int:
        return self.runtime(bed).reset_alarms(user)

    def pause_audio(self, bed: str, user: str) -> float:
        return self.runtime(bed).pause_audio(user)

    def limits(self, bed: str) -> dict[str, str]:
        return self.runtime(bed).limits()

    def limit_marks(self, bed: str) -> dict[str, list[tuple[str, float, float]]]:
        return self.runtime(bed).limit_marks()

    def pre_infusion(self, bed: str) -> list[tuple[str, str]]:
        return [(i.key, i.label) for i in self.runtime(bed).session_config.pre_infusion]

    def session_view(self, bed: str) -> SessionView | None:
        return self.runtime(bed).session_view()

    def session_events(self, bed: str) -> list[SessionEvent]:
        return self.runtime(bed).session_events()

    def session_command(self, bed: str, command: str, user: str, **args: Any) -> object:
        """One workflow step by name: create, baseline, start, rate, pause, resume, stop,
        bolus, medication, intervention, assess, discharge, close. `role` decides who may
        override."""
        return self.runtime(bed).session_command(command, user, args)

    def checklist(self, bed: str, ticked: list[str] | None = None) -> list[ChecklistItem]:
        return self.runtime(bed).checklist(ticked)

    def change_limit(self, bed: str, name: str, limit: float, user: str, reason: str) -> float:
        return self.runtime(bed).change_limit(name, limit, user, reason)
