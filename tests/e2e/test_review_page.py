"""A physician opens a stored session, zooms a trend, reads the alarm history, downloads CSV."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from monitor.clock import ManualClock
from monitor.model import Reading
from tests.helpers import PLAN, make_config, served

pytestmark = pytest.mark.e2e

# Counts the page's CSP refusals from before its first script runs.
CSP_WATCH = (
    "window.cspViolations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
)
HR_GREEN = (0x39, 0xFF, 0x6A)


def assert_chart_painted(page: Any) -> None:
    """What the physician sees: the plot drew its traces (the HR line's green is on the
    screen), with no WebGL notice and no code the CSP had to refuse."""
    expect(page.locator("#rv-trend")).not_to_contain_text("WebGL")
    png = page.locator("#rv-trend .js-plotly-plot").screenshot()
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    near_hr = (np.abs(pixels - np.array(HR_GREEN)).sum(axis=2) < 60).sum()
    lit = (pixels.max(axis=2) > 40).mean()
    assert near_hr > 500, f"the HR trace is not painted ({near_hr} pixels of its colour)"
    assert lit > 0.02, f"the plot area is blank ({lit:.1%} of pixels lit)"
    assert page.evaluate("window.cspViolations") == []


def test_review_a_stored_session(browser: Any, tmp_path: Path) -> None:
    clock = ManualClock(start=time.time() - 3 * 3600)
    with served(make_config(tmp_path), clock) as (station, url):
        hub = station.ward.runtime("chair-1")
        hub.stop()  # only this test's readings: the simulator must not race them
        clock.advance(1)  # past the simulator's first tick
        hub.create_session(PLAN | {"weight_kg": 70}, "nurse")
        hub.start_infusion("dr", "review test set-up", role="physician")
        for i in range(3600):  # an hour at 1 Hz, with a desaturation at 30 min
            spo2 = 80.0 if 1800 <= i < 1830 else 97.0
            hub.ingest(Reading("chair-1", clock.now(), "SPO2", spo2, "%"))
            hub.ingest(Reading("chair-1", clock.now(), "HR", 70 + i % 7, "/min"))
            if i == 1805:
                hub.acknowledge("nurse-a")
            clock.advance(1)
        hub.stop_infusion("nurse")
        session_id = hub.session.id  # type: ignore[union-attr]
        station.store.flush()

        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.add_init_script(CSP_WATCH)
        try:
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url + "/sessions")
            page.get_by_role("link", name=f"Session {session_id}").click()
            page.wait_for_selector("#rv-trend .js-plotly-plot")
            # (Playwright's string predicates are eval, which the page's CSP forbids)
            expect(page.locator("#rv-resolution")).to_contain_text("/3600 pts")
            resolution = page.locator("#rv-resolution")
            shown = re.search(r"HR (\d+)/3600 pts", resolution.inner_text())
            assert shown is not None and int(shown.group(1)) <= 2000  # downsampled
            assert_chart_painted(page)
            history = page.locator("#rv-alarms").inner_text()
            assert "SPO2_DESAT" in history and "nurse-a" in history

            time.sleep(1)  # let the graph's own autosize relayout pass first
            # zoom to five minutes around the desaturation: the server re-downsamples
            start = clock.now() - 3600 + 1700
            page.evaluate(
                "([a, b]) => Plotly.relayout(document.querySelector('#rv-trend .js-plotly-plot'),"
                " {'xaxis.range': [new Date(a * 1000).toISOString().replace('T', ' ')"
                ".replace('Z', ''), new Date(b * 1000).toISOString().replace('T', ' ')"
                ".replace('Z', '')]})",
                [start, start + 300],
            )
            expect(page.locator("#rv-resolution")).to_contain_text("HR 30")
            spo2_y = page.evaluate("document.querySelector('#rv-trend .js-plotly-plot').data[2].y")
            assert min(y for y in spo2_y if y is not None) == 80  # the nadir is in view

            with page.expect_download() as download:
                page.get_by_role("button", name="Export").click()  # CSV is the default
            path = download.value.path()
            lines = Path(path).read_text().splitlines()
            assert lines[0] == "time,epoch,signal,value,unit"
            assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d,", lines[1])
            assert sum(1 for line in lines if ",SPO2," in line) == 3600
            assert "80,%" in "\n".join(lines)  # the desaturation is in the download
            assert download.value.suggested_filename == f"session-{session_id}-SIMULATED.csv"

            # a simulated session stays out of a clinical export until included explicitly
            page.get_by_role("textbox", name="Format").click()
            page.get_by_role("option", name="HL7 v2.6 ORU^R01").click()
            page.get_by_role("button", name="Export").click()
            expect(page.locator("#rv-export-status")).to_contain_text("is simulated")
            page.get_by_label("Include this simulated session").check()
            with page.expect_download() as download:
                page.get_by_role("button", name="Export").click()
            message = Path(download.value.path()).read_text()
            assert message.startswith("MSH|") and "|T|2.6|" in message
            assert errors == []
        finally:
            page.close()
