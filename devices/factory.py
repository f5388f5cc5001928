"""Build a bed's device from its config entry, for any protocol in the registry."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from devices.codec_device import CodecDevice
from devices.mllp_link import Pcd01Bed
from devices.mqtt_device import MqttChair
from devices.protocols import ProtocolEntry, by_kind
from devices.simulator.dri_monitor import VirtualDriMonitor
from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.ivue_monitor import VirtualIntelliVue
from devices.simulator.physiology import SimplePatient
from devices.simulator.scenario import Scenario, ScenarioError, load_library
from devices.simulator.virtual_device import VirtualMonitor, VirtualMonitorDevice
from devices.transport import SerialSettings
from monitor.clock import Clock
from monitor.config import BedConfig, ConfigError, SimulatorDevice, TrainingConfig
from monitor.device_config import Hl7Pcd01Device, MqttDevice
from monitor.ports import Device

# Protocols whose monitor the simulator can play on a pty (`port: virtual`).
VIRTUAL_MONITORS: dict[str, Callable[[SimulatedMonitor, Clock, Path], VirtualMonitor]] = {
    "datex-s5": VirtualDriMonitor,
    "intellivue": VirtualIntelliVue,
}


class SerialMonitorConfig(Protocol):
    """What the factory reads of a registered protocol's config model."""

    kind: str
    port: str
    baudrate: int
    rtscts: bool
    interval_s: int
    nibp_interval_s: float
    seed: int

    @property
    def virtual(self) -> bool: ...


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

    def simulated() -> SimulatedMonitor:  # in process, or behind a virtual monitor
        patient = SimplePatient(dev.seed)
        return SimulatedMonitor(
            bed.id, patient, clock, dev.interval_s, dev.nibp_interval_s, library
        )

    if isinstance(dev, SimulatorDevice):
        return simulated()
    if isinstance(dev, MqttDevice):  # the chair's agent runs the device; this bed listens
        tls = dev.broker.tls
        for key, file in (
            ("broker.password_file", dev.broker.password_file),
            ("broker.tls.ca_file", tls and tls.ca_file),
            ("broker.tls.cert_file", tls and tls.cert_file),
            ("broker.tls.key_file", tls and tls.key_file),
        ):
            if file and not Path(file).is_file():
                raise ConfigError(f"bed {bed.id}: device.{key}: no such file {file}")
        return MqttChair(bed.id, dev, clock)
    if isinstance(dev, Hl7Pcd01Device):  # the gateway connects to the station's listener
        return Pcd01Bed(bed.id, dev, clock)
    entry = by_kind(dev.kind)
    serial_dev: SerialMonitorConfig = dev
    url = serial_dev.port
    virtual: VirtualMonitor | None = None
    if serial_dev.virtual:
        make_virtual = VIRTUAL_MONITORS.get(entry.name)
        if make_virtual is None:
            raise ConfigError(f"bed {bed.id}: no virtual monitor speaks {dev.kind}")
        link = virtual_port_path(bed.id)
        virtual = make_virtual(simulated(), clock, link)
        url = str(link)
    return _codec_device(entry, serial_dev, bed.id, url, clock, virtual)


def _codec_device(
    entry: ProtocolEntry,
    dev: SerialMonitorConfig,
    bed_id: str,
    url: str,
    clock: Clock,
    virtual: VirtualMonitor | None,
) -> CodecDevice:
    settings = SerialSettings(
        url=url,
        baudrate=dev.baudrate,
        bytesize=entry.line.bytesize,
        parity=entry.line.parity,
        stopbits=entry.line.stopbits,
        rtscts=dev.rtscts,
        silence_s=2.0 * dev.interval_s,  # two missed records: poke the monitor again
    )
    args = (
        bed_id,
        settings,
        entry.decoder(bed_id),
        lambda attempt: entry.host_requests(dev, attempt),
        entry.expected_intervals(dev),
        clock,
    )
    if virtual is None:
        return CodecDevice(*args)
    return VirtualMonitorDevice(*args, virtual)
