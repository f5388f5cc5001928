"""The infusion session: dose, gates, assessments and the log, in simulated time."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.clock import ManualClock
from monitor.config import AlarmRule, AlarmsConfig, BedConfig, SimulatorDevice
from monitor.feed import CommandError
from monitor.runtime.bed import BedRuntime
from monitor.session import Phase, SessionError, SessionEvent, fold, validate_assessment
from monitor.storage.sqlite import SessionStore
from tests.helpers import (
    PLAN,
    PRE_INFUSION_TICKED,
    QuietDevice,
    ready_to_start,
    resting_vitals,
    start_ready,
)

MIN = 60.0


RULES = AlarmsConfig(
    rules=[
        AlarmRule(name="CADSS6_HIGH", signal="CADSS6", op=">=", limit=12, priority="MEDIUM"),
        AlarmRule(name="RASS_AGITATION", signal="RASS", op=">=", limit=3, priority="HIGH"),
    ]
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def hub(tmp_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    store = SessionStore(tmp_path / "s.db")
    bed = BedConfig(id="chair-1", name="Chair 1", device=SimulatorDevice(kind="simulator"))
    yield BedRuntime(bed, QuietDevice("simulated"), store, clock, RULES)
    store.close()


# -- dose ----------------------------------------------------------------------------------


def test_dose_with_rate_changes_pauses_and_boluses(hub: BedRuntime, clock: ManualClock) -> None:
    hub.create_session(PLAN, "nurse")
    start_ready(hub, clock)  # 0.75 mg/kg/h x 80 kg = 60 mg/h
    clock.advance(20 * MIN)
    hub.change_rate(0.5, "nurse")  # 40 mg/h
    clock.advance(12 * MIN)
    hub.pause_infusion("nurse")
    clock.advance(10 * MIN)  # paused: nothing given
    hub.give("bolus", "dr", mg_per_kg=0.1, override_reason="top-up", role="physician")  # 8 mg
    hub.resume_infusion("nurse")
    clock.advance(6 * MIN)
    view = hub.session_view()
    assert view is not None
    # 20 mg + 8 mg + 8 mg + 4 mg
    assert view.dose_mg == pytest.approx(40.0)
    assert view.dose_mg_kg == pytest.approx(0.5)
    assert view.rate_mg_kg_h == 0.5 and view.rate_ml_h == pytest.approx(4.0)
    hub.stop_infusion("nurse")
    clock.advance(30 * MIN)
    assert hub.session_view().dose_mg == pytest.approx(40.0)  # type: ignore[union-attr]
    mg_h = [r * 80 for r in (0.75, 0.5, 0.0, 0.5, 0.0)]  # the pump at 80 kg
    assert hub.device.rates == mg_h  # type: ignore[attr-defined]


def test_pk_estimate_follows_the_events(hub: BedRuntime, clock: ManualClock) -> None:
    hub.create_session(PLAN, "nurse")
    start_ready(hub, clock)
    clock.advance(40 * MIN)
    view = hub.session_view()
    assert view is not None and view.cp_ng_ml == pytest.approx(177, rel=0.02)


# -- gates ---------------------------------------------------------------------------------


def test_baseline_needs_two_resting_cuffs(hub: BedRuntime, clock: ManualClock) -> None:
    hub.create_session(PLAN, "nurse")
    resting_vitals(hub, clock.now(), sbp=124, rr=None)  # no respiration measured
    with pytest.raises(CommandError, match="at least 2 resting cuff readings; 1 so far"):
        hub.confirm_baseline("nurse")
    clock.advance(3 * MIN)
    resting_vitals(hub, clock.now(), sbp=130, rr=None)
    with pytest.raises(CommandError, match="a baseline needs RR seen in the window"):
        hub.confirm_baseline("nurse")
    resting_vitals(hub, clock.now() + 1, sbp=130)
    assert hub.confirm_baseline("nurse")["NIBP_SYS"] == 128


def test_hold_start_and_override_are_recorded(hub: BedRuntime, clock: ManualClock) -> None:
    session = hub.create_session(PLAN, "nurse")
    ready_to_start(hub, clock, sbp=186)
    ticked = PRE_INFUSION_TICKED
    with pytest.raises(CommandError, match=r"hold: NIBP_SYS 186 >= 180"):
        hub.start_infusion("nurse", ticked=ticked)
    assert hub.session_view().phase is Phase.PRE_INFUSION  # type: ignore[union-attr]
    with pytest.raises(CommandError, match=r"only a physician may override \(role: nurse\)"):
        hub.start_infusion("nurse", "I know", ticked)
    hub.start_infusion("dr-b", "white-coat, repeat 178", ticked, role="physician")
    events = [(e.kind, e.user) for e in hub.store.events(session.id)]
    assert events[-4:] == [
        ("hold_start", "nurse"),
        ("hold_start", "nurse"),
        ("override", "dr-b"),
        ("infusion_start", "dr-b"),
    ]
    override = hub.store.events(session.id)[-2].payload
    assert override == {
        "command": "hold",
        "reasons": ["NIBP_SYS 186 >= 180"],
        "reason": "white-coat, repeat 178",
        "role": "physician",
    }


def test_rass_not_zero_holds_the_start(hub: BedRuntime, clock: ManualClock) -> None:
    hub.create_session(PLAN, "nurse")
    ready_to_start(hub, clock)
    hub.assess({"RASS": 1}, "nurse")
    with pytest.raises(CommandError, match="RASS 1 != 0"):
        hub.start_infusion("nurse", ticked=PRE_INFUSION_TICKED)


def test_discharge_checklist_is_computed_from_fresh_data(
    hub: BedRuntime, clock: ManualClock
) -> None:
    hub.create_session(PLAN, "nurse")
    ready_to_start(hub, clock, sbp=122)
    hub.start_infusion("nurse", ticked=PRE_INFUSION_TICKED)
    clock.advance(40 * MIN)
    hub.assess({"RASS": 1, "CADSS6_ITEMS": [2, 2, 2, 2, 2, 2]}, "nurse")
    clock.advance(MIN)
    hub.stop_infusion("nurse")
    clock.advance(10 * MIN)
    resting_vitals(hub, clock.now(), sbp=165)
    items = {i.key: i for i in hub.checklist()}
    assert {k: items[k].ok for k in ("rass", "cadss", "sbp", "hr", "recovery")} == {
        "rass": False,
        "cadss": False,
        "sbp": False,
        "hr": True,
        "recovery": False,
    }
    assert items["sbp"].detail == "SBP 165, baseline 122"
    assert items["rass"].detail == "no RASS since the stop"  # the one before does not count
    with pytest.raises(CommandError, match=r"not yet: .*RASS 0 after the stop"):
        hub.discharge(["ambulating", "nausea", "escort"], "nurse")
    hub.assess({"RASS": 0, "CADSS6_ITEMS": [0, 1, 0, 0, 0, 0]}, "nurse")
    clock.advance(15 * MIN)
    resting_vitals(hub, clock.now(), sbp=130)
    with pytest.raises(CommandError, match=r"not yet: Minimum recovery time \(25 of 30 min\)"):
        hub.discharge(["ambulating", "nausea", "escort"], "nurse")
    clock.advance(5 * MIN)
    resting_vitals(hub, clock.now(), sbp=130)
    with pytest.raises(CommandError, match="not yet: Walks steadily"):
        hub.discharge(["nausea", "escort"], "nurse")
    hub.discharge(["ambulating", "nausea", "escort"], "nurse")
    assert hub.session_view().phase is Phase.DISCHARGED  # type: ignore[union-attr]


def test_every_step_is_logged_in_order_with_user_and_time(
    hub: BedRuntime, clock: ManualClock
) -> None:
    s = hub.create_session(PLAN, "nurse-a")
    ready_to_start(hub, clock)
    for step in (
        lambda: hub.start_infusion("nurse-a", ticked=PRE_INFUSION_TICKED),
        lambda: hub.change_rate(0.6, "nurse-b"),
        lambda: hub.give("medication", "nurse-b", drug="ondansetron", dose="4 mg IV"),
        lambda: hub.pause_infusion("nurse-b"),
        lambda: hub.resume_infusion("nurse-b"),
        lambda: hub.stop_infusion("nurse-a"),
    ):
        clock.advance(MIN)
        step()
    clock.advance(MIN)
    with pytest.raises(CommandError, match="needs a reason"):
        hub.close_session("nurse-a")
    hub.close_session("nurse-a", "patient left against advice")
    log = [e for e in hub.store.events(s.id) if e.kind not in ("assessment", "baseline_confirmed")]
    assert [e.kind for e in log] == [
        "session_created",
        "infusion_start",
        "rate_change",
        "medication",
        "infusion_pause",
        "infusion_resume",
        "infusion_stop",
        "session_closed",
    ]
    assert [e.t for e in log] == sorted(e.t for e in log)
    assert log[3].payload == {"drug": "ondansetron", "dose": "4 mg IV"}
    assert log[2].user == "nurse-b" and log[-1].payload == {"reason": "patient left against advice"}


def test_state_is_rebuilt_from_the_log(hub: BedRuntime, clock: ManualClock, tmp_path: Path) -> None:
    s = hub.create_session(PLAN, "nurse")
    start_ready(hub, clock)
    clock.advance(10 * MIN)
    hub.change_rate(0.5, "nurse")
    clock.advance(10 * MIN)
    events = [SessionEvent(e.t, e.kind, e.user, e.payload) for e in hub.store.events(s.id)]
    state = fold(events)
    assert state.phase is Phase.INFUSING and state.rate_mg_kg_h == 0.5
    assert state.dose_mg(clock.now()) == pytest.approx(10 + 80 * 0.5 / 6)
    assert state.planned_duration_min == 40 and state.concentration_mg_ml == 10
    # a restarted station
    again = BedRuntime(hub.config, QuietDevice("simulated"), hub.store, clock, RULES)
    assert again.session_view().dose_mg == hub.session_view().dose_mg  # type: ignore[union-attr]
    assert again.device.rates == [0.5 * 80]  # type: ignore[attr-defined]


def test_bad_plans_and_out_of_order_steps(hub: BedRuntime) -> None:
    with pytest.raises(CommandError, match="weight: 2 is outside 20 to 300 kg"):
        hub.create_session(PLAN | {"weight_kg": 2}, "nurse")
    with pytest.raises(CommandError, match="concentration: 0 is outside 0.1 to 100 mg/mL"):
        hub.create_session(PLAN | {"concentration_mg_ml": 0}, "nurse")
    with pytest.raises(CommandError, match=r"concentration: required \(0.1 to 100 mg/mL\)"):
        hub.create_session(PLAN | {"concentration_mg_ml": None}, "nurse")
    with pytest.raises(CommandError, match="plan: give a duration"):
        hub.create_session(PLAN | {"planned_duration_min": ""}, "nurse")
    with pytest.raises(CommandError, match="indication must be one of"):
        hub.create_session(PLAN | {"indication": "<script>"}, "nurse")
    hub.create_session(PLAN, "nurse")
    with pytest.raises(CommandError, match="the session is pre-infusion, not infusing"):
        hub.pause_infusion("nurse")
    with pytest.raises(CommandError, match="bolus: 5 is outside 0.01 to 0.5 mg/kg"):
        hub.give("bolus", "dr", mg_per_kg=5)


# -- assessments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"RASS": 5}, "RASS: a whole number from -5 to 4"),
        ({"RASS": -6}, "RASS: a whole number from -5 to 4"),
        ({"MOAA_S": 6}, "MOAA_S: a whole number from 0 to 5"),
        ({"NAUSEA": 1.5}, "NAUSEA: a whole number from 0 to 3"),
        ({"PAIN_NRS": "ten"}, "PAIN_NRS: not a number"),
        ({"CADSS6_ITEMS": [1, 2, 3]}, "CADSS6: score all six items"),
        ({"CADSS6_ITEMS": [1, 2, 3, 4, 5, 0]}, "CADSS6 item 5: a whole number from 0 to 4"),
        ({"note": "x"}, "enter at least one score"),
        ({"RASS": 0, "note": "y" * 2001}, "note: at most 2000 characters"),
    ],
)
def test_scales_are_validated(raw: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(SessionError, match=message.replace("(", r"\(")):
        validate_assessment(raw)


def test_cadss6_is_the_sum_and_notes_stay_text() -> None:
    scores, note = validate_assessment(
        {"RASS": "0", "CADSS6_ITEMS": ["1", 2, 0, 4, 3, 2], "note": "<b>felt</b> floaty"}
    )
    assert scores == {"RASS": 0, "CADSS6": 12} and note == "<b>felt</b> floaty"


def test_score_alarms_fire_through_the_engine(hub: BedRuntime, clock: ManualClock) -> None:
    hub.create_session(PLAN, "nurse")
    start_ready(hub, clock)
    hub.assess({"CADSS6_ITEMS": [2, 2, 2, 2, 2, 2], "RASS": 3}, "nurse")
    alarms = {a.name: a.priority.name for a in hub.active_alarms()}
    assert alarms == {"RASS_AGITATION": "HIGH", "CADSS6_HIGH": "MEDIUM"}
    hub.assess({"CADSS6_ITEMS": [1, 1, 1, 1, 1, 1], "RASS": 0}, "nurse")
    shown = {a.name: str(a.display) for a in hub.active_alarms()}
    assert shown == {"RASS_AGITATION": "latched"}  # HIGH latches; the MEDIUM has cleared


def test_assessment_due_and_overdue_in_simulated_time(hub: BedRuntime, clock: ManualClock) -> None:
    hub.create_session(PLAN, "nurse")
    ready_to_start(hub, clock)
    start = clock.now()
    hub.start_infusion("nurse", ticked=PRE_INFUSION_TICKED)
    assert hub.session_view().assessment_due == start + 15 * MIN  # type: ignore[union-attr]
    clock.advance(15 * MIN + 4 * MIN + 59)
    hub.check_feed()
    assert "ASSESSMENT_OVERDUE" not in {a.name for a in hub.active_alarms()}
    clock.advance(1)
    hub.check_feed()
    (overdue,) = [a for a in hub.active_alarms() if a.name == "ASSESSMENT_OVERDUE"]
    assert overdue.priority.name == "LOW" and not overdue.technical
    clock.advance(5 * MIN)
    hub.check_feed()
    (overdue,) = [a for a in hub.active_alarms() if a.name == "ASSESSMENT_OVERDUE"]
    assert overdue.priority.name == "MEDIUM"  # escalated
    hub.assess({"RASS": 0}, "nurse")
    hub.check_feed()
    assert "ASSESSMENT_OVERDUE" not in {a.name for a in hub.active_alarms()}
    # next: the expected peak at 40 min, then every 15 min
    assert hub.session_view().assessment_due == start + 30 * MIN  # type: ignore[union-attr]


def test_bolus_before_the_infusion_is_in_the_estimate(hub: BedRuntime, clock: ManualClock) -> None:
    hub.create_session(PLAN, "nurse")
    with pytest.raises(CommandError, match="bolus: no infusion running"):
        hub.give("bolus", "dr", mg_per_kg=0.3, role="physician")
    hub.give("bolus", "dr", mg_per_kg=0.3, override_reason="loading dose", role="physician")
    clock.advance(1 * MIN)
    early = hub.session_view().cp_ng_ml  # type: ignore[union-attr]
    clock.advance(30 * MIN)
    later = hub.session_view()
    assert later is not None and later.cp_ng_ml < early  # redistributing, not frozen
    assert later.ce_ng_ml > 0


def test_closing_ends_the_patients_score_alarms_and_limit_changes(
    hub: BedRuntime, clock: ManualClock
) -> None:
    hub.create_session(PLAN, "nurse")
    start_ready(hub, clock)
    hub.assess({"CADSS6_ITEMS": [2, 2, 2, 2, 2, 2]}, "nurse")
    assert [a.name for a in hub.active_alarms()] == ["CADSS6_HIGH"]
    hub.change_limit("CADSS6_HIGH", 16, "dr", "known high dissociator")
    again = BedRuntime(
        hub.config, QuietDevice("simulated"), hub.store, clock, RULES
    )  # restart keeps the change
    assert again.limits()["CADSS6_HIGH"] == "CADSS6 >= 16"
    hub.close_session("nurse", "cancelled")
    assert hub.active_alarms() == []
    assert hub.limits()["CADSS6_HIGH"] == "CADSS6 >= 12"  # the next patient gets the config
