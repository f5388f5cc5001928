"""Value objects that travel from devices through the bed core to the session log and the pages."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Source = Literal["live", "simulated"]
# Logged events that inactivate alarms, change limits or overrule a safeguard: the audit.
AUDITED_EVENTS = (
    "alarm_acknowledged",
    "alarm_reset",
    "audio_pause",
    "limit_change",
    "override",
    "hold_start",
    "refused",
    "instructor",
    "follow_up",
    "series_plan",
)


class Quality(enum.StrEnum):
    VALID = "valid"
    ARTIFACT = "artifact"


@dataclass(frozen=True, slots=True)
class Reading:
    """One numeric observation in the registry's canonical unit.

    `t` is when it was measured (for NIBP: the cuff measurement), in epoch seconds UTC.
    """

    bed: str
    t: float
    signal: str
    value: float
    unit: str
    quality: Quality = Quality.VALID
    source: str = ""  # where the monitor took it from, e.g. RR from "co2" or "impedance"
    record: int | None = None
    """The device's number for the record it came in (a DRI record number), if it has one:
    two readings of a signal at one time are one duplicate only if they share it."""


@dataclass(frozen=True, slots=True)
class Waveform:
    """A block of evenly spaced samples of one waveform (see signals.WAVEFORMS): the first at
    `t`, then `rate_hz` per second. NaN marks samples the device sent as invalid."""

    bed: str
    t: float
    signal: str
    rate_hz: float
    samples: np.ndarray = field(repr=False)  # float32

    @property
    def end(self) -> float:
        return self.t + len(self.samples) / self.rate_hz


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """Something a device reports that is not a numeric: link state, sensor status, ..."""

    bed: str
    t: float
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


class Priority(enum.IntEnum):
    """IEC 60601-1-8 alarm priorities; the integer order is the urgency order."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3


class AlarmPhase(enum.StrEnum):
    """What happened to an alarm: the transitions written to the session log."""

    PENDING = "pending"  # the condition holds; its condition delay is running
    CANCELLED = "cancelled"  # the condition went away before the delay ran out
    ACTIVE = "active"  # raised: visible and audible
    ACKNOWLEDGED = "acknowledged"  # audio silenced for this condition
    REMINDER = "reminder"  # acknowledged, still present, sounding again
    ESCALATED = "escalated"  # unacknowledged too long: one priority up
    LATCHED = "latched"  # its cause has gone; shown until reset
    CLEARED = "cleared"  # ended by itself (non-latching)
    RESET = "reset"  # a latched alarm ended by an operator


class Display(enum.StrEnum):
    """How a current alarm shows on the screen."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    LATCHED = "latched"


@dataclass(frozen=True, slots=True)
class AlarmTransition:
    """A transition of one alarm on one bed, as logged."""

    bed: str
    t: float
    name: str
    signal: str
    priority: Priority
    state: AlarmPhase
    value: float | None
    worst: float | None  # peak (high limits) or nadir (low limits) so far
    limit: float | None
    op: str
    delay_s: float
    user: str | None = None
    technical: bool = False
    reason: str = ""  # why it ended or was cancelled other than by its value (sensor off, ...)


@dataclass(frozen=True, slots=True)
class ActiveAlarm:
    """An alarm on the screen: raised, acknowledged, or latched until reset."""

    name: str
    signal: str
    priority: Priority
    onset_t: float
    onset_value: float | None
    worst_value: float | None
    limit: float | None
    op: str
    display: Display = Display.ACTIVE
    technical: bool = False
    prompt: str = ""
    acked_by: str | None = None

    @property
    def sounding(self) -> bool:
        """Unacknowledged alarms sound (unless the bed's audio is paused)."""
        return self.acked_by is None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """An infusion session: the unit of record."""

    id: int
    bed: str
    source: Source
    started_at: float
    ended_at: float | None
    weight_kg: float
    rate_mg_kg_h: float  # the planned rate; the set rate is derived from the events
    state: str  # the phase when last written: pre-infusion, infusing, ..., closed
    patient_ref: str = ""  # a pseudonym or clinic ID; never in URLs or logs
    indication: str = ""
    regimen: str = ""
    concentration_mg_ml: float = 0.0  # mg/mL; 0 where no drug was planned (an import)
    uid: str = ""  # unique across stations, time-sortable; `id` is only this station's number


# Records read back from the session log. Plain values, so no database row type reaches the
# pages or the runtime; a second backend returns the same records.


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A logged event of a session (or of a bed, without one)."""

    session_id: int | None
    bed: str
    t: float
    kind: str
    user: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoreStats:
    """The session log writer's health, for the store-failure technical alarm."""

    readings_written: int
    pending: int
    failed_flushes: int
    dropped: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class AlarmRecord:
    """One alarm from onset to end, as summarized in the log (times in epoch seconds)."""

    id: int
    session_id: int | None
    bed: str
    name: str
    signal: str
    priority: str  # at onset: HIGH, MEDIUM or LOW
    onset_t: float
    end_t: float | None
    onset_value: float | None
    worst_value: float | None
    op: str
    limit_value: float | None
    delay_s: float
    technical: bool
    acked_at: float | None
    acked_by: str | None
    escalated_at: float | None
    priority_now: str | None  # after any escalation
    ended_by: str | None


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A staff account of the station."""

    name: str
    role: str
    pw_hash: str = field(repr=False)
    disabled: bool
    created_at: float


@dataclass(frozen=True, slots=True)
class LoginRecord:
    """One login to the web app, as the station keeps it (the cookie names it)."""

    user: str
    started_at: float
    last_active: float
    ended_at: float | None
    end_reason: str | None
