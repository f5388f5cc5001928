"""Absolute-threshold alarms with a priority and a condition delay, per bed.

Each rule moves inactive -> pending (the condition delay runs) -> active -> inactive.
A reading that no longer breaches the limit ends the condition at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.alarms.rules import breaches, worse
from monitor.config import ThresholdRule
from monitor.model import ActiveAlarm, AlarmEvent, AlarmState, Priority, Reading


@dataclass(slots=True)
class _RuleState:
    rule: ThresholdRule
    pending_since: float | None = None
    active: ActiveAlarm | None = None


class ThresholdAlarms:
    """Evaluates one bed's readings against its rules and emits onset/end transitions."""

    def __init__(self, bed: str, rules: list[ThresholdRule]) -> None:
        self.bed = bed
        self._by_signal: dict[str, list[_RuleState]] = {}
        for rule in rules:
            self._by_signal.setdefault(rule.signal, []).append(_RuleState(rule))

    def evaluate(self, reading: Reading) -> list[AlarmEvent]:
        events: list[AlarmEvent] = []
        for st in self._by_signal.get(reading.signal, ()):
            rule = st.rule
            if breaches(reading.value, rule.op, rule.limit):
                if st.active is not None:
                    a = st.active
                    st.active = ActiveAlarm(
                        a.name,
                        a.signal,
                        a.priority,
                        a.onset_t,
                        a.onset_value,
                        worse(a.worst_value, reading.value, rule.op),
                        a.limit,
                        a.op,
                    )
                    continue
                if st.pending_since is None:
                    st.pending_since = reading.t
                if reading.t - st.pending_since >= rule.delay_s:
                    st.active = ActiveAlarm(
                        rule.name,
                        rule.signal,
                        Priority[rule.priority],
                        reading.t,
                        reading.value,
                        reading.value,
                        rule.limit,
                        rule.op,
                    )
                    events.append(self._event(rule, reading, AlarmState.ACTIVE, reading.value))
            else:
                st.pending_since = None
                if st.active is not None:
                    events.append(
                        self._event(rule, reading, AlarmState.ENDED, st.active.worst_value)
                    )
                    st.active = None
        return events

    def _event(
        self, rule: ThresholdRule, reading: Reading, state: AlarmState, worst: float
    ) -> AlarmEvent:
        return AlarmEvent(
            self.bed,
            reading.t,
            rule.name,
            rule.signal,
            Priority[rule.priority],
            state,
            reading.value,
            worst,
            rule.limit,
            rule.op,
            rule.delay_s,
        )

    def active(self) -> list[ActiveAlarm]:
        """Active alarms, most urgent first, then oldest first."""
        found = [st.active for sts in self._by_signal.values() for st in sts if st.active]
        return sorted(found, key=lambda a: (-a.priority, a.onset_t))
