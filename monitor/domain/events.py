"""What a bed's core emits besides readings, waveforms, alarm transitions and logged steps.

The journal holds these in order; its readers (the recorder, the device effects, the live feed)
act on them. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.model import AlarmTransition, Reading, SessionInfo, Waveform
from monitor.session import SessionEvent


@dataclass(frozen=True, slots=True)
class SessionOpened:
    """A session became this bed's open session (created, or resumed after a restart)."""

    info: SessionInfo
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class SessionClosed:
    info: SessionInfo
    """The record as closed (ended_at set)."""
    user: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PhaseChanged:
    t: float
    phase: str


@dataclass(frozen=True, slots=True)
class PumpRate:
    """What the pump now delivers: the set rate times the weight (0 when stopped)."""

    t: float
    mg_per_h: float


@dataclass(frozen=True, slots=True)
class BolusGiven:
    t: float
    mg: float


@dataclass(frozen=True, slots=True)
class TraineeAction:
    """What the trainee did, for a training scenario to react to and score."""

    t: float
    action: str
    detail: str = ""


BedEvent = (
    Reading
    | Waveform
    | AlarmTransition
    | SessionEvent
    | SessionOpened
    | SessionClosed
    | PhaseChanged
    | PumpRate
    | BolusGiven
    | TraineeAction
)
