"""The virtual IntelliVue and the serial transport over a real pty, into a bed's core."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dashboard import build_station
from devices.simulator.ivue_monitor import VirtualIntelliVue
from devices.simulator.virtual_device import VirtualMonitorDevice
from monitor.config import parse_config
from monitor.model import Waveform
from tests.helpers import config_dict, start_by_override, wait_until

pytestmark = pytest.mark.slow


def test_readings_reach_the_bed_and_a_silent_association_is_renewed(tmp_path: Path) -> None:
    data = config_dict(tmp_path / "s.db")
    data["beds"][0]["device"] = {"kind": "intellivue", "port": "virtual", "seed": 4}
    station = build_station(parse_config(data))
    hub = station.ward.runtime("chair-1")
    device = hub.device
    assert isinstance(device, VirtualMonitorDevice)
    virtual = device.virtual
    assert isinstance(virtual, VirtualIntelliVue) and hub.info.source == "simulated"
    station.start()
    try:
        start_by_override(hub, 70, 0.75, "nurse")
        wait_until(lambda: len(hub.since(0)[0]) >= 3 * 5, 10, "readings from the pty")
        latest = hub.snapshot().latest
        assert {"HR", "PR", "SPO2", "RR", "ETCO2", "TEMP"} <= set(latest)
        assert latest["HR"].unit == "/min" and virtual.associations == 1
        stats = device.decoder.stats
        assert stats.good >= 5 and stats.bad == 0 and stats.unknown_unit == 0

        # the pleth and ECG sample arrays reach the live pages as one trace each
        def waves(signal: str) -> list[Waveform]:
            return [w for w in station.ward.delta("chair-1", 0).waves if w.signal == signal]

        wait_until(lambda: len(waves("PLETH")) >= 4, 5, "pleth sample arrays")
        pleth = waves("PLETH")
        assert {w.rate_hz for w in pleth} == {125.0} and {len(w.samples) for w in pleth} == {32}
        assert all(abs(b.t - a.end) < 1e-6 for a, b in zip(pleth, pleth[1:], strict=False))
        samples = np.concatenate([w.samples for w in pleth])
        assert 0 < float(samples.min()) < 10 < 50 < float(samples.max()) < 90  # pulse shape
        ecg = waves("ECG1")
        assert ecg and {w.rate_hz for w in ecg} == {500.0}
        assert max(float(np.max(w.samples)) for w in ecg) > 800  # R waves, in µV
        station.store.flush()
        stored = station.store.wave(hub.session.id, "PLETH")  # type: ignore[union-attr]
        assert len(stored.v) >= 4 * 32

        virtual.drop_association()  # the monitor forgets the host without a word
        wait_until(lambda: virtual.associations == 2, 6, "the host to associate again")
        count = len([r for r in hub.since(0)[0] if r.signal == "HR"])
        wait_until(
            lambda: len([r for r in hub.since(0)[0] if r.signal == "HR"]) >= count + 2,
            6,
            "readings after the new association",
        )
        hr_times = [r.t for r in hub.since(0)[0] if r.signal == "HR"]
        assert hr_times == sorted(set(hr_times))
        assert hub.rejected == {}
    finally:
        station.stop()


def test_a_pulled_cable_is_a_lost_link_and_the_monitor_is_associated_again(
    tmp_path: Path,
) -> None:
    data = config_dict(tmp_path / "s.db")
    data["beds"][0]["device"] = {"kind": "intellivue", "port": "virtual", "seed": 5}
    station = build_station(parse_config(data))
    hub = station.ward.runtime("chair-1")
    device = hub.device
    assert isinstance(device, VirtualMonitorDevice)
    virtual = device.virtual
    assert isinstance(virtual, VirtualIntelliVue)
    station.start()
    try:
        wait_until(lambda: "HR" in hub.snapshot().latest, 10, "readings from the pty")
        virtual.close()  # the cable is pulled
        wait_until(
            lambda: "TECH_PORT_LOST" in {a.name for a in hub.active_alarms()}, 5, "PORT_LOST"
        )
        count = len([r for r in hub.since(0)[0] if r.signal == "HR"])
        virtual.open()  # and plugged back in: a new association, then the polls again
        wait_until(lambda: not hub.active_alarms(), 15, "recovery")
        wait_until(
            lambda: len([r for r in hub.since(0)[0] if r.signal == "HR"]) > count + 1,
            6,
            "readings after the new association",
        )
        assert virtual.associations == 2
    finally:
        station.stop()
