"""The live-feed interface: all the web app may read from, and the commands it may send back.

The embedded default implements it in process (monitor.runtime.ward.Ward). A central recorder
fed over MQTT can implement the same interface later without the pages changing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from monitor.gates import ChecklistItem
from monitor.model import ActiveAlarm, AlarmTransition, Reading, SessionInfo, Source, Waveform
from monitor.session import SessionEvent, SessionView
from monitor.training import Debrief, TrainingView


class CommandError(Exception):
    """A nurse command that cannot be carried out; the message is one line for the screen."""


@dataclass(frozen=True, slots=True)
class BedInfo:
    id: str
    name: str
    source: Source
    expected_interval_s: dict[str, float]
    """How often each signal normally arrives: sizes the trend windows."""
    epoch: str
    """Changes when the station restarts, so a page can tell its cursor is from an older run."""


@dataclass(frozen=True, slots=True)
class BedSnapshot:
    bed: BedInfo
    now: float
    latest: dict[str, Reading]
    alarms: list[ActiveAlarm]
    session: SessionInfo | None
    rejected: dict[str, int]
    cursor: int
    status: dict[str, str]
    """Signals the device reports without a valid value, and why ('absent', 'over range')."""
    last_arrival: float
    """When the feed last delivered a valid reading (the station's clock)."""
    sounding: str | None
    """The priority whose tone plays now ('HIGH', 'MEDIUM', 'LOW'), or None."""
    pause_remaining_s: float
    """Seconds left of the bed's audio pause (0 when not paused)."""
    phase: str = "no session"
    """The session's phase now (pre-infusion, infusing, paused, ...), from its steps."""
    running_rate_mg_kg_h: float | None = None
    """What the pump delivers now: the set rate while infusing, 0 when paused or stopped."""
    set_rate_mg_kg_h: float | None = None
    """The rate last set (the plan until changed), whatever the phase."""
    rate_ml_h: float | None = None
    """The set rate in mL/h at the session's concentration (NaN when none was given)."""
    dose_mg_kg: float | None = None
    """Ketamine given so far, infusion and boluses."""
    infusion_started_at: float | None = None
    assessment_due: float | None = None
    """When the next nurse assessment is due (epoch s), or None."""

    @property
    def highest_alarm(self) -> ActiveAlarm | None:
        return self.alarms[0] if self.alarms else None


@dataclass(frozen=True, slots=True)
class BedDelta:
    """What happened on a bed since a cursor: readings, alarm transitions and logged steps
    (session steps, acknowledgements, limit changes), oldest first."""

    readings: list[Reading]
    alarms: list[AlarmTransition]
    steps: list[SessionEvent]
    cursor: int
    """Send it back next time."""
    lost: int
    """Events older than the journal holds (the page should reload its window)."""
    waves: list[Waveform] = field(default_factory=list)
    """Waveform blocks (the live pleth strip), oldest first."""


class LiveFeed(Protocol):
    def beds(self) -> list[BedInfo]: ...

    def health(self) -> tuple[bool, dict[str, float | None]]:
        """(every bed evaluated its alarms lately, seconds since each bed last did)."""
        ...

    def now(self) -> float: ...

    def snapshot(self, bed: str) -> BedSnapshot: ...

    def since(self, bed: str, cursor: int) -> tuple[list[Reading], int]:
        """Readings newer than `cursor` (oldest first) and the cursor to send next time."""
        ...

    def window(self, bed: str, seconds: float) -> tuple[list[Reading], int]:
        """Readings of the last `seconds` and the cursor that follows them."""
        ...

    def delta(self, bed: str, cursor: int) -> BedDelta:
        """Everything newer than `cursor` on the bed's journal."""
        ...

    def wait(self, bed: str, cursor: int, timeout: float) -> bool:
        """Block until the bed has something newer than `cursor` (True) or `timeout` passes."""
        ...

    def wait_any(self, cursors: dict[str, int], timeout: float) -> dict[str, int] | None:
        """Block until any bed in `cursors` has news; returns those beds and their cursors,
        or None once the station is stopping (a stream then ends)."""
        ...

    def stop_session(self, bed: str, user: str) -> SessionInfo: ...

    def acknowledge(self, bed: str, user: str) -> int: ...

    def reset_alarms(self, bed: str, user: str) -> int: ...

    def pause_audio(self, bed: str, user: str) -> float: ...

    def limits(self, bed: str) -> dict[str, str]: ...

    def pre_infusion(self, bed: str) -> list[tuple[str, str]]:
        """(key, label) of the checklist ticked before the start."""
        ...

    def limit_marks(self, bed: str) -> dict[str, list[tuple[str, float, float]]]:
        """Per signal: (op, limit now, the configured limit) of its absolute alarm limits."""
        ...

    def session_view(self, bed: str) -> SessionView | None: ...

    def session_events(self, bed: str) -> list[SessionEvent]: ...

    def checklist(self, bed: str, ticked: list[str] | None = None) -> list[ChecklistItem]: ...

    def session_command(self, bed: str, command: str, user: str, **args: Any) -> object:
        """One workflow step (create, baseline, start, rate, ..., close); CommandError."""
        ...

    def change_limit(self, bed: str, name: str, limit: float, user: str, reason: str) -> float:
        """Returns the old limit; raises CommandError (no reason, unknown alarm, ...)."""
        ...

    # -- training (simulated beds of a training station) ----------------------------------

    def scenarios(self, bed: str) -> list[tuple[str, str]]: ...

    def training_view(self, bed: str) -> TrainingView | None: ...

    def training_command(
        self,
        bed: str,
        command: str,
        user: str,
        value: str = "",
        level: float | None = None,
        may_review: bool = False,
    ) -> None:
        """start SCENARIO, replay SESSION (a live one only if `may_review`), goto, trigger,
        event, artifact, set, ramp, release; CommandError."""
        ...

    def debrief(self, bed: str) -> Debrief | None: ...

    def clock_control(self, command: str, speed: float | None = None) -> None: ...

    def clock_state(self) -> tuple[float, bool] | None: ...
