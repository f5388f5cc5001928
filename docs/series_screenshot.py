"""The series page of a patient with eight infusions, for the README (docs/series.png).

Records the course through the station's commands (tests/series_course.py), serves the same
session log and photographs /patients/<pseudonym> in Debian's Chromium.

    python docs/series_screenshot.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from monitor.config import parse_config  # noqa: E402
from tests.browser import launch  # noqa: E402
from tests.helpers import served  # noqa: E402
from tests.series_course import (  # noqa: E402
    DAY,
    PATIENT,
    course,
    gateway_config,
    gateway_station,
    record_course,
)

OUT = Path(__file__).with_name("series.png")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        recording, clock = gateway_station(folder, time.time() - 140 * DAY)
        record_course(recording, clock, course(8))
        key = recording.app.server.extensions["monitor_access"].pseudonym(PATIENT)
        recording.store.close()
        config = parse_config(gateway_config(folder))
        with served(config) as (_station, url), sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{url}/patients/{key}")
            page.wait_for_selector("#pt-chart .barlayer .point path")
            page.screenshot(path=str(OUT), full_page=False)
            browser.close()
    print(OUT)


if __name__ == "__main__":
    main()
