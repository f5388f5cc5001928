"""An instructor runs a scenario; the trainee sees it on the ordinary bed page and responds;
the debrief lists the response with its time. Real Chromium, the real station."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from monitor.config import parse_config
from tests.helpers import config_dict, served, wait_until
from tests.scenarios import LIBRARY

pytestmark = pytest.mark.e2e


def test_instructor_fires_an_event_and_the_trainee_responds(browser: Any, tmp_path: Path) -> None:
    data = config_dict(tmp_path / "sessions.db")
    data["training"] = {"enabled": True, "scenarios": str(LIBRARY)}
    with served(parse_config(data)) as (station, url):
        console = browser.new_page(viewport={"width": 1400, "height": 1100})
        trainee = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        for page in (console, trainee):
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            # The instructor picks the probe-off scenario and starts it on chair-1.
            console.goto(url + "/instructor")
            console.get_by_role("textbox", name="Scenario").click()
            console.get_by_role(
                "option", name="SpO2 probe off (an artefact, not a desaturation)"
            ).click()
            console.get_by_role("button", name="Start scenario").click()
            panel = console.locator("#in-panel")
            wait_until(lambda: "state infusing" in panel.inner_text(), 10, "the scenario")
            assert "→ probe-off in" in panel.inner_text()  # the hidden script is visible
            assert "Ce ng/mL" in console.locator("#in-hidden").inner_text()

            trainee.goto(url + "/bed/chair-1")
            assert "SIMULATION" in trainee.locator(".sim-banner").inner_text()
            time.sleep(2)  # the probe has been reading: its loss is a technical alarm

            # One tap: the probe falls off.
            console.get_by_role("button", name="Probe falls off now").click()
            wait_until(lambda: "state probe-off" in panel.inner_text(), 10, "the event")
            banner = trainee.locator("#bed-banner")
            wait_until(lambda: "Probe off: SpO₂" in banner.inner_text(), 10, "the alarm")
            spo2 = trainee.locator(".tile[data-tile='SPO2'] .tile-value")
            assert spo2.first.inner_text().strip().startswith("-")  # dashes, not a number
            assert "SPO2_DESAT" not in banner.inner_text()

            trainee.get_by_role("button", name="Acknowledge").click()
            wait_until(lambda: "acknowledged by" in banner.inner_text(), 5, "the acknowledgement")

            console.get_by_role("link", name="Debrief").click()
            checklist = console.locator("#db-checklist")
            checklist.wait_for()
            row = checklist.locator("tr", has_text="Acknowledge the technical alarm")
            assert "done" in row.inner_text()
            took = row.locator("td").nth(2).inner_text()
            assert took.endswith(" s") and 0 <= int(took.removesuffix(" s")) <= 30
            timeline = console.locator("#db-timeline").inner_text()
            assert "trainee\tacknowledge TECH_PR_INVALID, TECH_SPO2_INVALID" in timeline
            assert "Probe falls off now" in timeline and "probe_off on" in timeline
            assert errors == []
        finally:
            console.close()
            trainee.close()
