"""A bed at run time: validation, alarms, the session log, the journal, nurse commands."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest

from monitor.clock import ManualClock
from monitor.config import AlarmRule, AlarmsConfig, BedConfig, SimulatorDevice
from monitor.feed import CommandError
from monitor.model import Reading
from monitor.runtime.bed import BedRuntime
from monitor.runtime.ward import Ward
from monitor.storage.sqlite import SessionStore
from tests.helpers import PLAN, QuietDevice, start_by_override

BED = BedConfig(id="chair-1", name="Chair 1", device=SimulatorDevice(kind="simulator"))
RULES = AlarmsConfig(
    rules=[
        AlarmRule(name="SPO2_DESAT", signal="SPO2", op="<", limit=85, priority="HIGH", delay_s=2)
    ]
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = SessionStore(tmp_path / "s.db")
    yield s
    s.close()


@pytest.fixture
def hub(store: SessionStore, clock: ManualClock) -> BedRuntime:
    return BedRuntime(BED, QuietDevice(), store, clock, RULES)


def _r(clock: ManualClock, signal: str, value: float, unit: str) -> Reading:
    return Reading("chair-1", clock.now(), signal, value, unit)


def test_range_validation_counts_rejects_with_reasons(hub: BedRuntime, clock: ManualClock) -> None:
    assert hub.ingest(_r(clock, "HR", 72, "/min"))
    assert not hub.ingest(_r(clock, "SPO2", 140, "%"))
    assert not hub.ingest(_r(clock, "SPO2", 101, "%"))
    assert not hub.ingest(_r(clock, "HR", math.nan, "/min"))
    assert not hub.ingest(_r(clock, "TEMP", 98.6, "°F"))
    assert not hub.ingest(_r(clock, "GLUCOSE", 5, "mmol/L"))
    assert hub.rejected == {
        "SPO2: outside plausible range 0-100 %": 2,
        "HR: not a finite number": 1,
        "TEMP: unit '°F' is not '°C'": 1,
        "GLUCOSE: unknown signal": 1,
    }
    readings, _ = hub.since(0)
    assert [(r.signal, r.value) for r in readings] == [("HR", 72)]


def test_rejected_values_never_alarm(hub: BedRuntime, clock: ManualClock) -> None:
    for _ in range(5):
        hub.ingest(_r(clock, "SPO2", -5, "%"))
        clock.advance(1)
    assert hub.active_alarms() == []


def test_cursor_returns_only_new_readings(hub: BedRuntime, clock: ManualClock) -> None:
    for v in (70, 71, 72):
        hub.ingest(_r(clock, "HR", v, "/min"))
        clock.advance(1)
    first, cursor = hub.since(0)
    assert [r.value for r in first] == [70, 71, 72]
    assert hub.since(cursor) == ([], cursor)
    hub.ingest(_r(clock, "HR", 73, "/min"))
    new, cursor2 = hub.since(cursor)
    assert [r.value for r in new] == [73] and cursor2 == cursor + 1


def test_live_buffer_is_bounded(store: SessionStore, clock: ManualClock) -> None:
    hub = BedRuntime(BED, QuietDevice(), store, clock, RULES, capacity=100)
    for i in range(1000):
        hub.ingest(_r(clock, "HR", 60 + i % 30, "/min"))
        clock.advance(1)
    readings, cursor = hub.since(0)
    assert len(readings) == 100 and cursor == 1000


def test_readings_are_stored_only_during_a_session(
    hub: BedRuntime, store: SessionStore, clock: ManualClock
) -> None:
    hub.ingest(_r(clock, "HR", 70, "/min"))
    session = start_by_override(hub, 70, 0.75, "nurse")
    clock.advance(1)
    hub.ingest(_r(clock, "HR", 71, "/min"))
    store.flush()
    assert [v for _, _, v in store.readings(session.id)] == [71]
    assert hub.device.rates == [0.75 * 70]  # mg/h for 70 kg  # type: ignore[attr-defined]
    hub.stop_session("nurse")
    assert hub.device.rates == [0.75 * 70, 0.0]  # type: ignore[attr-defined]
    clock.advance(1)
    hub.ingest(_r(clock, "HR", 72, "/min"))
    store.flush()
    assert [v for _, _, v in store.readings(session.id)] == [71]


def test_alarm_goes_to_the_log_with_its_session(
    hub: BedRuntime, store: SessionStore, clock: ManualClock
) -> None:
    session = start_by_override(hub, 70, 0.75, "nurse")
    for _ in range(4):
        hub.ingest(_r(clock, "SPO2", 80, "%"))
        clock.advance(1)
    assert [a.name for a in hub.active_alarms()] == ["SPO2_DESAT"]
    store.flush()
    (row,) = store.alarms("chair-1")
    assert row.session_id == session.id and row.end_t is None


def test_nurse_command_errors_are_one_line(hub: BedRuntime) -> None:
    with pytest.raises(CommandError, match="weight: 5 is outside 20 to 300 kg"):
        hub.create_session(PLAN | {"weight_kg": 5}, "nurse")
    with pytest.raises(CommandError, match="rate: 9 is outside 0.01 to 2 mg/kg/h"):
        hub.create_session(PLAN | {"planned_rate_mg_kg_h": 9}, "nurse")
    with pytest.raises(CommandError, match="no session running"):
        hub.stop_session("nurse")
    hub.create_session(PLAN, "nurse")
    with pytest.raises(CommandError, match="already has a session running"):
        hub.create_session(PLAN, "nurse")


def test_restart_resumes_the_open_session(store: SessionStore, clock: ManualClock) -> None:
    first = BedRuntime(BED, QuietDevice(), store, clock, RULES)
    session = start_by_override(first, 70, 0.5, "nurse")
    for v in (70, 71):
        first.ingest(_r(clock, "HR", v, "/min"))
        clock.advance(1)
    store.flush()
    device = QuietDevice()
    second = BedRuntime(BED, device, store, clock, RULES)
    assert second.session is not None and second.session.id == session.id
    assert [r.value for r in second.since(0)[0]] == [70, 71]
    assert second.info.epoch != first.info.epoch
    assert device.rates == [0.5 * 70]


def test_ward_rejects_unknown_bed(hub: BedRuntime, clock: ManualClock) -> None:
    ward = Ward([hub], clock)
    assert [b.id for b in ward.beds()] == ["chair-1"]
    with pytest.raises(CommandError, match="no bed 'chair-9'"):
        ward.snapshot("chair-9")


def test_operator_actions_are_logged_with_user_and_reason(
    hub: BedRuntime, store: SessionStore, clock: ManualClock
) -> None:
    session = start_by_override(hub, 70, 0.75, "nurse-a")
    for _ in range(4):
        hub.ingest(_r(clock, "SPO2", 80, "%"))
        clock.advance(1)
    assert hub.snapshot().sounding == "HIGH"
    assert hub.acknowledge("nurse-a") == 1
    assert hub.snapshot().sounding is None
    assert hub.pause_audio("nurse-a") == 120
    assert hub.snapshot().pause_remaining_s == 120
    with pytest.raises(CommandError, match="needs a reason"):
        hub.change_limit("SPO2_DESAT", 88, "dr-b", "  ")
    with pytest.raises(CommandError, match="no alarm 'HR_NOPE'"):
        hub.change_limit("HR_NOPE", 88, "dr-b", "why")
    assert hub.change_limit("SPO2_DESAT", 82, "dr-b", "COPD, baseline 88 %") == 85
    store.flush()
    events = {e.kind: e for e in store.events(session.id)}
    assert events["alarm_acknowledged"].user == "nurse-a"
    assert events["audio_pause"].payload["seconds"] == 120
    assert events["limit_change"].user == "dr-b"
    assert events["limit_change"].payload == {
        "alarm": "SPO2_DESAT",
        "old": 85,
        "new": 82,
        "reason": "COPD, baseline 88 %",
    }


def test_sensor_that_stops_reading_raises_a_low_technical_alarm(
    hub: BedRuntime, clock: ManualClock
) -> None:
    from monitor.model import DeviceEvent

    never = DeviceEvent(
        "chair-1", clock.now(), "signal_status", {"signal": "ART_SYS", "status": "absent"}
    )
    hub.device_event(never)  # a module that never measured is not an alarm
    assert hub.active_alarms() == []
    hub.ingest(_r(clock, "SPO2", 97, "%"))
    clock.advance(1)
    hub.device_event(
        DeviceEvent("chair-1", clock.now(), "signal_status", {"signal": "SPO2", "status": "absent"})
    )
    (alarm,) = hub.active_alarms()
    assert (alarm.name, alarm.priority.name, alarm.technical) == ("TECH_SPO2_INVALID", "LOW", True)
    assert hub.snapshot().status == {"ART_SYS": "absent", "SPO2": "absent"}
    clock.advance(31)
    hub.check_feed()
    assert {a.name: a.priority.name for a in hub.active_alarms()}["TECH_SPO2_INVALID"] == (
        "MEDIUM"
    )  # escalated after 30 s
    hub.device_event(
        DeviceEvent("chair-1", clock.now(), "signal_status", {"signal": "SPO2", "status": "valid"})
    )
    assert "TECH_SPO2_INVALID" not in {a.name for a in hub.active_alarms()}


def test_store_write_failure_is_a_technical_alarm(
    hub: BedRuntime, store: SessionStore, clock: ManualClock
) -> None:
    start_by_override(hub, 70, 0.75, "nurse")
    hub.ingest(_r(clock, "HR", 70, "/min"))
    store._db.execute("PRAGMA query_only = ON")
    store.flush()
    hub.check_feed()
    assert "TECH_STORE_WRITE" in {a.name for a in hub.active_alarms()}
    store._db.execute("PRAGMA query_only = OFF")
    store.flush()  # the kept batch is written: nothing lost
    hub.check_feed()
    assert "TECH_STORE_WRITE" not in {a.name for a in hub.active_alarms()}
    assert [v for _, _, v in store.readings(hub.session.id)] == [70]  # type: ignore[union-attr]


def test_silent_feed_raises_and_clears_tech_no_data(hub: BedRuntime, clock: ManualClock) -> None:
    hub.ingest(_r(clock, "HR", 70, "/min"))
    clock.advance(2.0)
    hub.check_feed()
    assert hub.active_alarms() == []  # exactly 2x the 1 s interval is still fine
    clock.advance(0.5)
    hub.check_feed()
    assert [a.name for a in hub.active_alarms()] == ["TECH_NO_DATA"]
    hub.ingest(_r(clock, "HR", 71, "/min"))
    assert hub.active_alarms() == []


def test_delta_carries_readings_alarms_and_steps_from_a_cursor(
    hub: BedRuntime, clock: ManualClock
) -> None:
    start = hub.delta(0).cursor
    hub.ingest(_r(clock, "SPO2", 80, "%"))  # below the HIGH limit: an alarm transition
    hub.acknowledge("nurse-a")
    delta = hub.delta(start)
    assert [r.value for r in delta.readings] == [80]
    assert "SPO2_DESAT" in {tr.name for tr in delta.alarms}
    assert delta.lost == 0 and delta.cursor > start
    assert hub.delta(delta.cursor).readings == []


def test_wait_wakes_on_a_new_event_and_times_out_without_one(
    hub: BedRuntime, clock: ManualClock
) -> None:
    cursor = hub.delta(0).cursor
    assert hub.journal.wait(cursor, 0.05) is False
    feeder = threading.Timer(0.05, lambda: hub.ingest(_r(clock, "HR", 70, "/min")))
    feeder.start()
    assert hub.journal.wait(cursor, 5.0) is True
    feeder.join()


def test_an_overrun_reader_is_told_what_it_lost(store: SessionStore, clock: ManualClock) -> None:
    hub = BedRuntime(BED, QuietDevice(), store, clock, RULES, capacity=10)
    for i in range(30):
        clock.advance(1.0)
        assert hub.ingest(_r(clock, "HR", 60 + i, "/min"))
    delta = hub.delta(0)
    assert len(delta.readings) == 10 and delta.lost == 20
