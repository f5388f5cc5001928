"""Alarm messages in clinical words: value now, symbols, one line a signal and tier."""

from __future__ import annotations

from monitor.model import ActiveAlarm, Display, Priority, Reading
from monitor.ui.alarm_words import alarm_line, one_per_tier


def _alarm(name: str, signal: str, priority: Priority, op: str, limit: float | None,
           worst: float | None = None, technical: bool = False) -> ActiveAlarm:  # fmt: skip
    return ActiveAlarm(
        name, signal, priority, 100.0, worst, worst, limit, op, Display.ACTIVE, technical, "", None
    )


def test_a_limit_alarm_reads_as_a_monitor_shows_it_with_the_value_now() -> None:
    a = _alarm("SPO2_DESAT", "SPO2", Priority.HIGH, "<", 85, worst=79)
    latest = {"SPO2": Reading("b", 101.0, "SPO2", 83, "%")}
    assert alarm_line(a, latest) == "*** SpO₂ 83 < 85"  # the tile's value, not the worst
    assert alarm_line(a) == "*** SpO₂ 79 < 85"


def test_technical_and_session_alarms_in_words() -> None:
    probe = _alarm("TECH_SPO2_INVALID", "DEVICE", Priority.MEDIUM, "technical", None, None, True)
    cuff = _alarm("TECH_NIBP_OVERDUE", "NIBP", Priority.MEDIUM, "technical", 360, None, True)
    assert alarm_line(probe) == "** Probe off: SpO₂"
    assert alarm_line(cuff) == "** NBP overdue"


def test_one_cuff_reading_over_several_rules_is_one_line_a_tier() -> None:
    very = _alarm("NIBP_SYS_VERY_HIGH", "NIBP_SYS", Priority.HIGH, ">=", 180, 184)
    high = _alarm("NIBP_SYS_HIGH", "NIBP_SYS", Priority.MEDIUM, ">=", 160, 184)
    rise = _alarm("NIBP_SYS_BASELINE_RISE", "NIBP_SYS", Priority.MEDIUM, ">=", 156, 184)
    lines = [alarm_line(a) for a in one_per_tier([very, high, rise])]
    assert lines == ["*** NBP sys 184 ≥ 180", "** NBP sys 184 ≥ 160"]
