"""Forms never correct a clinical value, and tiles show their alarm limits (real Chromium)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import expect

from monitor.config import parse_config
from tests.helpers import REPO, config_dict, served, wait_until

pytestmark = pytest.mark.e2e


def test_weight_500_is_refused_kept_and_the_spo2_tile_shows_its_limits(
    browser: Any, tmp_path: Path
) -> None:
    data = config_dict(tmp_path / "sessions.db")
    data["alarms"] = yaml.safe_load((REPO / "config.yaml").read_text())["alarms"]
    with served(parse_config(data)) as (station, url):
        hub = station.ward.runtime("chair-1")
        hub.change_limit("SPO2_LOW", 90, "dr-a", "COPD, baseline 91 %")
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url + "/bed/chair-1")
            weight = page.locator("#s-weight")
            weight.fill("500")
            page.locator("#s-conc").fill("2")
            page.locator("#s-duration").fill("240")
            page.locator("#s-plan-rate").fill("0.35")
            page.locator("#s-patient").click()  # leave the field, as a nurse would
            page.get_by_role("button", name="Create session").click()
            msg = page.locator("#s-msg")
            wait_until(lambda: "weight" in msg.inner_text(), 8, "the weight error")
            assert msg.inner_text() == "weight: 500 is outside 20 to 300 kg"
            assert weight.input_value() == "500"  # kept as typed, never clamped to 300
            # the same words beside the field, and the field marked for the screen reader too
            wrapper = page.locator(".mantine-InputWrapper-root", has=weight)
            expect(wrapper.locator(".mantine-InputWrapper-error")).to_have_text(
                "weight: 500 is outside 20 to 300 kg"
            )
            assert weight.get_attribute("aria-invalid") == "true"
            assert hub.session is None and station.store.sessions("chair-1") == []

            ident = json.dumps({"tile": "SPO2", "type": "bed-limits"}, separators=(",", ":"))
            limits = page.locator(f"[id='{ident}']")
            wait_until(lambda: "▼ 90*" in limits.inner_text(), 8, "the SpO2 limits")
            assert limits.is_visible()
            changed = limits.locator(".tile-limit.changed")
            assert changed.count() == 1 and changed.inner_text() == "▼ 90*"  # marked
            hr = json.dumps({"tile": "HR", "type": "bed-limits"}, separators=(",", ":"))
            assert page.locator(f"[id='{hr}']").inner_text().split() == ["▲", "120", "▼", "50"]
            assert errors == []
        finally:
            page.close()
