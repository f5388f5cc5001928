"""Absolute thresholds with priorities and condition delays."""

from __future__ import annotations

from monitor.alarms import ThresholdAlarms
from monitor.config import ThresholdRule
from monitor.model import AlarmState, Priority, Reading

T0 = 1_767_225_600.0


def _rules() -> list[ThresholdRule]:
    return [
        ThresholdRule(
            name="SPO2_LOW", signal="SPO2", op="<", limit=92, priority="MEDIUM", delay_s=15
        ),
        ThresholdRule(
            name="SPO2_DESAT", signal="SPO2", op="<", limit=85, priority="HIGH", delay_s=5
        ),
        ThresholdRule(
            name="NIBP_SYS_HIGH",
            signal="NIBP_SYS",
            op=">=",
            limit=160,
            priority="MEDIUM",
            delay_s=0,
        ),
    ]


def _spo2(t: float, v: float) -> Reading:
    return Reading("b", T0 + t, "SPO2", v, "%")


def test_condition_delay_holds_back_the_alarm() -> None:
    alarms = ThresholdAlarms("b", _rules())
    events = []
    for t in range(0, 16):
        events += alarms.evaluate(_spo2(t, 90))
        if t < 15:
            assert events == [], f"alarmed after {t} s, before the 15 s delay"
    assert [(e.name, e.state, e.t) for e in events] == [("SPO2_LOW", AlarmState.ACTIVE, T0 + 15)]


def test_transient_dip_never_alarms() -> None:
    alarms = ThresholdAlarms("b", _rules())
    seq = [90] * 10 + [96] + [90] * 10
    events = [e for t, v in enumerate(seq) for e in alarms.evaluate(_spo2(t, v))]
    assert events == []


def test_tiers_and_worst_value_and_end() -> None:
    alarms = ThresholdAlarms("b", _rules())
    values = [83] * 20 + [80] * 3 + [97]
    events = [e for t, v in enumerate(values) for e in alarms.evaluate(_spo2(t, v))]
    got = [(e.name, e.state, e.t - T0) for e in events]
    assert got == [
        ("SPO2_DESAT", AlarmState.ACTIVE, 5),
        ("SPO2_LOW", AlarmState.ACTIVE, 15),
        ("SPO2_LOW", AlarmState.ENDED, 23),
        ("SPO2_DESAT", AlarmState.ENDED, 23),
    ]
    assert all(e.worst == 80 for e in events if e.state is AlarmState.ENDED)


def test_active_is_sorted_by_priority() -> None:
    alarms = ThresholdAlarms("b", _rules())
    for t in range(20):
        alarms.evaluate(_spo2(t, 80))
    assert [(a.name, a.priority) for a in alarms.active()] == [
        ("SPO2_DESAT", Priority.HIGH),
        ("SPO2_LOW", Priority.MEDIUM),
    ]


def test_cuff_alarm_on_first_reading_and_at_the_limit() -> None:
    alarms = ThresholdAlarms("b", _rules())
    (event,) = alarms.evaluate(Reading("b", T0, "NIBP_SYS", 160, "mmHg"))
    assert (event.name, event.state, event.value) == ("NIBP_SYS_HIGH", AlarmState.ACTIVE, 160)
    assert alarms.evaluate(Reading("b", T0 + 180, "NIBP_SYS", 150, "mmHg"))[0].state is (
        AlarmState.ENDED
    )
