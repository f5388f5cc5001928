"""Build a bed's device from its config entry."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from devices.dri import DriMonitor
from devices.simulator.dri_monitor import VirtualDriMonitor
from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.physiology import SimplePatient
from devices.transport import SerialSettings
from monitor.clock import Clock
from monitor.config import BedConfig, DatexS5Device, SimulatorDevice
from monitor.hub import Device


def virtual_port_path(bed_id: str) -> Path:
    """Where a bed's virtual monitor puts its pty link (per process, so tests don't collide)."""
    return Path(tempfile.gettempdir()) / "ketamine-monitor" / f"{os.getpid()}-{bed_id}.tty"


def build_device(bed: BedConfig, clock: Clock) -> Device:
    dev = bed.device
    if isinstance(dev, SimulatorDevice):
        patient = SimplePatient(dev.seed)
        return SimulatedMonitor(bed.id, patient, clock, dev.interval_s, dev.nibp_interval_s)
    assert isinstance(dev, DatexS5Device)
    virtual = None
    url = dev.port
    if dev.virtual:
        simulator = SimulatedMonitor(
            bed.id, SimplePatient(dev.seed), clock, dev.interval_s, dev.nibp_interval_s
        )
        link = virtual_port_path(bed.id)
        virtual = VirtualDriMonitor(simulator, clock, link)
        url = str(link)
    settings = SerialSettings(
        url=url, baudrate=dev.baudrate, rtscts=dev.rtscts, silence_s=2.0 * dev.interval_s
    )
    return DriMonitor(bed.id, settings, dev.interval_s, dev.nibp_interval_s, clock, virtual)
