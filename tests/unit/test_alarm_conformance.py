"""IEC 60601-1-8 conformance table for the alarm engine, one test per behaviour.

Everything runs in simulated time: readings carry their own time and `tick` moves the clock.
"""

from __future__ import annotations

from typing import Any

from monitor.alarms import BedAlarms
from monitor.config import AlarmRule, parse_config
from monitor.model import AlarmPhase, Display, Priority, Reading
from tests.helpers import REPO

T0 = 1_767_225_600.0
UNITS = {"SPO2": "%", "HR": "/min", "NIBP_SYS": "mmHg", "RR": "/min", "ETCO2": "mmHg"}


def rule(**kw: Any) -> AlarmRule:
    return AlarmRule(**kw)


def hr_high(**kw: Any) -> AlarmRule:
    return rule(name="HR_HIGH", signal="HR", op=">", limit=120, priority="MEDIUM", **kw)


def feed(
    engine: BedAlarms, signal: str, values: list[float], start: float = 0.0, step: float = 1.0
) -> list[tuple[float, str, AlarmPhase]]:
    """Readings at `step` seconds apart from T0+start; returns (seconds, alarm, state)."""
    out = []
    for i, v in enumerate(values):
        t = T0 + start + i * step
        for tr in engine.evaluate(Reading("b", t, signal, v, UNITS[signal])):
            out.append((tr.t - T0, tr.name, tr.state))
    return out


def states(got: list[tuple[float, str, AlarmPhase]], *names: str) -> list[tuple[float, str]]:
    return [(t, str(s)) for t, n, s in got if not names or n in names]


SPO2_RULES = [
    rule(name="SPO2_LOW", signal="SPO2", op="<", limit=92, priority="MEDIUM", delay_s=15),
    rule(name="SPO2_DESAT", signal="SPO2", op="<", limit=85, priority="HIGH", delay_s=5),
]


def test_condition_delay_is_honoured_to_the_second() -> None:
    engine = BedAlarms("b", SPO2_RULES[:1])
    got = feed(engine, "SPO2", [90] * 20)
    assert states(got) == [(0, "pending"), (15, "active")]


def test_spike_shorter_than_the_delay_never_alarms() -> None:
    engine = BedAlarms("b", SPO2_RULES[:1])
    got = feed(engine, "SPO2", [90] * 14 + [97] + [90] * 14 + [97] * 5)
    assert [s for _, s in states(got)] == ["pending", "cancelled", "pending", "cancelled"]


def test_delay_runs_out_between_readings() -> None:
    engine = BedAlarms("b", SPO2_RULES[:1])
    feed(engine, "SPO2", [90], step=1)
    assert engine.tick(T0 + 14.9) == []
    (tr,) = engine.tick(T0 + 15.0)
    assert (tr.name, tr.state, tr.value) == ("SPO2_LOW", AlarmPhase.ACTIVE, 90)


def test_tiered_spo2_medium_after_15_s_high_within_5_s() -> None:
    engine = BedAlarms("b", SPO2_RULES)
    got = feed(engine, "SPO2", [83] * 20)
    active = [(t, n) for t, n, s in got if s is AlarmPhase.ACTIVE]
    assert active == [(5, "SPO2_DESAT"), (15, "SPO2_LOW")]
    assert [a.name for a in engine.active()] == ["SPO2_DESAT", "SPO2_LOW"]  # by priority


def test_hysteresis_prevents_flapping() -> None:
    flappy = [121, 119, 121, 119, 121, 119, 121]
    plain = BedAlarms("b", [hr_high()])
    damped = BedAlarms("b", [hr_high(hysteresis=5)])
    assert len([s for _, s in states(feed(plain, "HR", flappy)) if s == "active"]) == 4
    got = feed(damped, "HR", flappy + [114])
    assert states(got) == [(0, "pending"), (0, "active"), (7, "cleared")]


def test_clear_delay_holds_the_alarm() -> None:
    engine = BedAlarms(
        "b",
        [hr_high(clear_delay_s=5)],
    )
    got = feed(engine, "HR", [125, 110, 125, 110, 110, 110, 110, 110, 110])
    assert states(got) == [(0, "pending"), (0, "active"), (8, "cleared")]


def test_high_latches_until_reset() -> None:
    engine = BedAlarms("b", SPO2_RULES[1:])
    got = feed(engine, "SPO2", [80] * 6 + [97] * 5)
    assert states(got) == [(0, "pending"), (5, "active"), (6, "latched")]
    (shown,) = engine.active()
    assert shown.display is Display.LATCHED and shown.worst_value == 80
    assert engine.sounding(T0 + 20) is Priority.HIGH  # still sounds: nobody has seen it
    (reset,) = engine.reset(T0 + 30, "nurse-a")
    assert (reset.state, reset.user) == (AlarmPhase.RESET, "nurse-a")
    assert engine.active() == [] and engine.sounding(T0 + 31) is None


def test_medium_does_not_latch_and_reset_leaves_active_alarms() -> None:
    engine = BedAlarms("b", SPO2_RULES[:1])
    feed(engine, "SPO2", [90] * 16)
    assert engine.reset(T0 + 16, "nurse") == []
    got = feed(engine, "SPO2", [97], start=17)
    assert states(got) == [(17, "cleared")]


def test_acknowledge_silences_only_the_current_condition_and_reminds() -> None:
    engine = BedAlarms(
        "b",
        [hr_high(reminder_s=300, escalate_after_s=None)],
    )
    feed(engine, "HR", [130] * 5)
    (ack,) = engine.acknowledge(T0 + 5, "nurse-a")
    assert (ack.state, ack.user) == (AlarmPhase.ACKNOWLEDGED, "nurse-a")
    assert engine.sounding(T0 + 6) is None
    assert engine.active()[0].display is Display.ACKNOWLEDGED  # still shown
    assert engine.tick(T0 + 304) == []
    (remind,) = engine.tick(T0 + 305)
    assert remind.state is AlarmPhase.REMINDER and engine.sounding(T0 + 305) is Priority.MEDIUM

    # a new occurrence after the condition ended is not covered by the old acknowledgement
    engine.acknowledge(T0 + 306, "nurse-a")
    feed(engine, "HR", [100], start=307)
    got = feed(engine, "HR", [130], start=308)
    assert states(got) == [(308, "pending"), (308, "active")]
    assert engine.sounding(T0 + 309) is Priority.MEDIUM


def test_audio_pause_ends_at_two_minutes() -> None:
    engine = BedAlarms(
        "b",
        [hr_high(escalate_after_s=None)],
        audio_pause_s=600,
    )
    feed(engine, "HR", [130] * 3)
    until = engine.pause_audio(T0 + 3, seconds=3600)
    assert until == T0 + 123  # capped at 2 min whatever is asked
    assert engine.sounding(T0 + 60) is None and engine.pause_remaining(T0 + 60) == 63
    engine.tick(T0 + 123)
    assert engine.sounding(T0 + 123) is Priority.MEDIUM


def test_new_high_breaks_through_audio_pause() -> None:
    engine = BedAlarms("b", SPO2_RULES + [hr_high()])
    feed(engine, "HR", [130] * 2)
    engine.pause_audio(T0 + 2)
    feed(engine, "HR", [130] * 10, start=2)
    assert engine.sounding(T0 + 10) is None  # MEDIUM stays paused
    feed(engine, "SPO2", [80] * 7, start=10)
    assert engine.sounding(T0 + 16) is Priority.HIGH
    assert engine.pause_remaining(T0 + 16) == 106  # the pause goes on for the others


def test_unacknowledged_medium_escalates() -> None:
    engine = BedAlarms("b", [hr_high()])  # default: escalate after 180 s
    feed(engine, "HR", [130])
    assert engine.tick(T0 + 179) == []
    (esc,) = engine.tick(T0 + 180)
    assert (esc.state, esc.priority) == (AlarmPhase.ESCALATED, Priority.HIGH)
    assert engine.active()[0].priority is Priority.HIGH
    acked = BedAlarms("b", [hr_high()])
    feed(acked, "HR", [130])
    acked.acknowledge(T0 + 10, "nurse")
    assert [tr.state for tr in acked.tick(T0 + 200)] == []


def test_stale_feed_raises_a_technical_alarm() -> None:
    engine = BedAlarms(
        "b", [rule(name="RR_NO_BREATH", signal="RR", no_value_s=20, priority="HIGH")]
    )
    assert engine.tick(T0 + 100) == []  # armed only once RR has been measured
    feed(engine, "RR", [14], start=0)
    assert engine.tick(T0 + 19.5) == []
    (tr,) = [t for t in engine.tick(T0 + 20) if t.state is AlarmPhase.ACTIVE]
    assert tr.name == "RR_NO_BREATH"
    # the hub's feed watchdog: technical, MEDIUM, never latches, clears on recovery
    raised = engine.set_condition("TECH_NO_DATA", True, T0 + 30, 12.0, limit=10)
    (tech,) = [t for t in raised if t.state is AlarmPhase.ACTIVE]
    assert (tech.state, tech.technical, tech.priority) == (AlarmPhase.ACTIVE, True, Priority.MEDIUM)
    (gone,) = engine.set_condition("TECH_NO_DATA", False, T0 + 31)
    assert gone.state is AlarmPhase.CLEARED  # never LATCHED
    assert "TECH_NO_DATA" not in {a.name for a in engine.active()}


def test_baseline_relative_limit_uses_only_a_confirmed_baseline() -> None:
    engine = BedAlarms(
        "b",
        [
            rule(
                name="NIBP_SYS_RISE",
                signal="NIBP_SYS",
                op=">=",
                limit=30,
                relative="pct",
                priority="MEDIUM",
            )
        ],
    )
    assert feed(engine, "NIBP_SYS", [190]) == []  # no baseline yet: never alarms
    engine.set_baseline({"NIBP_SYS": 120})
    assert feed(engine, "NIBP_SYS", [155], start=180) == []  # < 156 = 120 + 30 %
    got = feed(engine, "NIBP_SYS", [156], start=360)
    assert states(got) == [(360, "pending"), (360, "active")]
    assert engine.active()[0].limit == 156


def test_rise_over_a_window() -> None:
    engine = BedAlarms(
        "b", [rule(name="ETCO2_RISE", signal="ETCO2", rise=10, window_s=300, priority="MEDIUM")]
    )
    got = feed(engine, "ETCO2", [35, 38, 41, 44, 45], step=60)
    assert states(got) == [(240, "pending"), (240, "active")]
    slow = BedAlarms(
        "b", [rule(name="ETCO2_RISE", signal="ETCO2", rise=10, window_s=300, priority="MEDIUM")]
    )
    assert feed(slow, "ETCO2", [35, 37, 39, 41, 43, 45, 47], step=100) == []


def test_nibp_prompts_a_confirming_repeat() -> None:
    engine = BedAlarms(
        "b",
        [
            rule(
                name="NIBP_SYS_HIGH",
                signal="NIBP_SYS",
                op=">=",
                limit=160,
                priority="MEDIUM",
                confirm_repeat=True,
            )
        ],
    )
    got = feed(engine, "NIBP_SYS", [161])
    assert states(got) == [(0, "pending"), (0, "active")]  # first reading, no delay
    assert "repeat" in engine.active()[0].prompt


def test_shipped_config_has_the_default_table() -> None:
    import yaml

    config = parse_config(yaml.safe_load((REPO / "config.yaml").read_text()))
    rules = {r.name: r for r in config.alarms.rules}
    assert (rules["SPO2_LOW"].limit, rules["SPO2_LOW"].delay_s) == (92, 15)
    assert (rules["SPO2_DESAT"].priority, rules["SPO2_DESAT"].delay_s) == ("HIGH", 5)
    assert rules["HR_HIGH"].limit == 120 and rules["HR_VERY_HIGH"].priority == "HIGH"
    assert rules["NIBP_SYS_HIGH"].confirm_repeat and rules["NIBP_SYS_HIGH"].delay_s == 0
    assert rules["NIBP_SYS_VERY_HIGH"].latches and not rules["SPO2_LOW"].latches
    assert config.alarms.audio_pause_s == 120


def test_latched_alarm_whose_cause_returns_sounds_again() -> None:
    engine = BedAlarms("b", SPO2_RULES[1:])
    feed(engine, "SPO2", [80] * 6)
    engine.acknowledge(T0 + 6, "nurse")
    feed(engine, "SPO2", [97], start=7)  # latched, acknowledged, silent
    got = feed(engine, "SPO2", [80] * 6, start=100)
    # a new condition waits its delay, then a new onset the old ack does not cover
    assert states(got) == [(100, "pending"), (105, "active")]
    assert engine.sounding(T0 + 105) is Priority.HIGH


def test_escalation_counts_from_the_reminder() -> None:
    engine = BedAlarms("b", [hr_high(reminder_s=300, escalate_after_s=180)])
    feed(engine, "HR", [130])
    engine.acknowledge(T0 + 10, "nurse")
    assert [t.state for t in engine.tick(T0 + 310)] == [AlarmPhase.REMINDER]
    assert engine.tick(T0 + 311) == []  # not escalated 1 s after sounding again
    assert [t.state for t in engine.tick(T0 + 490)] == [AlarmPhase.ESCALATED]


# -- issue 11: alarms a clinic can trust (items 1-9) -------------------------------------

RR_RULES = [
    rule(name="RR_VERY_LOW", signal="RR", op="<", limit=8, priority="HIGH", delay_s=15),
    rule(name="RR_APNOEA", signal="RR", no_value_s=20, priority="HIGH"),
]


def test_1_latched_rebreach_waits_its_delay_and_keeps_ack_and_pause() -> None:
    engine = BedAlarms("b", SPO2_RULES[1:])
    feed(engine, "SPO2", [80] * 6 + [97])
    engine.acknowledge(T0 + 7, "nurse")
    engine.pause_audio(T0 + 8)
    got = feed(engine, "SPO2", [80] * 3 + [97], start=20)  # a single-reading dip: no onset
    assert states(got) == [(20, "pending"), (23, "cancelled")]
    (shown,) = engine.active()
    assert (shown.display, shown.acked_by) == (Display.LATCHED, "nurse")
    assert engine.pause_remaining(T0 + 24) == 104 and engine.sounding(T0 + 24) is None
    got = feed(engine, "SPO2", [80] * 6, start=40)
    assert states(got) == [(40, "pending"), (45, "active")]
    assert engine.sounding(T0 + 45) is Priority.HIGH  # a new HIGH sounds through the pause


def test_2_sensor_off_cancels_pending_and_ends_limit_alarms() -> None:
    engine = BedAlarms("b", SPO2_RULES)
    feed(engine, "SPO2", [88] * 16)  # SPO2_LOW active
    feed(engine, "SPO2", [83] * 3, start=16)  # SPO2_DESAT pending
    got = engine.invalidate(["SPO2"], T0 + 19, "sensor off")
    assert {(tr.name, str(tr.state), tr.reason) for tr in got} == {
        ("SPO2_DESAT", "cancelled", "sensor off"),
        ("SPO2_LOW", "cleared", "sensor off"),
    }
    assert engine.tick(T0 + 60) == [] and engine.active() == []  # the held 83 never matures


def test_3_feed_loss_is_technical_only_and_rr_zero_is_apnoea() -> None:
    engine = BedAlarms("b", RR_RULES)
    feed(engine, "RR", [14] * 5)
    engine.invalidate(["RR"], T0 + 5, "no data")
    assert engine.tick(T0 + 100) == []  # no apnoea from a lost feed
    got = feed(engine, "RR", [0] * 25, start=200)
    assert ("RR_APNOEA", "active") in {(n, str(s)) for _, n, s in got}
    assert [t for t, n, s in got if n == "RR_APNOEA" and s is AlarmPhase.ACTIVE] == [220]


def test_3_impedance_never_masks_a_co2_no_breath() -> None:
    engine = BedAlarms("b", RR_RULES[1:])
    for i in range(5):
        engine.evaluate(Reading("b", T0 + i, "RR", 14, "/min", source="co2"))
    got = []
    for i in range(5, 30):  # CO2 sees no breath; impedance counts chest movement
        got += engine.evaluate(Reading("b", T0 + i, "RR", 16, "/min", source="impedance"))
    assert [(tr.t - T0, tr.name) for tr in got if tr.state is AlarmPhase.ACTIVE] == [
        (24, "RR_APNOEA")
    ]


def test_3_etco2_no_breath_rule_in_shipped_config() -> None:
    import yaml

    config = parse_config(yaml.safe_load((REPO / "config.yaml").read_text()))
    rules = {r.name: r for r in config.alarms.rules}
    no_breath = rules["ETCO2_NO_BREATH"]
    assert (no_breath.op, no_breath.limit, no_breath.delay_s, no_breath.priority) == (
        "<",
        5,
        20,
        "HIGH",
    )


def test_4_technical_alarm_escalates_in_steps_while_it_lasts() -> None:
    engine = BedAlarms("b", [])
    steps = ((30.0, Priority.MEDIUM), (120.0, Priority.HIGH))
    engine.set_condition("TECH_SPO2_INVALID", True, T0, priority=Priority.LOW, steps=steps)
    engine.acknowledge(T0 + 1, "nurse")
    assert [tr.priority for tr in engine.tick(T0 + 30)] == [Priority.MEDIUM]
    assert engine.tick(T0 + 119) == []
    (high,) = engine.tick(T0 + 120)
    assert (high.state, high.priority) == (AlarmPhase.ESCALATED, Priority.HIGH)
    assert engine.sounding(T0 + 121) is Priority.HIGH  # louder: sounds again


def test_6_pulse_rate_carries_hr_alarms_while_ecg_is_invalid() -> None:
    engine = BedAlarms("b", [hr_high()])
    feed(engine, "HR", [80] * 3)
    engine.invalidate(["HR"], T0 + 3, "leads off")
    got = []
    for i in range(4, 20):
        got += engine.evaluate(Reading("b", T0 + i, "PR", 135, "/min"))
    assert ("HR_HIGH", AlarmPhase.ACTIVE) in {(tr.name, tr.state) for tr in got}
    fresh = BedAlarms("b", [hr_high()])
    feed(fresh, "HR", [80] * 3)
    assert fresh.evaluate(Reading("b", T0 + 3, "PR", 135, "/min")) == []  # ECG rules


def test_8_baseline_relative_alarm_ends_when_the_session_closes() -> None:
    engine = BedAlarms(
        "b",
        [rule(name="HR_RISE", signal="HR", op=">", limit=30, relative="abs", priority="HIGH")],
    )
    engine.set_baseline({"HR": 70})
    feed(engine, "HR", [120] * 3)
    (ended,) = engine.end_patient(T0 + 3, ())
    assert (ended.name, ended.state, ended.reason) == (
        "HR_RISE",
        AlarmPhase.CLEARED,
        "session closed",
    )
    assert engine.active() == [] and feed(engine, "HR", [120] * 30, start=4) == []


def test_9_audio_pause_not_extended_and_reminder_does_not_end_it() -> None:
    engine = BedAlarms("b", [hr_high(reminder_s=60, escalate_after_s=None)])
    feed(engine, "HR", [130] * 2)
    engine.acknowledge(T0 + 2, "nurse")
    assert engine.pause_audio(T0 + 10) == T0 + 130
    assert engine.pause_audio(T0 + 100) == T0 + 130  # a second press never extends it
    (remind,) = engine.tick(T0 + 62)
    assert remind.state is AlarmPhase.REMINDER
    assert engine.sounding(T0 + 63) is None and engine.pause_remaining(T0 + 63) == 67
