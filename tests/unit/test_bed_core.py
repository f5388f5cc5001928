"""BedCore on its own: no database, no thread, no device, no clock. Time is a number passed in."""

from __future__ import annotations

import pytest

from monitor.alarms.restore import fold_alarm_log
from monitor.config import AlarmsConfig
from monitor.domain.bed import BedCore
from monitor.domain.events import PhaseChanged, PumpRate, SessionClosed, SessionOpened
from monitor.feed import CommandError
from monitor.model import AlarmPhase, AlarmTransition, DeviceEvent, Reading, SessionInfo
from monitor.session import SessionEvent
from tests.helpers import MINIMAL_RULES, PLAN

T0 = 1_767_225_600.0
INTERVALS = {"HR": 1.0, "SPO2": 1.0, "NIBP_SYS": 180.0}


def _core() -> BedCore:
    return BedCore("b1", "Bed 1", INTERVALS, AlarmsConfig(rules=MINIMAL_RULES), now=T0)


def _open(core: BedCore, now: float, weight: float = 80.0) -> SessionInfo:
    plan = core.check_plan(PLAN | {"weight_kg": weight})
    info = SessionInfo(7, "b1", "live", now, None, weight, 0.75, "pre-infusion", "K-0042")
    core.open_session(info, [SessionEvent(now, "session_created", "nurse", plan)], now)
    return info


def test_a_reading_comes_out_as_events_in_order() -> None:
    core = _core()
    assert core.accept(Reading("b1", T0 + 1, "SPO2", 80, "%"), T0 + 1) is None
    events = core.take()
    assert isinstance(events[-1], Reading) and events[-1].value == 80
    raised = [e for e in events if isinstance(e, AlarmTransition)]
    assert [(e.name, e.state) for e in raised] == [
        ("SPO2_DESAT", AlarmPhase.PENDING),
        ("SPO2_DESAT", AlarmPhase.ACTIVE),  # no delay in the minimal rules
    ]
    assert core.take() == []  # taken once


def test_a_bad_reading_is_refused_with_its_reason_and_emits_nothing() -> None:
    core = _core()
    assert core.accept(Reading("b1", T0, "SPO2", 140, "%"), T0) == (
        "outside plausible range 0-100 %"
    )
    assert core.accept(Reading("b1", T0, "HR", 70, "bpm"), T0) == "unit 'bpm' is not '/min'"
    assert core.take() == []
    assert core.rejected["SPO2: outside plausible range 0-100 %"] == 1


def test_silence_is_a_technical_alarm_on_the_time_given() -> None:
    core = _core()
    core.accept(Reading("b1", T0, "HR", 70, "/min"), T0)
    core.take()
    core.tick(T0 + 1.5)
    assert core.take() == []  # within twice the 1-s interval
    core.tick(T0 + 2.5)
    lost = [e for e in core.take() if isinstance(e, AlarmTransition)]
    assert ("TECH_NO_DATA", AlarmPhase.ACTIVE) in [(e.name, e.state) for e in lost]


def test_a_refused_start_is_logged_before_it_is_refused() -> None:
    core = _core()
    _open(core, T0)
    core.take()
    with pytest.raises(CommandError, match="hold"):
        core.start_infusion("nurse", "", [], "nurse", T0 + 60)
    (held,) = core.take()
    assert isinstance(held, SessionEvent) and held.kind == "hold_start"
    assert held.payload["reasons"]  # missing data is a reason to hold, never a pass


def test_the_pump_is_told_through_events_not_calls() -> None:
    core = _core()
    _open(core, T0, weight=80)
    core.take()
    core.start_infusion("dr-a", "test set-up", [], "physician", T0 + 60)
    events = core.take()
    kinds = [e.kind for e in events if isinstance(e, SessionEvent)]
    assert kinds == ["override", "infusion_start"]
    assert PhaseChanged(T0 + 60, "infusing") in events
    assert PumpRate(T0 + 60, 0.75 * 80) in events
    core.pause_infusion("nurse", T0 + 120)
    assert PumpRate(T0 + 120, 0.0) in core.take()


def test_a_pump_running_off_the_charted_rate_for_60_s_is_a_medium_alarm() -> None:
    core = _core()
    _open(core, T0, weight=80)  # 0.75 mg/kg/h at 10 mg/mL: 6 mL/h charted
    core.start_infusion("dr-a", "test set-up", [], "physician", T0)
    core.take()
    charted = core.state.rate_ml_h

    def pump(t: float, rate_ml_h: float) -> list[str]:
        core.accept(Reading("b1", t, "HR", 70, "/min"), t)  # the monitor's feed goes on
        core.device_event(DeviceEvent("b1", t, "pump", {"rate_ml_h": rate_ml_h}), t)
        core.tick(t)
        return [f"{e.name} {e.state}" for e in core.take()
                if isinstance(e, AlarmTransition) and e.name.startswith("DOSE_PUMP")]  # fmt: skip

    assert pump(T0 + 1, charted * 1.05) == []  # within 10 %
    raised = {s: pump(T0 + s, charted * 1.2) for s in range(2, 70)}  # 20 % fast
    assert [s for s, r in raised.items() if r] == [62]  # after 60 s of it, not before
    assert raised[62] == ["DOSE_PUMP_RATE_MISMATCH pending", "DOSE_PUMP_RATE_MISMATCH active"]
    (alarm,) = [a for a in core.alarms.active() if a.name == "DOSE_PUMP_RATE_MISMATCH"]
    assert alarm.priority.name == "MEDIUM" and alarm.onset_value == pytest.approx(charted * 1.2)
    assert alarm.limit == pytest.approx(charted)  # beside the charted rate
    assert pump(T0 + 70, charted) == ["DOSE_PUMP_RATE_MISMATCH cleared"]  # back in step
    core.pause_infusion("nurse", T0 + 71)  # paused on the chart, the pump still running
    raised = {s: pump(T0 + s, charted) for s in range(72, 140)}
    assert [s for s, r in raised.items() if r] == [132]


def test_closing_ends_the_patients_alarms_then_closes_the_record() -> None:
    core = _core()
    info = _open(core, T0)
    core.assess({"RASS": 0, "CADSS6_ITEMS": [0] * 6, "PAIN_NRS": 5}, "nurse", T0 + 10)
    core.take()
    with pytest.raises(CommandError, match="needs a reason"):
        core.close_session("nurse", "", T0 + 20)
    closed = core.close_session("nurse", "cancelled", T0 + 20)
    events = core.take()
    assert isinstance(events[-2], SessionClosed) and events[-2].info == closed
    assert closed.id == info.id and closed.ended_at == T0 + 20
    assert core.session is None and core.phase == "no session"


def test_a_resumed_session_restarts_the_pump_at_its_rate() -> None:
    core = _core()
    info = SessionInfo(3, "b1", "live", T0, None, 60.0, 0.5, "infusing")
    logged = [
        SessionEvent(T0, "session_created", "n", PLAN | {"weight_kg": 60.0}),
        SessionEvent(T0 + 5, "infusion_start", "n", {"rate_mg_kg_h": 0.5}),
        SessionEvent(T0 + 9, "rate_change", "n", {"rate_mg_kg_h": 0.3}),
    ]
    core.resume(info, logged, [], fold_alarm_log([]), T0 + 100)
    events = core.take()
    assert SessionOpened(info, resumed=True) in events
    assert PumpRate(T0 + 100, 0.3 * 60.0) in events


def test_the_alarm_log_folds_to_the_state_it_left() -> None:
    def tr(t: float, phase: str, name: str, user: str = "system") -> tuple:
        payload = {"alarm": name, "signal": "SPO2", "priority": "HIGH", "op": "<"}
        return (t, f"alarm_{phase}", user, payload)

    log = [
        tr(1, "active", "SPO2_DESAT"),
        tr(2, "acknowledged", "SPO2_DESAT", "nurse-a"),
        tr(3, "active", "HR_VERY_HIGH"),
        tr(4, "latched", "HR_VERY_HIGH"),
        tr(5, "active", "X_GONE"),
        tr(6, "cleared", "X_GONE"),
        (7, "audio_pause", "nurse-a", {"until": 127.0, "seconds": 120.0}),
    ]
    folded = fold_alarm_log(log)
    assert folded.paused_until == 127.0
    assert {n: (a.state, a.acked_by) for n, a in folded.alarms.items()} == {
        "SPO2_DESAT": (AlarmPhase.ACKNOWLEDGED, "nurse-a"),
        "HR_VERY_HIGH": (AlarmPhase.LATCHED, None),
    }
    core = _core()
    core.resume(None, [], [], folded, 10.0)
    shown = {a.name: (str(a.display), a.acked_by) for a in core.active_alarms()}
    assert shown == {
        "SPO2_DESAT": ("acknowledged", "nurse-a"),
        "HR_VERY_HIGH": ("latched", None),
    }
    assert core.alarms.pause_remaining(10.0) == 117.0


def test_with_the_dose_from_the_pump_its_rate_is_charted_and_the_guard_still_watches() -> None:
    from monitor.session_config import PumpRules, SessionConfig

    session = SessionConfig(pump=PumpRules(dose_from="pump"))
    core = BedCore("b1", "Bed 1", INTERVALS, AlarmsConfig(rules=MINIMAL_RULES), session, T0)
    _open(core, T0, weight=80)  # 0.75 mg/kg/h at 10 mg/mL: 6 mL/h
    core.device_event(DeviceEvent("b1", T0, "pump", {"rate_ml_h": 4.0}), T0)
    core.take()
    assert core.state.rate_mg_kg_h == 0.75  # before the start nothing is charted from it
    core.start_infusion("dr-a", "test set-up", [], "physician", T0 + 10)
    core.device_event(DeviceEvent("b1", T0 + 20, "pump", {"rate_ml_h": 6.0}), T0 + 20)
    steps = [e.kind for e in core.take() if isinstance(e, SessionEvent)]
    assert steps == ["override", "infusion_start", "device_pump"]  # same rate: no step
    core.device_event(DeviceEvent("b1", T0 + 25, "pump", {"rate_ml_h": 6.0}), T0 + 25)
    assert core.take() == []  # the log keeps the pump's changes, not every report
    core.device_event(DeviceEvent("b1", T0 + 30, "pump", {"rate_ml_h": 4.0}), T0 + 30)
    (step,) = [e for e in core.take() if isinstance(e, SessionEvent) and e.kind == "rate_change"]
    assert (step.user, step.payload) == ("pump", {"rate_mg_kg_h": 0.5, "rate_ml_h": 4.0})
    core.tick(T0 + 3630)  # dose: 20 s at 0.75, then the pump's 0.5 mg/kg/h
    assert core.state.dose_mg_kg(T0 + 3630) == pytest.approx((20 * 0.75 + 3600 * 0.5) / 3600)
    assert "DOSE_PUMP_RATE_MISMATCH" not in {a.name for a in core.alarms.active()}
    # 12 mL/h = 1.5 mg/kg/h: charted as it runs, and above the 1.0 mg/kg/h guard at once
    core.device_event(DeviceEvent("b1", T0 + 3640, "pump", {"rate_ml_h": 12.0}), T0 + 3640)
    core.tick(T0 + 3640)
    (above,) = [a for a in core.alarms.active() if a.name == "DOSE_PUMP_RATE_ABOVE_MAX"]
    assert above.priority.name == "MEDIUM" and above.limit == 1.0
    assert core.state.rate_mg_kg_h == 1.5
    # the pump falls silent: the dose would rest on a stale rate, so that is an alarm
    core.tick(T0 + 3640 + 30)
    assert "TECH_PUMP_NO_DATA" not in {a.name for a in core.alarms.active()}
    core.tick(T0 + 3640 + 31)
    (silent,) = [a for a in core.alarms.active() if a.name == "TECH_PUMP_NO_DATA"]
    assert silent.technical
    core.device_event(DeviceEvent("b1", T0 + 3680, "pump", {"rate_ml_h": 12.0}), T0 + 3680)
    core.tick(T0 + 3680)
    assert "TECH_PUMP_NO_DATA" not in {a.name for a in core.alarms.active()}
