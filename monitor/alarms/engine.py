"""The alarm engine: one state machine per alarm, IEC 60601-1-8 semantics (clinical.md §1, §6).

    inactive -> pending (condition delay) -> active -> acknowledged
                                               \\-> latched (cause gone, HIGH) -> reset
    acknowledged + condition still present after the reminder interval -> active again
    active + unacknowledged past the escalation time -> one priority up

Acknowledge silences only the current condition; audio pause silences the whole bed for at
most two minutes and a new HIGH alarm breaks through it. There is no "all alarms off".
Technical alarms (TECH_*) share the machine but never latch and are set from outside.
Everything is driven by the caller's time, so it runs the same live and in replay.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from monitor.alarms.rules import Condition, worse
from monitor.config import MAX_AUDIO_PAUSE_S, AlarmRule
from monitor.model import ActiveAlarm, AlarmPhase, AlarmTransition, Display, Priority, Reading

_INACTIVE, _PENDING, _ACTIVE, _ACKED, _LATCHED = range(5)


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
        self.state = _INACTIVE
        self.since = self.onset_t = self.acked_at = self.unacked_since = 0.0
        self.clear_since: float | None = None
        self.onset_value: float | None = None
        self.worst: float | None = None
        self.last_value: float | None = None
        self.acked_by: str | None = None
        self.escalated = False
        self.fixed_limit: float | None = None  # technical alarms: e.g. the silence allowed

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

    def _tr(self, t: float, state: AlarmPhase, user: str | None = None) -> AlarmTransition:
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
        )

    # -- the condition -------------------------------------------------------------------

    def update(self, t: float, present: bool | None, value: float | None) -> list[AlarmTransition]:
        """Feed the condition's current truth at time `t` (None: no information)."""
        if present is None:
            return self.tick(t)
        if value is not None:
            self.last_value = value
            if self.state in (_ACTIVE, _ACKED) and present:
                self.worst = value if self.worst is None else worse(self.worst, value, self.op)
        out: list[AlarmTransition] = []
        st = self.state
        if present:
            self.clear_since = None
            if st == _INACTIVE:
                self.state, self.since = _PENDING, t
                self.worst = value
                out.append(self._tr(t, AlarmPhase.PENDING))
                st = _PENDING
            if st == _PENDING:
                if value is not None:
                    self.worst = value if self.worst is None else worse(self.worst, value, self.op)
                if t - self.since >= self.delay_s:
                    out.append(self._raise(t, value))
            elif st == _LATCHED:  # the cause is back before anyone reset it: a new onset,
                out.append(self._raise(t, value))  # never silenced by an old acknowledgement
        else:
            if st == _PENDING:
                self.state = _INACTIVE
                out.append(self._tr(t, AlarmPhase.CANCELLED))
            elif st in (_ACTIVE, _ACKED):
                if self.clear_since is None:
                    self.clear_since = t
                if t - self.clear_since >= self.clear_delay_s:
                    out.append(self._end(t))
        out += self.tick(t)
        return out

    def _raise(self, t: float, value: float | None) -> AlarmTransition:
        self.state = _ACTIVE
        self.onset_t, self.onset_value = t, value
        self.priority, self.escalated = self.base_priority, False
        self.acked_by, self.acked_at = None, 0.0
        self.unacked_since = t
        return self._tr(t, AlarmPhase.ACTIVE)

    def _end(self, t: float) -> AlarmTransition:
        self.clear_since = None
        if self.latching:
            self.state = _LATCHED
            return self._tr(t, AlarmPhase.LATCHED)
        self.state = _INACTIVE
        tr = self._tr(t, AlarmPhase.CLEARED)
        self.priority = self.base_priority
        return tr

    def tick(self, t: float) -> list[AlarmTransition]:
        """Time-driven parts: a delay running out, reminders and escalation."""
        st = self.state
        if st == _PENDING and t - self.since >= self.delay_s and self.delay_s > 0:
            return [self._raise(t, self.last_value)]
        if st == _ACKED and t - self.acked_at >= self.reminder_s:
            self.state, self.acked_by = _ACTIVE, None
            self.unacked_since = t  # escalation counts unacknowledged time from here
            return [self._tr(t, AlarmPhase.REMINDER)]
        if (
            st == _ACTIVE
            and not self.escalated
            and self.escalate_after_s is not None
            and self.priority < Priority.HIGH
            and t - self.unacked_since >= self.escalate_after_s
        ):
            self.escalated = True
            self.priority = Priority(self.priority + 1)
            return [self._tr(t, AlarmPhase.ESCALATED)]
        return []

    # -- operator actions ----------------------------------------------------------------

    def acknowledge(self, t: float, user: str) -> list[AlarmTransition]:
        if self.state == _ACTIVE or (self.state == _LATCHED and self.acked_by is None):
            if self.state == _ACTIVE:
                self.state = _ACKED
            self.acked_at, self.acked_by = t, user
            return [self._tr(t, AlarmPhase.ACKNOWLEDGED, user)]
        return []

    def reset(self, t: float, user: str) -> list[AlarmTransition]:
        if self.state != _LATCHED:
            return []
        self.state = _INACTIVE
        tr = self._tr(t, AlarmPhase.RESET, user)
        self.priority = self.base_priority
        return [tr]

    # -- what the screen shows -----------------------------------------------------------

    @property
    def shown(self) -> bool:
        return self.state in (_ACTIVE, _ACKED, _LATCHED)

    def view(self) -> ActiveAlarm:
        display = {
            _ACTIVE: Display.ACTIVE,
            _ACKED: Display.ACKNOWLEDGED,
            _LATCHED: Display.LATCHED,
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


class BedAlarms:
    """All alarms of one bed: rule-driven and technical, plus the bed's audio pause."""

    def __init__(
        self, bed: str, rules: Iterable[AlarmRule], audio_pause_s: float = MAX_AUDIO_PAUSE_S
    ) -> None:
        self.bed = bed
        self.audio_pause_s = min(audio_pause_s, MAX_AUDIO_PAUSE_S)
        self._trackers: dict[str, Tracker] = {}
        self._by_signal: dict[str, list[Tracker]] = {}
        self._no_value: list[tuple[Tracker, float]] = []
        self._last_valid: dict[str, float] = {}
        self._baseline: dict[str, float] = {}
        self.paused_until = 0.0
        self._pause_started = 0.0
        for rule in rules:
            tracker = Tracker.for_rule(bed, rule)
            self._trackers[rule.name] = tracker
            if rule.no_value_s is not None:
                self._no_value.append((tracker, rule.no_value_s))
            self._by_signal.setdefault(rule.signal, []).append(tracker)

    # -- inputs --------------------------------------------------------------------------

    def evaluate(self, reading: Reading, t: float | None = None) -> list[AlarmTransition]:
        """Run a reading through its rules at time `t` (default: the reading's own time).

        Live, the hub passes its own clock so delays never depend on a device's clock.
        """
        return self.evaluate_value(reading.signal, reading.t if t is None else t, reading.value)

    def evaluate_value(self, signal: str, t: float, value: float) -> list[AlarmTransition]:
        """The hot path of `evaluate`, for callers holding plain values (the replay tool)."""
        self._last_valid[signal] = t
        trackers = self._by_signal.get(signal)
        if not trackers:
            return []
        out: list[AlarmTransition] = []
        for tracker in trackers:
            cond = tracker.condition
            assert cond is not None
            present = (
                cond.holds(t, value)
                if tracker.state in (_ACTIVE, _ACKED)
                else (cond.onset(t, value))
            )
            out += tracker.update(t, present, value)
        return self._breakthrough(out)

    def tick(self, t: float) -> list[AlarmTransition]:
        """Advance time with no new reading: delays, missing values, reminders, escalation."""
        out: list[AlarmTransition] = []
        for tracker, limit_s in self._no_value:
            # armed by the first valid value, as monitors arm a parameter once it measures
            last = self._last_valid.get(tracker.signal)
            if last is not None and t - last >= limit_s:
                out += tracker.update(t, True, round(t - last, 3))
        for tracker in self._trackers.values():
            if tracker.state != _INACTIVE:
                out += tracker.tick(t)
        if self.paused_until and t >= self.paused_until:
            self.paused_until = 0.0
        return self._breakthrough(out)

    def set_condition(
        self,
        name: str,
        present: bool,
        t: float,
        value: float | None = None,
        priority: Priority = Priority.MEDIUM,
        limit: float | None = None,
        escalate_after_s: float | None = None,
        technical: bool = True,
        signal: str = "DEVICE",
    ) -> list[AlarmTransition]:
        """Raise or clear a non-latching alarm decided outside the rules (technical alarms,
        an overdue assessment)."""
        tracker = self._trackers.get(name)
        if tracker is None:
            if not present:
                return []
            tracker = Tracker(
                self.bed,
                name,
                signal,
                priority,
                technical=technical,
                escalate_after_s=escalate_after_s,
                op="technical" if technical else "due",
            )
            self._trackers[name] = tracker
        tracker.fixed_limit = limit
        return self._breakthrough(tracker.update(t, present, value))

    def set_baseline(self, baselines: dict[str, float]) -> None:
        """A confirmed baseline: relative limits apply from now on, and only with one."""
        self._baseline = {k: v for k, v in baselines.items() if math.isfinite(v)}
        for trackers in self._by_signal.values():
            for tr in trackers:
                if tr.condition is not None:
                    tr.condition.set_baseline(self._baseline.get(tr.signal))

    @property
    def baseline(self) -> dict[str, float]:
        return dict(self._baseline)

    # -- operator actions ----------------------------------------------------------------

    def acknowledge(self, t: float, user: str) -> list[AlarmTransition]:
        return [tr for trk in self._trackers.values() for tr in trk.acknowledge(t, user)]

    def reset(self, t: float, user: str) -> list[AlarmTransition]:
        return [tr for trk in self._trackers.values() for tr in trk.reset(t, user)]

    def pause_audio(self, t: float, seconds: float | None = None) -> float:
        """Silence the bed for at most two minutes; returns when the pause ends."""
        length = min(seconds or self.audio_pause_s, self.audio_pause_s)
        self.paused_until, self._pause_started = t + length, t
        return self.paused_until

    def _breakthrough(self, out: list[AlarmTransition]) -> list[AlarmTransition]:
        if self.paused_until and any(
            tr.priority == Priority.HIGH
            and tr.state in (AlarmPhase.ACTIVE, AlarmPhase.ESCALATED, AlarmPhase.REMINDER)
            for tr in out
        ):
            self.paused_until = 0.0  # a new HIGH alarm is never held back by a pause
        return out

    def rule(self, name: str) -> Tracker:
        return self._trackers[name]

    def trackers(self) -> dict[str, Tracker]:
        return dict(self._trackers)

    def end_patient(self, t: float, signals: Iterable[str]) -> list[AlarmTransition]:
        """A session closed: end the alarms that belong to its patient (assessment scores,
        missing-assessment), forget the baseline and restore configured limits."""
        codes = set(signals)
        out: list[AlarmTransition] = []
        for tracker in self._trackers.values():
            if (tracker.signal in codes or tracker.signal == "ASSESSMENT") and tracker.state:
                tracker.state = _INACTIVE
                out.append(tracker._tr(t, AlarmPhase.CLEARED, "system"))
            cond = tracker.condition
            if cond is not None and cond.rule.relative is None and cond.rule.op:
                cond.limit = cond.rule.limit
        self.set_baseline({})
        return out

    # -- what the screen shows -----------------------------------------------------------

    def active(self) -> list[ActiveAlarm]:
        """Alarms on the screen, most urgent first, then oldest first."""
        shown = [t.view() for t in self._trackers.values() if t.shown]
        return sorted(shown, key=lambda a: (-a.priority, a.onset_t))

    def sounding(self, t: float) -> Priority | None:
        """The priority whose tone should play now, or None (nothing, or audio paused)."""
        if self.paused_until and t < self.paused_until:
            return None
        loud = [
            trk.priority for trk in self._trackers.values() if trk.shown and trk.acked_by is None
        ]
        return max(loud) if loud else None

    def pause_remaining(self, t: float) -> float:
        return max(0.0, self.paused_until - t) if self.paused_until else 0.0
