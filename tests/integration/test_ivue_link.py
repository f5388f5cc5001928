"""The virtual IntelliVue and the serial transport over a real pty, into a bed's core."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import build_station
from devices.simulator.ivue_monitor import VirtualIntelliVue
from devices.simulator.virtual_device import VirtualMonitorDevice
from monitor.config import parse_config
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
