"""The live pleth strip on the bed page: it advances, and breaks when the probe comes off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.config import parse_config
from tests.helpers import REPO, config_dict, served, wait_until

pytestmark = pytest.mark.e2e
SWEEP = """() => {
    const s = window.monitorSweeps && window.monitorSweeps['bed:PLETH'];
    if (!s) return null;
    const c = s.canvas;
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) lit += 1;
    return {samples: s.samples, chunks: s.chunks, gaps: s.gaps, x: s.x, lit: lit,
            wide: c.width};
}"""


def _strip(page: Any) -> dict[str, Any]:
    return page.evaluate(SWEEP) or {"samples": 0, "chunks": 0, "gaps": 0, "x": 0, "lit": 0}


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
            wait_until(lambda: _strip(page)["samples"] >= 200, 10, "two seconds of pleth")
            first = _strip(page)
            assert first["lit"] > 200, "the trace is painted on the canvas"
            wait_until(lambda: _strip(page)["x"] != first["x"], 5, "the sweep to advance")
            now = _strip(page)
            assert now["chunks"] >= now["samples"] / 30  # chunks of about 250 ms, not seconds
            assert now["gaps"] == 0

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
