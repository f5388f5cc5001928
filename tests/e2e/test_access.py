"""Logged in as a nurse, then as a physician, in a real Chromium: what each may do, and the
audit that records both."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from devices.simulator.inprocess import SimulatedMonitor
from monitor.access import hash_password
from monitor.config import parse_config
from tests.helpers import REPO, config_dict, served

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"


def log_in(page: Any, url: str, name: str) -> None:
    response = page.goto(url + "/bed/chair-1")  # anonymous: sent to the login page, then back
    assert response is not None and response.status == 200, response and response.status
    assert page.url == url + "/login?next=/bed/chair-1", page.url
    page.get_by_label("User").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/bed/chair-1")
    expect(page.locator(".station").first).to_contain_text(name)


def change_limit(page: Any, reason: str) -> Any:
    page.get_by_role("textbox", name="Alarm").click()
    page.get_by_role("option", name="SPO2_LOW").click()
    page.locator("#limit-value").fill("90")
    page.locator("#limit-reason").fill(reason)
    page.get_by_role("button", name="Change limit").click()
    return page.locator("#limit-msg")


def test_nurse_and_physician(browser: Any, tmp_path: Path) -> None:
    data = config_dict(tmp_path / "sessions.db")
    data["server"]["auth"] = True
    data["training"] = {"enabled": True, "scenarios": str(REPO / "devices/simulator/scenarios")}
    with served(parse_config(data)) as (station, url):
        for role in ("nurse", "physician"):
            station.store.add_user(f"{role}-a", role, hash_password(PASSWORD), time.time())
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e) + str(getattr(e, "stack", ""))))
        try:
            log_in(page, url, "nurse-a")
            monitor = station.ward.runtime("chair-1").device
            assert isinstance(monitor, SimulatedMonitor)
            monitor.set_value("SPO2", 80)
            banner = page.locator("#bed-banner")
            expect(banner).to_contain_text("*** SpO₂", timeout=15_000)
            page.get_by_role("button", name="Acknowledge").click()
            expect(banner).to_contain_text("acknowledged by nurse-a")

            # A nurse may not change limits, and never sees the instructor console.
            expect(change_limit(page, "fewer false alarms")).to_contain_text(
                "not permitted for your role (nurse): limits"
            )
            assert "Instructor" not in page.locator("nav").inner_text()
            response = page.goto(url + "/instructor")
            assert response is not None and response.status == 403
            assert "Not permitted" in page.inner_text("body")

            page.goto(url + "/bed/chair-1")
            page.get_by_role("button", name="Log out").click()
            page.wait_for_url(url + "/login?why=logout")
            expect(page.get_by_role("alert")).to_have_text("You logged out.")

            log_in(page, url, "physician-a")
            expect(change_limit(page, "")).to_contain_text("needs a reason")
            expect(change_limit(page, "chronic lung disease, baseline 91 %")).to_contain_text(
                "SPO2_LOW"
            )
            page.get_by_role("link", name="Audit").click()
            audit = page.locator("#audit-table")
            expect(audit).to_contain_text("Alarm limit changed")
            text = audit.inner_text()
            assert "physician-a\tAlarm limit changed" in text and "baseline 91 %" in text
            assert "nurse-a\tAlarm acknowledged" in text
            assert "nurse-a\tLogged in" in text and "nurse-a\tLogged out" in text

            # An admin ends the physician's logins elsewhere: the open bed page does not go
            # on showing a name and NO DATA, it goes to the login page and says why.
            page.goto(url + "/bed/chair-1")
            expect(page.locator(".station").first).to_contain_text("physician-a")
            station.store.end_logins("physician-a", time.time(), "everywhere")
            page.wait_for_url(url + "/login?why=everywhere&next=%2Fbed%2Fchair-1")
            expect(page.get_by_role("alert")).to_have_text("An administrator ended your logins.")
            assert errors == []
        finally:
            page.close()
