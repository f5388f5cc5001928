"""Value objects that travel from devices through the hub to the store and the pages."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["live", "simulated"]


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


class AlarmState(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """A transition of one alarm condition on one bed."""

    bed: str
    t: float
    name: str
    signal: str
    priority: Priority
    state: AlarmState
    value: float
    worst: float  # peak (high limits) or nadir (low limits) so far
    limit: float
    op: str
    delay_s: float


@dataclass(frozen=True, slots=True)
class ActiveAlarm:
    """An alarm condition that currently holds, as the pages show it."""

    name: str
    signal: str
    priority: Priority
    onset_t: float
    onset_value: float
    worst_value: float
    limit: float
    op: str


SessionState = Literal["infusing", "closed"]


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """An infusion session: the unit of record."""

    id: int
    bed: str
    source: Source
    started_at: float
    ended_at: float | None
    weight_kg: float
    rate_mg_kg_h: float
    state: SessionState
