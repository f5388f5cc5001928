"""A patient's series in Chromium: the pain and dose chart is drawn, and the series CSV and
PDF download; the PDF's text, read back with pypdf, holds the session table."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from monitor.config import parse_config
from tests.helpers import served
from tests.series_course import DAY, PATIENT, course, gateway_config, gateway_station, record_course

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DRAWN = """() => ({
    lines: document.querySelectorAll('#pt-chart .scatterlayer .trace path.js-line').length,
    points: document.querySelectorAll('#pt-chart .scatterlayer .point').length,
    bars: document.querySelectorAll('#pt-chart .barlayer .point path').length,
    webgl: document.querySelectorAll('#pt-chart canvas').length,
})"""


def test_a_series_is_drawn_and_its_csv_and_pdf_download(browser: Any, tmp_path: Path) -> None:
    before, clock = gateway_station(tmp_path, time.time() - 90 * DAY)
    plans = course(4)
    ids = record_course(before, clock, plans)
    key = before.app.server.extensions["monitor_access"].pseudonym(PATIENT)
    before.store.close()
    data = gateway_config(tmp_path)  # the same session log, served on real time
    with served(parse_config(data)) as (station, url):
        page = browser.new_page(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
        violations: list[str] = []
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
        )
        try:
            page.goto(f"{url}/patients/{key}")
            page.wait_for_selector("#pt-chart .js-plotly-plot")
            page.wait_for_function(
                "() => document.querySelectorAll('#pt-chart .barlayer .point path').length > 0"
            )
            drawn = page.evaluate(DRAWN)
            assert drawn["bars"] == 4 and drawn["lines"] >= 1 and drawn["webgl"] == 0, drawn
            # pain before (4) + at the end (4) + two follow-ups each (8)
            assert drawn["points"] >= 16, drawn
            rows = page.locator("#pt-table tr")
            assert rows.count() == 1 + 4
            assert page.locator("#pt-table").inner_text().count("fibromyalgia") == 4

            with page.expect_download() as got:
                page.get_by_role("button", name="Series CSV").click()
            table = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text())))
            assert [int(r["session"]) for r in table] == ids
            assert [int(r["pain_before"]) for r in table] == [p.pain_before for p in plans]

            with page.expect_download(timeout=60_000) as got:
                page.get_by_role("button", name="Series PDF").click()
            reader = PdfReader(got.value.path())
            text = "".join(p.extract_text() for p in reader.pages)
            assert len(reader.pages) == 1, len(reader.pages)
            assert f"patient {PATIENT}" in text and "Sessions" in text
            assert text.count("fibromyalgia") == 4 and "ondansetron" in text
            assert violations == []
        finally:
            page.close()
