"""The live pleth strip on the bed page: it advances, and breaks when the probe comes off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.config import parse_config
from tests.helpers import REPO, config_dict, served, wait_until

pytestmark = pytest.mark.e2e
STRIP = "document.querySelector('#bed-wave .js-plotly-plot').data[0]"


def _strip(page: Any) -> dict[str, Any]:
    return page.evaluate(
        f"""() => {{
            const d = {STRIP};
            const drawn = document.querySelectorAll('#bed-wave path.js-line').length;
            const gaps = d.y.filter(v => v === null).length;
            return {{n: d.x.length, last: d.x[d.x.length - 1], gaps: gaps, drawn: drawn}};
        }}"""
    )


def test_the_pleth_strip_advances_and_shows_a_gap(browser: Any, tmp_path: Path) -> None:
    data = config_dict(tmp_path / "sessions.db")
    data["training"] = {
        "enabled": True,
        "scenarios": str(REPO / "devices" / "simulator" / "scenarios"),
    }
    with served(parse_config(data)) as (station, url):
        station.ward.training_command("chair-1", "start", "instructor", "uneventful")
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        try:
            page.goto(url + "/bed/chair-1")
            page.wait_for_selector("#bed-wave .js-plotly-plot")
            wait_until(lambda: _strip(page)["n"] >= 200, 10, "two seconds of pleth")
            first = _strip(page)
            assert first["drawn"] >= 1, "the trace is painted"
            wait_until(lambda: _strip(page)["last"] > first["last"], 5, "the strip to advance")
            assert _strip(page)["gaps"] == 0

            bed = station.ward.runtime("chair-1")
            station.ward.training_command("chair-1", "artifact", "instructor", "probe_off")
            wait_until(lambda: "SPO2" in bed.snapshot().status, 5, "the probe reported off")
            off_at = bed.snapshot().latest["HR"].t
            wait_until(  # two more seconds of monitoring with the probe off: no pleth comes
                lambda: bed.snapshot().latest["HR"].t >= off_at + 2, 10, "time with the probe off"
            )
            station.ward.training_command("chair-1", "artifact", "instructor", "probe_off")
            wait_until(lambda: _strip(page)["gaps"] >= 1, 10, "a gap where the probe was off")
            assert errors == []
        finally:
            page.close()
