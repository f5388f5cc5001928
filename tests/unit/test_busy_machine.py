"""A busy machine delays a simulator's thread: the simulator catches up, each missed tick at its
own time, and the bed does not call a late thread a silent feed. A device across a wire that
stops sending still raises TECH_NO_DATA within the limit (fail closed)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devices.simulator.inprocess import MAX_CATCH_UP_S, SimulatedMonitor
from devices.simulator.physiology import SimplePatient
from monitor.clock import ManualClock
from monitor.config import AlarmsConfig, BedConfig, SimulatorDevice
from monitor.domain.bed import LATE_DEVICE_GRACE_S, BedCore
from monitor.model import AlarmPhase, Reading
from monitor.runtime.bed import DEVICE_RESTART_S, BedRuntime
from monitor.storage.sqlite import SessionStore
from tests.helpers import QuietDevice, wait_until

BED = BedConfig(id="chair-1", name="Chair 1", device=SimulatorDevice(kind="simulator"))
NO_DATA = "TECH_NO_DATA"


class StarvedMonitor(SimulatedMonitor):
    """A simulated monitor whose thread the test can hold, as a busy scheduler does."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__("chair-1", SimplePatient(1), clock, 1.0, nibp_interval_s=180)
        self.emit_pleth = False
        self.running = threading.Event()
        self.running.set()

    def tick(self, sink: Callable[..., object], at: float | None = None) -> None:
        self.running.wait()
        super().tick(sink, at)


def hr_times(items: list[object]) -> list[float]:
    return [r.t for r in items if isinstance(r, Reading) and r.signal == "HR"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def started(clock: ManualClock) -> Iterator[tuple[StarvedMonitor, list[object]]]:
    monitor = StarvedMonitor(clock)
    got: list[object] = []
    stop = threading.Event()
    thread = threading.Thread(target=monitor.run, args=(got.append, stop), daemon=True)
    thread.start()
    wait_until(lambda: len(hr_times(got)) == 1, 2, "the first tick")
    yield monitor, got
    stop.set()
    monitor.running.set()
    thread.join(2)
    assert monitor.step_due is None  # not running: nothing to wait for


def test_a_late_thread_emits_the_missed_ticks_each_at_its_own_time(
    clock: ManualClock, started: tuple[StarvedMonitor, list[object]]
) -> None:
    monitor, got = started
    t0 = hr_times(got)[0]
    assert monitor.step_due == t0 + 1
    clock.advance(5.0)  # the thread wakes 4 s after its tick was due
    wait_until(lambda: len(hr_times(got)) == 6, 2, "the missed ticks")
    assert hr_times(got) == [t0 + i for i in range(6)]
    assert monitor.step_due == t0 + 6
    clock.advance(1.0)  # and it keeps its schedule
    wait_until(lambda: len(hr_times(got)) == 7, 2, "the next tick")
    assert hr_times(got)[-1] == t0 + 6


def test_a_suspended_machine_skips_ahead_instead_of_bursting(
    clock: ManualClock, started: tuple[StarvedMonitor, list[object]]
) -> None:
    monitor, got = started
    t0 = hr_times(got)[0]
    clock.advance(MAX_CATCH_UP_S + 30)
    wait_until(lambda: len(hr_times(got)) == 2, 2, "the tick after the suspension")
    assert hr_times(got) == [t0, t0 + MAX_CATCH_UP_S + 30]
    assert monitor.step_due == t0 + MAX_CATCH_UP_S + 31


def test_the_bed_waits_for_a_late_simulator_but_not_forever(
    tmp_path: Path, clock: ManualClock
) -> None:
    store = SessionStore(tmp_path / "s.db")
    monitor = StarvedMonitor(clock)
    hub = BedRuntime(BED, monitor, store, clock, AlarmsConfig(rules=[]))
    stop = threading.Event()
    thread = threading.Thread(target=monitor.run, args=(hub.receive, stop), daemon=True)

    def hr() -> list[float]:
        return [r.t for r in hub.since(0)[0] if r.signal == "HR"]

    def watch(seconds: float) -> None:  # the watchdog's ticks while the clock moves
        for _ in range(int(seconds * 2)):
            clock.advance(0.5)
            hub.check_feed()

    try:
        thread.start()
        wait_until(lambda: len(hr()) == 1, 2, "the first reading")
        t0 = hr()[0]
        monitor.running.clear()  # the machine is busy: the thread is held at its next tick
        watch(6)
        assert NO_DATA not in {a.name for a in hub.active_alarms()}
        monitor.running.set()  # it runs again and catches up
        wait_until(lambda: len(hr()) == 7, 2, "the missed readings")
        assert hr() == [t0 + i for i in range(7)]
        hub.check_feed()
        assert hub.active_alarms() == [] and hub.core.rejected == {}

        monitor.running.clear()  # held for longer than the grace: fail closed
        watch(LATE_DEVICE_GRACE_S + 3)
        assert NO_DATA in {a.name for a in hub.active_alarms()}
        monitor.running.set()
        wait_until(lambda: NO_DATA not in {a.name for a in hub.active_alarms()}, 2, "recovery")
    finally:
        stop.set()
        monitor.running.set()
        thread.join(2)
        store.close()


def test_a_monitor_across_a_wire_that_stops_is_no_data_within_the_limit(
    tmp_path: Path, clock: ManualClock
) -> None:
    store = SessionStore(tmp_path / "s.db")
    hub = BedRuntime(BED, QuietDevice(intervals={"HR": 1.0}), store, clock, AlarmsConfig(rules=[]))
    try:
        assert hub.ingest(Reading("chair-1", clock.now(), "HR", 72, "/min"))
        clock.advance(2.0)
        hub.check_feed()
        assert hub.active_alarms() == []
        clock.advance(0.5)
        hub.check_feed()
        assert NO_DATA in {a.name for a in hub.active_alarms()}
    finally:
        store.close()


def _no_data(core: BedCore, now: float, due: float | None) -> AlarmPhase | None:
    core.tick(now, device_due=due)
    states = [e.state for e in core.take() if getattr(e, "name", None) == NO_DATA]
    return states[-1] if states else None


def test_silence_counts_from_what_the_device_sent() -> None:
    t0 = 1_767_225_600.0
    core = BedCore("b", "B", {"HR": 1.0}, AlarmsConfig(rules=[]), now=t0)
    assert core.accept(Reading("b", t0, "HR", 72, "/min"), t0) is None
    # on schedule but sending nothing (a simulated disconnect): silent by the bed's clock
    assert core.silence(t0 + 2.5, device_due=t0 + 3) == 2.5
    # late: silent only up to when its thread was due
    assert core.silence(t0 + 6, device_due=t0 + 1) == 1
    assert _no_data(core, t0 + 6, t0 + 1) is None
    # late beyond the grace: silent by the bed's clock less the grace
    assert core.silence(t0 + 1 + LATE_DEVICE_GRACE_S + 3, device_due=t0 + 1) == 4
    assert _no_data(core, t0 + LATE_DEVICE_GRACE_S + 4, t0 + 1) is AlarmPhase.ACTIVE
    # a device across a wire: the bed's clock
    assert core.silence(t0 + 2.5) == 2.5


class FailingDevice(QuietDevice):
    def __init__(self) -> None:
        super().__init__()
        self.runs = 0

    def run(self, sink: Callable[..., object], stop: threading.Event) -> None:
        self.runs += 1
        raise RuntimeError("the driver failed")


def test_a_device_that_keeps_failing_logs_its_traceback_once(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = SessionStore(tmp_path / "s.db")
    device = FailingDevice()
    hub = BedRuntime(BED, device, store, clock, AlarmsConfig(rules=[]))
    caplog.set_level(logging.INFO)
    hub.start()
    try:
        for n in range(2, 6):  # restarts, each after DEVICE_RESTART_S of the clock
            deadline = time.monotonic() + 5
            while device.runs < n:
                assert time.monotonic() < deadline, f"restart {n}"
                clock.advance(DEVICE_RESTART_S / 8)
                time.sleep(0.01)
    finally:
        hub.stop()
        store.close()
    failed = [r for r in caplog.records if "device loop failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].exc_info is not None
