"""Alarm state after a restart: a fold of the bed's logged alarm transitions.

An alarm that was active, acknowledged or latched when the station stopped comes back as it
was (with who acknowledged it and its escalation), and so does the audio pause with the time
it had left. Pending conditions do not come back: they are judged again from fresh readings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from monitor.model import AlarmPhase, Priority

SHOWN = (AlarmPhase.ACTIVE, AlarmPhase.ACKNOWLEDGED, AlarmPhase.LATCHED)


@dataclass(slots=True)
class RestoredAlarm:
    name: str
    signal: str
    priority: Priority
    state: AlarmPhase
    """ACTIVE (sounding), ACKNOWLEDGED or LATCHED."""
    onset_t: float
    op: str
    technical: bool
    onset_value: float | None = None
    worst: float | None = None
    limit: float | None = None
    acked_at: float | None = None
    acked_by: str | None = None
    escalated: bool = False
    changed_at: float = 0.0
    """When it last sounded again (onset, reminder or escalation): escalation counts from it."""

    @property
    def condition_free(self) -> bool:
        """Decided outside the rules (technical alarms, session prompts): no rule to find."""
        return self.technical or self.op in ("technical", "due")


@dataclass(slots=True)
class RestoredAlarms:
    alarms: dict[str, RestoredAlarm] = field(default_factory=dict)
    paused_until: float = 0.0


def fold_alarm_log(events: Iterable[tuple[float, str, str, dict[str, Any]]]) -> RestoredAlarms:
    """Fold (t, kind, user, payload) events of one bed, oldest first: `alarm_<phase>`
    transitions and `audio_pause` steps, as the session log holds them."""
    out = RestoredAlarms()
    for t, kind, user, payload in events:
        if kind == "audio_pause":
            out.paused_until = float(payload.get("until", 0.0))
            continue
        if not kind.startswith("alarm_"):
            continue
        try:
            phase = AlarmPhase(kind.removeprefix("alarm_"))
            name, priority = str(payload["alarm"]), Priority[payload["priority"]]
        except (KeyError, ValueError):
            continue  # not an alarm transition this version knows
        rec = out.alarms.get(name)
        if phase is AlarmPhase.ACTIVE:
            out.alarms[name] = RestoredAlarm(
                name,
                str(payload.get("signal", "")),
                priority,
                AlarmPhase.ACTIVE,
                t,
                str(payload.get("op", "")),
                bool(payload.get("technical", payload.get("op") == "technical")),
                payload.get("value"),
                payload.get("worst"),
                payload.get("limit"),
                changed_at=t,
            )
        elif rec is None:
            continue
        elif phase is AlarmPhase.ACKNOWLEDGED:
            if rec.state is not AlarmPhase.LATCHED:
                rec.state = AlarmPhase.ACKNOWLEDGED
            rec.acked_at, rec.acked_by = t, user
        elif phase in (AlarmPhase.REMINDER, AlarmPhase.ESCALATED):
            rec.state, rec.acked_at, rec.acked_by = AlarmPhase.ACTIVE, None, None
            rec.priority, rec.changed_at = priority, t
            rec.escalated = rec.escalated or phase is AlarmPhase.ESCALATED
        elif phase is AlarmPhase.LATCHED:
            rec.state, rec.worst = AlarmPhase.LATCHED, payload.get("worst", rec.worst)
        elif phase in (AlarmPhase.CLEARED, AlarmPhase.RESET):
            del out.alarms[name]
    return out
