"""Build a bed's device from its config entry."""

from __future__ import annotations

from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.physiology import SimplePatient
from monitor.clock import Clock
from monitor.config import BedConfig, ConfigError, SimulatorDevice
from monitor.hub import Device


def build_device(bed: BedConfig, clock: Clock, index: int = 0) -> Device:
    """A device for `bed`; raises ConfigError for a kind this build cannot drive yet."""
    dev = bed.device
    if isinstance(dev, SimulatorDevice):
        patient = SimplePatient(dev.seed)
        return SimulatedMonitor(bed.id, patient, clock, dev.interval_s, dev.nibp_interval_s)
    raise ConfigError(f"beds[{index}].device.kind: {dev.kind!r} is not supported by this build yet")
