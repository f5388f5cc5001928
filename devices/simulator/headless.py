"""A scenario run without a station: readings straight to a CSV, as fast as the machine can
or at N times real time (tests, benchmarks, `python -m devices simulate`)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.scenario import Scenario
from monitor.clock import ManualClock, ScaledClock
from monitor.model import DeviceEvent, Reading


def simulate(
    scenario: Scenario,
    clock: ManualClock | ScaledClock,
    duration_s: float,
    emit: Callable[[Reading], object],
    stop: threading.Event | None = None,
) -> int:
    """Run `scenario` for `duration_s` of simulated time with its own infusion plan and no
    trainee; returns the number of readings emitted."""
    monitor = SimulatedMonitor(
        "sim", scenario.patient_model(), clock, library={scenario.id: scenario}
    )
    monitor.emit_pleth = False  # readings only: no one draws the strip
    monitor.start_scenario(scenario.id)
    plan = scenario.infusion
    t0, count, rate = clock.now(), 0, -1.0
    stop = stop or threading.Event()

    def sink(item: Reading | DeviceEvent) -> None:
        nonlocal count
        if isinstance(item, Reading):
            emit(item)
            count += 1

    while (elapsed := clock.now() - t0) < duration_s:
        running = plan.start_s <= elapsed < plan.start_s + plan.duration_s
        wanted = plan.rate_mg_kg_h * scenario.patient.weight_kg if running else 0.0
        if wanted != rate:
            monitor.infusion_changed(wanted)
            rate = wanted
        monitor.tick(sink)
        if isinstance(clock, ManualClock):
            clock.advance(monitor.interval_s)
        elif clock.sleep(monitor.interval_s, stop):
            break
    return count
