"""The state machine of one alarm on one bed (IEC 60601-1-8 semantics, clinical.md §1, §6).

inactive -> pending (condition delay) -> active -> acknowledged
                                           \\-> latched (cause gone, HIGH) -> reset
latched + the cause back: a new condition, pending for its delay while the latched
          alarm stays as it was; after the delay, a new onset
acknowledged + condition still present after the reminder interval -> active again
active + unacknowledged past the escalation time -> one priority up
technical: up a priority step after the condition has lasted a given time
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.alarms.rules import Condition, worse
from monitor.config import AlarmRule
from monitor.model import ActiveAlarm, AlarmPhase, AlarmTransition, Display, Priority

if TYPE_CHECKING:
    from monitor.alarms.restore import RestoredAlarm

INACTIVE, PENDING, ACTIVE, ACKED, LATCHED = range(5)
Steps = tuple[tuple[float, Priority], ...]


class Tracker:
    """The state machine of one alarm on one bed."""

    __slots__ = (
        "bed",
        "name",
        "signal",
        "base_priority",
        "priority",
        "delay_s",
        "clear_delay_s",
        "latching",
        "escalate_after_s",
        "reminder_s",
        "technical",
        "prompt",
        "condition",
        "state",
        "since",
        "clear_since",
        "unacked_since",
        "onset_t",
        "onset_value",
        "worst",
        "acked_at",
        "acked_by",
        "escalated",
        "op",
        "last_value",
        "fixed_limit",
        "repending_since",
        "steps",
        "breaks_pause",
    )

    def __init__(
        self,
        bed: str,
        name: str,
        signal: str,
        priority: Priority,
        *,
        delay_s: float = 0.0,
        clear_delay_s: float = 0.0,
        latching: bool = False,
        escalate_after_s: float | None = None,
        reminder_s: float = 300.0,
        technical: bool = False,
        prompt: str = "",
        condition: Condition | None = None,
        op: str = "",
    ) -> None:
        self.bed, self.name, self.signal = bed, name, signal
        self.base_priority = self.priority = priority
        self.delay_s, self.clear_delay_s = delay_s, clear_delay_s
        self.latching = latching and not technical  # technical alarms never latch
        self.escalate_after_s, self.reminder_s = escalate_after_s, reminder_s
        self.technical, self.prompt, self.condition = technical, prompt, condition
        self.op = condition.op if condition is not None else op
        self.state = INACTIVE
        self.since = self.onset_t = self.acked_at = self.unacked_since = 0.0
        self.clear_since: float | None = None
        self.repending_since: float | None = None  # latched, and the cause is back
        self.onset_value: float | None = None
        self.worst: float | None = None
        self.last_value: float | None = None
        self.acked_by: str | None = None
        self.escalated = False
        self.fixed_limit: float | None = None  # technical alarms: e.g. the silence allowed
        self.steps: Steps = ()  # (seconds since onset, priority): technical escalation
        self.breaks_pause = False  # a new HIGH sounding through the bed's audio pause

    @classmethod
    def for_rule(cls, bed: str, rule: AlarmRule) -> Tracker:
        return cls(
            bed,
            rule.name,
            rule.signal,
            Priority[rule.priority],
            delay_s=rule.delay_s,
            clear_delay_s=rule.clear_delay_s,
            latching=rule.latches,
            escalate_after_s=rule.escalation,
            reminder_s=rule.reminder,
            prompt="repeat the measurement to confirm" if rule.confirm_repeat else "",
            condition=Condition(rule),
        )

    @property
    def limit(self) -> float | None:
        c = self.condition
        if c is None:
            return self.fixed_limit
        return c.limit if c.rule.no_value_s is None else c.rule.no_value_s

    def transition(
        self, t: float, state: AlarmPhase, user: str | None = None, reason: str = ""
    ) -> AlarmTransition:
        return AlarmTransition(
            self.bed,
            t,
            self.name,
            self.signal,
            self.priority,
            state,
            self.last_value,
            self.worst,
            self.limit,
            self.op,
            self.delay_s,
            user,
            self.technical,
            reason,
        )

    def restore(self, rec: RestoredAlarm) -> None:
        """Take up the state the log last recorded (after a restart)."""
        self.state = {
            AlarmPhase.ACTIVE: ACTIVE,
            AlarmPhase.ACKNOWLEDGED: ACKED,
            AlarmPhase.LATCHED: LATCHED,
        }[rec.state]
        self.priority, self.escalated = rec.priority, rec.escalated
        self.since = self.onset_t = rec.onset_t
        self.onset_value, self.worst, self.last_value = rec.onset_value, rec.worst, rec.worst
        self.acked_at, self.acked_by = rec.acked_at or 0.0, rec.acked_by
        self.unacked_since = rec.changed_at

    # -- the condition -------------------------------------------------------------------

    def update(self, t: float, present: bool | None, value: float | None) -> list[AlarmTransition]:
        """Feed the condition's current truth at time `t` (None: no information)."""
        if present is None:
            return self.tick(t)
        if value is not None:
            self.last_value = value
            if self.state in (ACTIVE, ACKED) and present:
                self.worst = value if self.worst is None else worse(self.worst, value, self.op)
        out: list[AlarmTransition] = []
        st = self.state
        if present:
            self.clear_since = None
            if st == INACTIVE:
                self.state, self.since = PENDING, t
                self.worst = value
                out.append(self.transition(t, AlarmPhase.PENDING))
                st = PENDING
            if st == PENDING:
                if value is not None:
                    self.worst = value if self.worst is None else worse(self.worst, value, self.op)
                if t - self.since >= self.delay_s:
                    out.append(self._raise(t, value))
            elif st == LATCHED:  # the cause is back: a new condition waits its own delay
                if self.repending_since is None:
                    self.repending_since = t
                    out.append(self.transition(t, AlarmPhase.PENDING))
                if t - self.repending_since >= self.delay_s:
                    self.worst = value
                    out.append(self._raise(t, value))
        else:
            if st == PENDING:
                self.state = INACTIVE
                out.append(self.transition(t, AlarmPhase.CANCELLED))
            elif st == LATCHED and self.repending_since is not None:
                self.repending_since = None  # the latched alarm stays as it was
                out.append(self.transition(t, AlarmPhase.CANCELLED))
            elif st in (ACTIVE, ACKED):
                if self.clear_since is None:
                    self.clear_since = t
                if t - self.clear_since >= self.clear_delay_s:
                    out.append(self._end(t))
        out += self.tick(t)
        return out

    def _raise(self, t: float, value: float | None) -> AlarmTransition:
        self.state = ACTIVE
        self.repending_since = None
        self.onset_t, self.onset_value = t, value
        self.priority, self.escalated = self.base_priority, False
        self.acked_by, self.acked_at = None, 0.0
        self.unacked_since = t
        return self.transition(t, AlarmPhase.ACTIVE)

    def _end(self, t: float) -> AlarmTransition:
        self.clear_since = None
        if self.latching:
            self.state = LATCHED
            return self.transition(t, AlarmPhase.LATCHED)
        return self.end(t)

    def end(self, t: float, user: str | None = None, reason: str = "") -> AlarmTransition:
        """End the alarm now, whatever its state (cleared, with the reason recorded)."""
        self.state, self.clear_since, self.repending_since = INACTIVE, None, None
        self.breaks_pause = False
        tr = self.transition(t, AlarmPhase.CLEARED, user, reason)
        self.priority = self.base_priority
        return tr

    def cancel_pending(self, t: float, reason: str) -> list[AlarmTransition]:
        """A pending condition that can no longer be judged (the sensor went invalid)."""
        if self.state == PENDING:
            self.state = INACTIVE
            return [self.transition(t, AlarmPhase.CANCELLED, reason=reason)]
        if self.state == LATCHED and self.repending_since is not None:
            self.repending_since = None
            return [self.transition(t, AlarmPhase.CANCELLED, reason=reason)]
        return []

    def tick(self, t: float) -> list[AlarmTransition]:
        """Time-driven parts: a delay running out, reminders and escalation."""
        st = self.state
        if st == PENDING and t - self.since >= self.delay_s and self.delay_s > 0:
            return [self._raise(t, self.last_value)]
        if (
            st == LATCHED
            and self.repending_since is not None
            and self.delay_s > 0
            and t - self.repending_since >= self.delay_s
        ):
            self.worst = self.last_value
            return [self._raise(t, self.last_value)]
        if st in (ACTIVE, ACKED):
            for after, priority in self.steps:
                if priority > self.priority and t - self.onset_t >= after:
                    self.priority, self.escalated = priority, True
                    self.state, self.acked_by = ACTIVE, None  # louder: sounds again
                    self.unacked_since = t
                    return [self.transition(t, AlarmPhase.ESCALATED)]
        if st == ACKED and t - self.acked_at >= self.reminder_s:
            self.state, self.acked_by = ACTIVE, None
            self.unacked_since = t  # escalation counts unacknowledged time from here
            return [self.transition(t, AlarmPhase.REMINDER)]
        if (
            st == ACTIVE
            and not self.escalated
            and self.escalate_after_s is not None
            and self.priority < Priority.HIGH
            and t - self.unacked_since >= self.escalate_after_s
        ):
            self.escalated = True
            self.priority = Priority(self.priority + 1)
            return [self.transition(t, AlarmPhase.ESCALATED)]
        return []

    # -- operator actions ----------------------------------------------------------------

    def acknowledge(self, t: float, user: str) -> list[AlarmTransition]:
        if self.state == ACTIVE or (self.state == LATCHED and self.acked_by is None):
            if self.state == ACTIVE:
                self.state = ACKED
            self.acked_at, self.acked_by = t, user
            self.breaks_pause = False
            return [self.transition(t, AlarmPhase.ACKNOWLEDGED, user)]
        return []

    def reset(self, t: float, user: str) -> list[AlarmTransition]:
        if self.state != LATCHED:
            return []
        self.state, self.breaks_pause = INACTIVE, False
        tr = self.transition(t, AlarmPhase.RESET, user)
        self.priority = self.base_priority
        pending = self.repending_since
        self.repending_since = None
        if pending is not None:  # the cause is still there: its new condition keeps running
            self.state, self.since = PENDING, pending
        return [tr]

    # -- what the screen shows -----------------------------------------------------------

    @property
    def shown(self) -> bool:
        return self.state in (ACTIVE, ACKED, LATCHED)

    def view(self) -> ActiveAlarm:
        display = {
            ACTIVE: Display.ACTIVE,
            ACKED: Display.ACKNOWLEDGED,
            LATCHED: Display.LATCHED,
        }[self.state]
        return ActiveAlarm(
            self.name,
            self.signal,
            self.priority,
            self.onset_t,
            self.onset_value,
            self.worst,
            self.limit,
            self.op,
            display,
            self.technical,
            self.prompt,
            self.acked_by,
        )
