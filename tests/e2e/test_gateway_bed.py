"""A chair fed by a monitoring gateway over HL7 PCD-01 (the virtual gateway, MLLP on loopback),
with the infusion pump on the same gateway: its numbers, its pump rate beside the charted
one, and the MEDIUM alarm when the pump runs off the chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devices.mllp_link import listener_for
from devices.protocols.hl7_pcd01_encode import PumpState
from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.pcd01_gateway import VirtualPcd01Gateway
from devices.simulator.physiology import SimplePatient
from monitor.clock import SystemClock
from monitor.config import parse_config
from tests.child_station import free_port
from tests.e2e.test_live_pages import tile
from tests.helpers import config_dict, served, start_by_override, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
HOST, LOCATION = "127.0.0.1", "PAIN^BAY1^4"
STRIP = """() => [...document.querySelectorAll('#bed-infusion .strip-item')].map(i => [
    i.querySelector('.strip-key').textContent, i.querySelector('.strip-val').textContent,
    i.className])"""


def test_a_gateway_bed_shows_the_pump_and_alarms_when_it_runs_off_the_chart(
    browser: Any, tmp_path: Path
) -> None:
    port = free_port()
    data = config_dict(tmp_path / "sessions.db", beds=1)
    data["beds"][0]["device"] = {
        "kind": "hl7_pcd01", "host": HOST, "port": port, "location": LOCATION, "interval_s": 1,
    }  # fmt: skip
    data.setdefault("session", {})["pump"] = {"mismatch_pct": 10, "mismatch_s": 5}  # 60 s default
    clock = SystemClock()
    monitor = SimulatedMonitor("gw-4", SimplePatient(4), clock)
    gateway = VirtualPcd01Gateway(HOST, port, {LOCATION: monitor}, clock, interval_s=0.5)
    with served(parse_config(data)) as (station, url):
        hub = station.ward.runtime("chair-1")
        start_by_override(hub, 80, 0.75, "nurse")  # 80 kg at 10 mg/mL: 6 mL/h charted
        gateway.pumps[LOCATION] = PumpState(rate_ml_h=6.0)
        wait_until(lambda: listener_for(HOST, port) is not None, 5, "the MLLP listener")
        gateway.start()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(url + "/bed/chair-1")
            hr = page.locator(tile("HR", "chair-1", "value"))
            wait_until(lambda: hr.inner_text().isdigit(), 10, "HR from the gateway")
            assert 40 <= int(hr.inner_text()) <= 140
            spo2 = page.locator(tile("SPO2", "chair-1", "value"))
            wait_until(lambda: spo2.inner_text().isdigit(), 5, "SpO2 from the gateway")

            def strip() -> dict[str, tuple[str, str]]:
                return {k: (v, c) for k, v, c in page.evaluate(STRIP)}

            wait_until(lambda: "Pump" in strip(), 5, "the pump's rate on the strip")
            assert strip()["Pump"][0] == "6 mL/h" and "strip-warn" not in strip()["Pump"][1]
            assert "6 mL/h" in strip()["Rate"][0]  # the charted rate beside it

            gateway.pumps[LOCATION] = PumpState(rate_ml_h=9.0)  # someone reprogrammed it
            wait_until(lambda: strip()["Pump"][0] == "9 mL/h", 5, "the new pump rate")
            assert "strip-warn" in strip()["Pump"][1]
            banner = page.locator("#bed-banner")
            wait_until(lambda: "Pump rate differs" in banner.inner_text(), 15, "the mismatch alarm")
            assert "banner-medium" in (banner.get_attribute("class") or "")
            assert page.evaluate("window.monitorAudio.playing") == "MEDIUM"  # the tone starts
            assert set(gateway.acks) == {"AA"}
        finally:
            page.close()
            gateway.stop()
