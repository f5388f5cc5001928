"""A whole infusion session as a nurse walks it, in a real browser, at 30x simulated time."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from monitor.clock import ScaledClock
from monitor.config import parse_config
from tests.helpers import config_dict, served, wait_until

pytestmark = pytest.mark.e2e
SPEED = 30.0


def pick(page: Any, ident: str, value: str) -> None:
    """Choose an option of a Mantine select, as a finger would (choosing the option already
    chosen would clear it)."""
    if page.locator(f"#{ident}").input_value() == value:
        return
    for attempt in range(3):  # on a loaded machine the dropdown may close before the click
        page.locator(f"#{ident}").click(position={"x": 12, "y": 12})  # clear of the clear button
        try:
            page.get_by_role("option", name=value, exact=True).click(timeout=5_000)
            return
        except Exception:
            if attempt == 2:
                raise


def assess(page: Any, rass: str, cadss: list[int], note: str) -> None:
    pick(page, "s-rass", rass)
    for i, v in enumerate(cadss):
        pick(page, f"s-cadss-{i}", str(v))
    page.locator("#s-note").fill(note)
    page.get_by_role("button", name="Save assessment").click()


def test_nurse_walks_a_whole_session(browser: Any, tmp_path: Path) -> None:
    data = config_dict(tmp_path / "sessions.db")
    data["alarms"]["rules"].append(
        {"name": "CADSS6_HIGH", "signal": "CADSS6", "op": ">=", "limit": 12, "priority": "MEDIUM"}
    )
    with served(parse_config(data), ScaledClock(SPEED)) as (station, url):
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        try:
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url + "/bed/chair-1")
            msg = page.locator("#s-msg")

            def step(button: str, expect: str, seconds: float = 8) -> None:
                page.get_by_role("button", name=button).click()
                wait_until(lambda: expect in msg.inner_text(), seconds, f"{button}: {expect}")

            page.locator("#s-patient").fill("K-0042")
            page.locator("#s-weight").fill("70")
            pick(page, "s-indication", "depression")
            pick(page, "s-regimen", "0.5 mg/kg over 40 min")
            step("Create session", "concentration: required (0.1 to 100 mg/mL)")
            page.locator("#s-conc").fill("10")
            page.locator("#s-duration").fill("40")
            step("Create session", "Session created")

            # two resting cuff readings (every 3 simulated minutes) make the baseline
            hub = station.ward.runtime("chair-1")
            wait_until(
                lambda: sum(1 for r in hub.since(0)[0] if r.signal == "NIBP_SYS") >= 2,
                20,
                "two cuff readings",
            )
            step("Confirm baseline", "Baseline confirmed")
            wait_until(
                lambda: "Baseline: " in page.locator("#s-info").inner_text(),
                5,
                "the baseline on the page",
            )
            # the start fails closed until the scores and the checklist are done
            step("Start infusion", "hold: no pre-infusion RASS score")
            pick(page, "s-pain", "6")
            assess(page, "0", [0, 0, 0, 0, 0, 0], "settled, ready")
            wait_until(lambda: "Assessment saved" in msg.inner_text(), 5, "pre-infusion scores")
            step("Start infusion", "hold: not ticked: Identity and weight checked")
            for label in (
                "Identity and weight checked",
                "Consent signed",
                "Fasting per protocol",
                "IV line patent",
                "Contraindications screened",
                "Escort arranged; no driving today",
            ):
                page.get_by_text(label, exact=True).click()
            step("Start infusion", "Infusion started.")
            wait_until(
                lambda: "infusing 0.75 mg/kg/h" in page.locator("#bed-session").inner_text(),
                5,
                "the infusing header",
            )

            page.locator("#s-new-rate").fill("0.5")
            step("Change rate", "Rate changed to 0.5")
            wait_until(
                lambda: "Rate 0.5 mg/kg/h (3.5 mL/h)" in page.locator("#s-info").inner_text(),
                5,
                "the new rate and mL/h",
            )
            wait_until(
                lambda: "model estimate" in page.locator("#s-info").inner_text(),
                5,
                "the Cp/Ce estimate",
            )
            # the infusion at a glance, above the fold of a 1600x1000 screen
            page.set_viewport_size({"width": 1600, "height": 1000})
            page.evaluate("window.scrollTo(0, 0)")
            strip = page.locator("#bed-infusion")
            wait_until(lambda: "Next assessment" in strip.inner_text(), 5, "the strip's countdown")
            text = strip.inner_text()
            assert "0.5 mg/kg/h · 3.5 mL/h" in text and re.search(r"\d+ mg · 0\.\d\d mg/kg", text)
            assert "Ce (model)" in text
            box = strip.bounding_box()
            assert box is not None and box["y"] + box["height"] <= 1000, box
            page.set_viewport_size({"width": 1400, "height": 1200})

            assess(page, "0", [3, 2, 2, 2, 2, 2], "<b>floating</b>, a bit scared")
            wait_until(lambda: "Assessment saved" in msg.inner_text(), 5, "assessment 1")
            banner = page.locator("#bed-banner")
            wait_until(lambda: "** CADSS-6" in banner.inner_text(), 5, "the dissociation alarm")
            assess(page, "0", [0, 0, 0, 0, 0, 0], "calm")
            wait_until(
                lambda: "CADSS6 0" in page.locator("#s-info").inner_text(), 5, "assessment 2"
            )

            step("Stop infusion", "recovery")
            wait_until(lambda: "stopped" in strip.inner_text(), 5, "the strip after the stop")
            assert "mL/h" not in strip.inner_text()  # no rate once stopped
            wait_until(
                lambda: "✗ RASS 0 after the stop" in page.locator("#s-info").inner_text(),
                5,
                "the computed checklist",
            )
            assess(page, "0", [0, 0, 0, 0, 0, 0], "awake, oriented")
            wait_until(
                lambda: "✓ RASS 0 after the stop" in page.locator("#s-info").inner_text(),
                5,
                "RASS after the stop",
            )
            for label in (
                "Walks steadily",
                "No nausea needing treatment",
                "Responsible adult present; no driving today",
            ):
                page.get_by_text(label, exact=True).click()
            step("Discharge", "not yet: Minimum recovery time")
            page.locator("#s-discharge-override").fill("observed 20 min, settled; Dr on site")
            step("Discharge", "Discharged")
            step("Close record", "Session closed.")
            assert errors == []
        finally:
            page.close()

        station.store.flush()
        (session,) = station.store.sessions("chair-1")
        log = station.store.events(session.id)
        steps = [e.kind for e in log if not e.kind.startswith(("alarm_", "device_"))]
        assert steps == [
            "session_created",
            "baseline_confirmed",
            "hold_start",
            "assessment",
            "hold_start",
            "infusion_start",
            "rate_change",
            "assessment",
            "assessment",
            "infusion_stop",
            "assessment",
            "refused",
            "override",
            "discharged",
            "session_closed",
        ]
        assert all(e.user == "test-station" for e in log if e.kind in steps)
        step_times = [e.t for e in log if e.kind in steps]
        assert step_times == sorted(step_times)  # in the order the nurse did them
        notes = [e.payload["note"] for e in log if e.kind == "assessment"]
        assert notes[1:3] == ["<b>floating</b>, a bit scared", "calm"]  # kept as text
        (override,) = [e for e in log if e.kind == "override"]
        assert override.payload["role"] == "physician" and "recovery" in str(override.payload)
        assert "alarm_active" in {e.kind for e in log if e.payload.get("alarm") == "CADSS6_HIGH"}
        assert session.state == "closed"
