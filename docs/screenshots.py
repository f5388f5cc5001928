"""Screenshots for the README: the central station and a bed page during an alarm.

Serves 12 simulated chairs in process, desaturates chair 3, and saves
docs/central-station.png (1920×1080) and docs/bed-alarm.png (1400×1000) from Debian's
Chromium.

    python docs/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from monitor.config import parse_config  # noqa: E402
from tests.browser import launch  # noqa: E402
from tests.helpers import config_dict, served, wait_until  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = config_dict(Path(tmp) / "s.db", beds=12)
        with served(parse_config(data)) as (station, url), sync_playwright() as p:
            browser = launch(p)
            station.ward.runtime("chair-3").device.set_value("SPO2", 80)  # type: ignore[attr-defined]
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(url + "/")
            bar = page.locator("#ov-alarm-bar")
            wait_until(lambda: "Chair 3" in bar.inner_text(), 30, "the alarm")
            page.screenshot(path=str(HERE / "central-station.png"))
            page.close()
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "/bed/chair-3")
            page.wait_for_selector("#bed-banner.banner-high")
            wait_until(
                lambda: (
                    page.evaluate(
                        "document.querySelector('#bed-wave .js-plotly-plot').data[0].x.length"
                    )
                    > 300
                ),
                10,
                "a pleth strip",
            )
            page.screenshot(path=str(HERE / "bed-alarm.png"))
            page.close()
            browser.close()
    print(f"wrote {HERE / 'central-station.png'} and {HERE / 'bed-alarm.png'}")


if __name__ == "__main__":
    main()
