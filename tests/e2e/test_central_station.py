"""The central station with 30 chairs: fixed order, an alarm bar, and a phone-width layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devices.simulator.inprocess import SimulatedMonitor
from monitor.config import parse_config
from tests.helpers import config_dict, served, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PLACES = """() => [...document.querySelectorAll('.bed-card')].map(c => {
    const r = c.getBoundingClientRect();
    return [c.querySelector('.card-title').textContent, Math.round(r.left), Math.round(r.top)];
})"""


def _grid(places: list[list[Any]]) -> list[tuple[str, int, int]]:
    """Each chair's column and row on the screen."""
    lefts = sorted({left for _, left, _ in places})
    tops = sorted({top for _, _, top in places})
    return [(name, lefts.index(left), tops.index(top)) for name, left, top in places]


def test_thirty_chairs_keep_their_places_when_one_alarms(browser: Any, tmp_path: Path) -> None:
    with served(parse_config(config_dict(tmp_path / "sessions.db", beds=30))) as (station, url):
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        try:
            page.goto(url + "/")
            wait_until(lambda: page.locator(".bed-card").count() == 30, 15, "30 chairs")
            before = page.evaluate(PLACES)
            assert [name for name, _, _ in before] == [f"Chair {i}" for i in range(1, 31)]
            wait_until(
                lambda: (
                    page.evaluate(
                        "() => Object.values(window.monitorSweeps).filter(s => s.samples).length"
                    )
                    == 30
                ),
                15,
                "a pleth strip drawn on every card",
            )
            bottom = page.evaluate(
                "() => Math.max(...[...document.querySelectorAll('.bed-card')]"
                ".map(c => c.getBoundingClientRect().bottom))"
            )
            assert bottom <= 1080, f"30 chairs fit one 1920x1080 screen (bottom at {bottom})"
            bar = page.locator("#ov-alarm-bar")
            assert "No active alarm" in bar.inner_text()

            device = station.ward.runtime("chair-17").device
            assert isinstance(device, SimulatedMonitor)
            device.set_value("SPO2", 80)  # a desaturation on chair 17
            wait_until(lambda: "Chair 17" in bar.inner_text(), 20, "the alarm bar to list it")
            card = page.locator(".bed-card", has_text="Chair 17").first
            wait_until(lambda: "card-alarm-" in (card.get_attribute("class") or ""), 5, "card")
            assert _grid(page.evaluate(PLACES)) == _grid(before), "no chair changed its place"

            page.set_viewport_size({"width": 390, "height": 844})
            wait_until(
                lambda: page.evaluate("document.documentElement.scrollWidth") <= 390,
                5,
                "no sideways scroll on a phone",
            )
            assert errors == []
        finally:
            page.close()
