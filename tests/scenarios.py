"""Scenarios run on a bed's hub in simulated time: the same alarm engine as live and replay."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.scenario import Scenario
from monitor.clock import ManualClock
from monitor.config import BedConfig, Config, SimulatorDevice
from monitor.runtime.bed import BedRuntime
from monitor.session import Phase
from monitor.storage.sqlite import SessionStore
from tests.helpers import PLAN

LIBRARY = Path(__file__).resolve().parents[1] / "devices" / "simulator" / "scenarios"


@dataclass
class ScenarioResult:
    hub: BedRuntime
    monitor: SimulatedMonitor
    raised: set[str]
    states: list[str]


def run_on_hub(
    scenario: Scenario, config: Config, tmp: Path, assess: bool = True
) -> ScenarioResult:
    """Run a scenario for its duration with its infusion plan. A nurse who enters each
    state's findings as an assessment is all the trainee there is (`assess`)."""
    clock = ManualClock()
    store = SessionStore(tmp / f"{scenario.id}.db")
    monitor = SimulatedMonitor(
        "sim", scenario.patient_model(), clock, library={scenario.id: scenario}
    )
    bed = BedConfig(id="sim", name="Sim", device=SimulatorDevice(kind="simulator"))
    hub = BedRuntime(bed, monitor, store, clock, config.alarms, session=config.session)
    monitor.start_scenario(scenario.id)
    plan = scenario.infusion
    hub.create_session(
        PLAN
        | {"weight_kg": scenario.patient.weight_kg, "planned_rate_mg_kg_h": plan.rate_mg_kg_h}
        | {"planned_duration_min": plan.duration_s / 60},
        "trainee",
    )
    assessed: set[str] = set()
    stop_at = plan.start_s + plan.duration_s + plan.overrun_s
    states = [scenario.states[0].id]
    for second in range(int(scenario.duration_s)):
        clock.advance(1.0)
        monitor.tick(hub.receive)
        hub.check_feed()
        # the phase only where it matters: the session view runs the PK model (slow)
        if second == plan.start_s - 1 and _phase(hub) is Phase.PRE_INFUSION:
            hub.confirm_baseline("trainee")
            hub.start_infusion("instructor", "training run", role="physician")
        if second == stop_at and _phase(hub) in (Phase.INFUSING, Phase.PAUSED):
            hub.stop_infusion("trainee")
        run = monitor.run_
        assert run is not None
        if run.state.id != states[-1]:
            states.append(run.state.id)
        if assess and run.state.findings and run.state.id not in assessed:
            assessed.add(run.state.id)
            hub.assess(dict(run.state.findings), "trainee")
    store.flush()
    raised = {row.name for row in store.alarms("sim")}
    return ScenarioResult(hub, monitor, raised, states)


def _phase(hub: BedRuntime) -> Phase | None:
    view = hub.session_view()
    return None if view is None else view.phase
