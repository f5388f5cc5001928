"""Build a bed's device from its config entry."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from devices.dri import DriMonitor
from devices.simulator.dri_monitor import VirtualDriMonitor
from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.physiology import SimplePatient
from devices.simulator.scenario import Scenario, ScenarioError, load_library
from devices.transport import SerialSettings
from monitor.clock import Clock
from monitor.config import BedConfig, ConfigError, DatexS5Device, SimulatorDevice, TrainingConfig
from monitor.ports import Device


def virtual_port_path(bed_id: str) -> Path:
    """Where a bed's virtual monitor puts its pty link (per process, so tests don't collide)."""
    return Path(tempfile.gettempdir()) / "ketamine-monitor" / f"{os.getpid()}-{bed_id}.tty"


def scenario_library(training: TrainingConfig) -> dict[str, Scenario]:
    """The training scenarios, if training is on; a broken file is a one-line ConfigError."""
    if not training.enabled:
        return {}
    try:
        return load_library(training.scenarios)
    except ScenarioError as err:
        raise ConfigError(str(err)) from None


def build_device(
    bed: BedConfig, clock: Clock, library: dict[str, Scenario] | None = None
) -> Device:
    dev = bed.device

    def simulated() -> SimulatedMonitor:  # in process, or behind the virtual DRI monitor
        patient = SimplePatient(dev.seed)
        return SimulatedMonitor(
            bed.id, patient, clock, dev.interval_s, dev.nibp_interval_s, library
        )

    if isinstance(dev, SimulatorDevice):
        return simulated()
    assert isinstance(dev, DatexS5Device)
    virtual = None
    url = dev.port
    if dev.virtual:
        simulator = simulated()
        link = virtual_port_path(bed.id)
        virtual = VirtualDriMonitor(simulator, clock, link)
        url = str(link)
    settings = SerialSettings(
        url=url, baudrate=dev.baudrate, rtscts=dev.rtscts, silence_s=2.0 * dev.interval_s
    )
    return DriMonitor(bed.id, settings, dev.interval_s, dev.nibp_interval_s, clock, virtual)
