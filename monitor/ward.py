"""The Ward: all beds of this station, the in-process LiveFeed the pages read."""

from __future__ import annotations

from typing import Any

from monitor.clock import Clock, ScaledClock
from monitor.feed import BedInfo, BedSnapshot, CommandError
from monitor.gates import ChecklistItem
from monitor.hub import BedHub
from monitor.model import Reading, SessionInfo
from monitor.session import SessionEvent, SessionView
from monitor.storage.sqlite import StoreError
from monitor.training import SPEEDS, Debrief, TrainingView


class Ward:
    """All beds of this station: the in-process LiveFeed."""

    def __init__(self, hubs: list[BedHub], clock: Clock) -> None:
        self._hubs = {h.info.id: h for h in hubs}
        self.clock = clock

    def hub(self, bed: str) -> BedHub:
        try:
            return self._hubs[bed]
        except KeyError:
            raise CommandError(f"no bed {bed!r}") from None

    def start(self) -> None:
        for h in self._hubs.values():
            h.start()

    def stop(self) -> None:
        for h in self._hubs.values():
            h.stop()

    def beds(self) -> list[BedInfo]:
        return [h.info for h in self._hubs.values()]

    def now(self) -> float:
        return self.clock.now()

    def snapshot(self, bed: str) -> BedSnapshot:
        return self.hub(bed).snapshot()

    def since(self, bed: str, cursor: int) -> tuple[list[Reading], int]:
        return self.hub(bed).since(cursor)

    def window(self, bed: str, seconds: float) -> tuple[list[Reading], int]:
        return self.hub(bed).window(seconds)

    # -- training --------------------------------------------------------------------------

    def scenarios(self, bed: str) -> list[tuple[str, str]]:
        return self.hub(bed).scenarios()

    def training_view(self, bed: str) -> TrainingView | None:
        return self.hub(bed).training_view()

    def training_command(
        self, bed: str, command: str, user: str, value: str = "", level: float | None = None
    ) -> None:
        self.hub(bed).training_command(command, user, value, level)

    def debrief(self, bed: str) -> Debrief | None:
        return self.hub(bed).debrief()

    def clock_control(self, command: str, speed: float | None = None) -> None:
        """pause, resume or speed N for the whole station (training only: a live station's
        clock is the wall clock)."""
        clock = self.clock
        if not isinstance(clock, ScaledClock):
            raise CommandError("this station runs in real time")
        if command == "pause":
            clock.pause()
        elif command == "resume":
            clock.resume()
        elif command == "speed" and speed in SPEEDS:
            clock.set_speed(speed)
        else:
            raise CommandError(f"speed must be one of {', '.join(f'{x:g}x' for x in SPEEDS)}")

    def clock_state(self) -> tuple[float, bool] | None:
        """(speed, paused) of a training station's clock; None in real time."""
        clock = self.clock
        return (clock.speed, clock.paused) if isinstance(clock, ScaledClock) else None

    def stop_session(self, bed: str, user: str) -> SessionInfo:
        return self.hub(bed).stop_session(user)

    def acknowledge(self, bed: str, user: str) -> int:
        return self.hub(bed).acknowledge(user)

    def reset_alarms(self, bed: str, user: str) -> int:
        return self.hub(bed).reset_alarms(user)

    def pause_audio(self, bed: str, user: str) -> float:
        return self.hub(bed).pause_audio(user)

    def limits(self, bed: str) -> dict[str, str]:
        return self.hub(bed).limits()

    def limit_marks(self, bed: str) -> dict[str, list[tuple[str, float, float]]]:
        return self.hub(bed).limit_marks()

    def pre_infusion(self, bed: str) -> list[tuple[str, str]]:
        return [(i.key, i.label) for i in self.hub(bed).session_config.pre_infusion]

    def session_view(self, bed: str) -> SessionView | None:
        return self.hub(bed).session_view()

    def session_events(self, bed: str) -> list[SessionEvent]:
        return self.hub(bed).session_events()

    def session_command(self, bed: str, command: str, user: str, **args: Any) -> object:
        """One workflow step by name: create, baseline, start, rate, pause, resume, stop,
        bolus, medication, assess, discharge, close. `role` decides who may override."""
        hub = self.hub(bed)
        role = args.get("role", "nurse")
        actions = {
            "create": lambda: hub.create_session(args["plan"], user),
            "baseline": lambda: hub.confirm_baseline(user),
            "start": lambda: hub.start_infusion(
                user, args.get("override_reason", ""), args.get("ticked", []), role
            ),
            "rate": lambda: hub.change_rate(
                args.get("rate_mg_kg_h"), user, args.get("override_reason", ""), role
            ),
            "pause": lambda: hub.pause_infusion(user),
            "resume": lambda: hub.resume_infusion(user),
            "stop": lambda: hub.stop_infusion(user),
            "bolus": lambda: hub.give(
                "bolus",
                user,
                mg_per_kg=args.get("mg_per_kg"),
                override_reason=args.get("override_reason", ""),
                role=role,
            ),
            "medication": lambda: hub.give(
                "medication", user, drug=str(args.get("drug", "")), dose=str(args.get("dose", ""))
            ),
            "assess": lambda: hub.assess(args["scores"], user),
            "discharge": lambda: hub.discharge(
                args.get("ticked", []), user, args.get("override_reason", ""), role
            ),
            "close": lambda: hub.close_session(user, args.get("reason", "")),
        }
        if command not in actions:
            raise CommandError(f"unknown session command {command!r}")
        try:
            return actions[command]()
        except StoreError as err:
            raise CommandError(str(err)) from None

    def checklist(self, bed: str, ticked: list[str] | None = None) -> list[ChecklistItem]:
        return self.hub(bed).checklist(ticked)

    def change_limit(self, bed: str, name: str, limit: float, user: str, reason: str) -> float:
        return self.hub(bed).change_limit(name, limit, user, reason)
