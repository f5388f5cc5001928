"""Screenshots for the README: the central station and a bed page during an alarm.

Serves 30 simulated chairs in process, desaturates chair 3, and saves
docs/central-station.png (1920×1080) and docs/bed-alarm.png (1400×1000) from Debian's
Chromium.

    python docs/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from monitor.config import parse_config  # noqa: E402
from tests.browser import launch  # noqa: E402
from tests.helpers import config_dict, served, wait_until  # noqa: E402

HERE = Path(__file__).resolve().parent


def _swept(page: Any, strip: str) -> int:
    """Samples a sweeping strip has drawn so far."""
    drawn = page.evaluate(f"() => (window.monitorSweeps['{strip}'] || {{samples: 0}}).samples")
    return int(drawn)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = config_dict(Path(tmp) / "s.db", beds=30)
        with served(parse_config(data)) as (station, url), sync_playwright() as p:
            browser = launch(p)
            station.ward.runtime("chair-3").device.set_value("SPO2", 80)  # type: ignore[attr-defined]
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(url + "/")
            bar = page.locator("#ov-alarm-bar")
            wait_until(lambda: "Chair 3" in bar.inner_text(), 30, "the alarm")
            wait_until(lambda: _swept(page, "chair-30:PLETH") > 400, 30, "full pleth strips")
            page.screenshot(path=str(HERE / "central-station.png"))
            page.close()
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "/bed/chair-3")
            page.wait_for_selector("#bed-banner.banner-high")
            wait_until(lambda: _swept(page, "bed:PLETH") > 1200, 20, "a full pleth strip")
            page.screenshot(path=str(HERE / "bed-alarm.png"))
            page.close()
            browser.close()
    print(f"wrote {HERE / 'central-station.png'} and {HERE / 'bed-alarm.png'}")


if __name__ == "__main__":
    main()
