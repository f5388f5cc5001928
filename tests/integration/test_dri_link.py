"""The virtual DRI monitor and the serial transport over a real pty, into a bed's hub."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dashboard import build_station
from devices.simulator.virtual_device import VirtualMonitorDevice
from monitor.config import parse_config
from tests.helpers import config_dict, start_by_override, wait_until

pytestmark = pytest.mark.slow
INTERVAL_S = 1


def test_unplug_and_replug_the_virtual_monitor(tmp_path: Path) -> None:
    data = config_dict(tmp_path / "s.db")
    data["beds"][0]["device"] = {
        "kind": "datex_s5",
        "port": "virtual",
        "seed": 3,
        "interval_s": INTERVAL_S,
    }
    station = build_station(parse_config(data))
    hub = station.ward.runtime("chair-1")
    device = hub.device
    assert isinstance(device, VirtualMonitorDevice) and device.virtual is not None
    assert device.source == "simulated" and hub.info.source == "simulated"
    station.start()
    try:
        start_by_override(hub, 70, 0.75, "nurse")
        wait_until(lambda: len(hub.since(0)[0]) >= 3 * 6, 10, "readings from the pty")
        assert device.decoder.stats.good >= 3 and device.decoder.stats.bad == 0
        latest = hub.snapshot().latest
        assert {"HR", "PR", "SPO2", "RR", "ETCO2", "TEMP"} <= set(latest)
        assert hub.snapshot().alarms == []
        # the plethysmogram the host asked for reaches the session log at 100 Hz
        wait_until(lambda: device.waveform_blocks >= 2, 5, "plethysmogram records")
        station.store.flush()
        wave = station.store.wave(hub.session.id, "PLETH")  # type: ignore[union-attr]
        t, pleth = wave.times(np.arange(len(wave.v))), wave.v
        assert len(t) >= 200 and abs(float(np.median(np.diff(t))) - 0.01) < 1e-6
        assert 0 < float(pleth.min()) < 10 < 50 < float(pleth.max()) < 90  # pulse shape
        # quarter-second records join into one trace: their whole-second times are not used
        assert float(np.max(np.diff(t))) < 0.011
        # the ECG the host asked for reaches the live pages (300 Hz), joined the same way
        ecg = [w for w in station.ward.delta("chair-1", 0).waves if w.signal == "ECG1"]
        assert len(ecg) >= 4 and {len(w.samples) for w in ecg} == {75}
        assert all(abs(b.t - (a.t + 0.25)) < 1e-6 for a, b in zip(ecg, ecg[1:], strict=False))
        assert max(float(np.max(w.samples)) for w in ecg) > 800  # R waves, in µV

        device.virtual.close()  # the cable is pulled
        took = wait_until(
            lambda: any(a.name.startswith("TECH_") for a in hub.active_alarms()),
            2 * INTERVAL_S,
            "technical alarm",
        )
        assert took <= 2 * INTERVAL_S
        wait_until(
            lambda: {a.name for a in hub.active_alarms()} >= {"TECH_PORT_LOST", "TECH_NO_DATA"},
            2 * INTERVAL_S + 1.5,
            "the silent-feed alarm as well",
        )
        hr_before = [r.t for r in hub.since(0)[0] if r.signal == "HR"]

        device.virtual.open()  # and plugged back in
        wait_until(lambda: not hub.active_alarms(), 10, "recovery")
        wait_until(
            lambda: len([r for r in hub.since(0)[0] if r.signal == "HR"]) >= len(hr_before) + 3,
            10,
            "readings after recovery",
        )
        hr_times = [r.t for r in hub.since(0)[0] if r.signal == "HR"]
        assert hr_times == sorted(set(hr_times))  # no duplicates, in order
        assert all(
            b - a == INTERVAL_S
            for a, b in zip(
                hr_times[len(hr_before) :], hr_times[len(hr_before) + 1 :], strict=False
            )
        )
        assert hub.rejected == {}
    finally:
        station.stop()

    store = station.store
    from monitor.storage.sqlite import SessionStore

    log = SessionStore(store.path)
    session = log.sessions("chair-1")[0]
    stored = [t for t, sig, _ in log.readings(session.id) if sig == "HR"]
    # Everything recorded since the session started, once each (the first second or two may
    # have arrived before the nurse pressed start, and are live-only).
    assert stored == sorted(set(stored)) and stored == hr_times[-len(stored) :]
    assert len(stored) >= len(hr_times) - 2
    alarms = {(a.name, a.end_t is not None) for a in log.alarms("chair-1")}
    assert alarms == {("TECH_PORT_LOST", True), ("TECH_NO_DATA", True)}
    kinds = [e.kind for e in log.events(session.id)]
    assert kinds.count("device_link") >= 3  # connected, lost, ..., connected again
    log.close()


def test_missing_port_is_a_technical_alarm_not_a_crash(tmp_path: Path) -> None:
    data = config_dict(tmp_path / "s.db")
    data["beds"][0]["device"] = {
        "kind": "datex_s5",
        "port": str(tmp_path / "ttyUSB9"),
        "interval_s": INTERVAL_S,
    }
    station = build_station(parse_config(data))
    hub = station.ward.runtime("chair-1")
    assert hub.info.source == "live"
    station.start()
    try:
        wait_until(
            lambda: "TECH_PORT_LOST" in {a.name for a in hub.active_alarms()}, 5, "TECH_PORT_LOST"
        )
        wait_until(
            lambda: "TECH_NO_DATA" in {a.name for a in hub.active_alarms()},
            2 * INTERVAL_S + 1.5,
            "TECH_NO_DATA",
        )
    finally:
        station.stop()
