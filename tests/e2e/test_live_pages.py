"""A nurse's view in a real Chromium: live numbers, trends, a HIGH alarm, NO DATA, a session."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from devices.simulator.inprocess import SimulatedMonitor
from monitor.config import parse_config
from tests.helpers import config_dict, served, wait_until

pytestmark = pytest.mark.e2e


def tile(key: str, bed: str, part: str = "") -> str:
    """A numeric tile (or a part of it: value, sub, age) as live.js finds it."""
    return f".tile[data-bed='{bed}'][data-tile='{key}']" + (f" .tile-{part}" if part else "")


def test_bed_page_live_alarm_and_stale_feed(browser: Any, tmp_path: Path) -> None:
    data = config_dict(tmp_path / "sessions.db", beds=2)
    # chair-2 is fed through the real DRI path: virtual monitor -> pty -> serial link -> codec
    data["beds"][1]["device"] = {"kind": "datex_s5", "port": "virtual", "seed": 2, "interval_s": 1}
    with served(parse_config(data)) as (station, url):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            _nurse_walkthrough(page, station, url)
        finally:
            page.close()  # before the server stops, so no poll is cut off mid-request


def _nurse_walkthrough(page: Any, station: Any, url: str) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Ward overview: both beds with numbers that change; the station and a clock in the header.
    page.goto(url + "/")
    assert page.locator(".station-name").inner_text() == "test-station"
    clock = page.locator("#header-clock")
    wait_until(lambda: ":" in clock.inner_text(), 3, "the header clock")
    shown = clock.inner_text()
    wait_until(lambda: clock.inner_text() != shown, 3, "the clock to tick")
    first = page.locator(tile("HR", "chair-2", "value")).get_attribute("title")
    wait_until(
        lambda: page.locator(tile("HR", "chair-2", "value")).get_attribute("title") != first,
        5,
        "the overview to update",
    )
    assert page.locator(".bed-card").count() == 2

    # The DRI chair sends ECG and pleth: both sweep on its bed page.
    page.goto(url + "/bed/chair-2")
    sweeps = "() => Object.fromEntries(Object.entries(window.monitorSweeps || {})"
    sweeps += ".map(([k, s]) => [k, s.samples]))"
    wait_until(
        lambda: (
            page.evaluate(sweeps).get("bed:ECG1", 0) >= 300
            and page.evaluate(sweeps).get("bed:PLETH", 0) >= 100
        ),
        10,
        "a second of ECG and pleth",
    )
    assert page.locator("#bed-strip-ECG1").is_visible()

    # Bed page: HR updates at least three times and the trend grows.
    page.goto(url + "/bed/chair-1")
    hr = page.locator(tile("HR", "chair-1", "value"))
    hr.wait_for()
    page.wait_for_selector("#bed-trend .js-plotly-plot")
    seen = {hr.get_attribute("title")}
    points = page.evaluate("document.querySelector('#bed-trend .js-plotly-plot').data[0].x.length")
    wait_until(
        lambda: seen.add(hr.get_attribute("title")) or len(seen) >= 4, 10, "three HR updates"
    )
    assert hr.inner_text().isdigit()
    # pushed: the page's stream is open and paints its messages (polling is the fallback)
    wait_until(lambda: page.evaluate("window.monitorStream.open"), 5, "the live stream")
    pushed = page.evaluate("window.monitorStream.frames")
    polls = page.evaluate("window.monitorStream.polls")
    wait_until(lambda: page.evaluate("window.monitorStream.frames") > pushed + 2, 5, "pushes")
    assert page.evaluate("window.monitorStream.url") == "bed:chair-1"
    assert page.evaluate("window.monitorStream.polls") == polls  # no polling while pushed
    grown = page.evaluate("document.querySelector('#bed-trend .js-plotly-plot').data[0].x.length")
    assert grown >= points + 3

    # Drive the simulator past the desaturation limit: a HIGH alarm in the banner.
    device = station.ward.runtime("chair-1").device
    assert isinstance(device, SimulatedMonitor)
    device.set_value("SPO2", 80)
    banner = page.locator("#bed-banner")
    wait_until(
        lambda: "banner-high" in (banner.get_attribute("class") or ""), 10, "the HIGH banner"
    )
    assert "*** SpO₂ 80 < 85" in banner.inner_text()  # clinical words, the value now
    assert "SPO2_DESAT" not in banner.inner_text()  # the code name is for the record
    assert "alarm-high" in (page.locator(tile("SPO2", "chair-1")).get_attribute("class") or "")
    flashing = page.evaluate(
        "getComputedStyle(document.getElementById('bed-banner')).animationName"
    )
    assert flashing == "banner-high"
    red = page.evaluate("getComputedStyle(document.getElementById('bed-banner')).backgroundColor")
    assert red in ("rgb(255, 23, 68)", "rgb(127, 0, 23)")  # the two phases of the flash

    # Silent until a click (browser policy); then the HIGH pattern plays.
    audio = "window.monitorAudio"
    assert page.evaluate(f"{audio}.playing") == "HIGH"
    assert page.evaluate(f"{audio}.pulses") == 0
    page.get_by_role("button", name="Sound OFF: enable").click()  # off until a click
    wait_until(lambda: page.evaluate(f"{audio}.pulses") >= 10, 3, "a 10-pulse HIGH burst")
    assert page.evaluate(f"{audio}.context.state") == "running"

    # Acknowledge stops the tone, shows who did it, and is logged with user and time.
    page.get_by_role("button", name="Acknowledge").click()
    wait_until(lambda: page.evaluate(f"{audio}.playing") is None, 5, "the tone to stop")
    bursts = page.evaluate(f"{audio}.bursts")
    wait_until(lambda: "acknowledged by test-station" in banner.inner_text(), 5, "the ack")
    station.store.flush()
    (alarm,) = [a for a in station.store.alarms("chair-1") if a.name == "SPO2_DESAT"]
    assert alarm.acked_by == "test-station" and alarm.acked_at is not None
    time.sleep(1.5)
    assert page.evaluate(f"{audio}.bursts") == bursts  # no more bursts after the ack

    # A nurse creates a session; the low SpO2 holds the start until a physician overrides.
    page.locator("#s-patient").fill("K-0042")
    page.locator("#s-weight").fill("70")
    page.locator("#s-plan-rate").fill("0.75")
    page.locator("#s-conc").fill("2")
    page.locator("#s-duration").fill("40")
    page.get_by_role("button", name="Create session").click()
    msg = page.locator("#s-msg")
    wait_until(lambda: "Session created" in msg.inner_text(), 5, "the session")
    page.get_by_role("button", name="Start infusion").click()
    wait_until(lambda: "SPO2 80 < 94" in msg.inner_text(), 5, "the hold")
    page.locator("#s-override").fill("probe artefact, patient pink and talking")
    page.get_by_role("button", name="Start infusion").click()
    wait_until(lambda: msg.inner_text() == "Infusion started.", 5, "the start")
    wait_until(
        lambda: "infusing 0.75 mg/kg/h" in page.locator("#bed-session").inner_text(),
        5,
        "the session line",
    )
    assert station.ward.runtime("chair-1").session is not None

    # The feed dies: the browser itself turns the tiles to NO DATA.
    station.ward.runtime("chair-1").stop()
    hr_tile = page.locator(tile("HR", "chair-1"))
    wait_until(lambda: "stale" in (hr_tile.get_attribute("class") or ""), 8, "NO DATA")
    assert hr_tile.locator(".tile-nodata").is_visible()
    assert not hr.is_visible()

    assert errors == []
