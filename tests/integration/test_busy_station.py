"""Thirty simulated chairs beside a CPU hog on every core: no false TECH_NO_DATA, no reading lost.

The suite runs it for HOG_SECONDS=60 (the default); `HOG_SECONDS=300` runs the issue's full
five minutes. HOG_PROCS sets the number of busy processes, at the station's own priority; the
default, four per core, keeps a 2-core machine at a load average of about 8 to 10, as in the
issue (where simulator threads had been late by more than 2 s).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from dashboard import build_station
from monitor.config import parse_config
from tests.helpers import config_dict, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.hog]  # alone: it would starve its neighbours
CHAIRS = 30
SECONDS = float(os.environ.get("HOG_SECONDS", "60"))
HOGS = int(os.environ.get("HOG_PROCS", str(4 * (os.cpu_count() or 2))))


def _hog(until: float) -> None:
    x = 0
    while time.time() < until:  # busy, at the station's own priority
        x = (x * 31 + 7) % 1_000_003


@pytest.mark.timeout(SECONDS + 120)
def test_thirty_chairs_beside_a_cpu_hog_raise_no_false_alarm(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = config_dict(tmp_path / "s.db", beds=CHAIRS)
    station = build_station(parse_config(data))
    hubs = [station.ward.runtime(f"chair-{i + 1}") for i in range(CHAIRS)]
    caplog.set_level(logging.INFO)
    station.start()
    ctx = multiprocessing.get_context("spawn")
    hogs = [ctx.Process(target=_hog, args=(time.time() + SECONDS + 5,)) for _ in range(HOGS)]
    try:
        wait_until(lambda: all("HR" in h.snapshot().latest for h in hubs), 20, "every chair")
        for p in hogs:
            p.start()
        start = time.time()
        time.sleep(SECONDS)
        load = os.getloadavg()
        end = time.time()
    finally:
        for p in hogs:
            p.terminate()
            p.join(5)
        station.stop()

    no_data = [r.getMessage() for r in caplog.records if "TECH_NO_DATA" in r.getMessage()]
    counts, worst_gap = [], 0.0
    for hub in hubs:
        hr = [r.t for r in hub.since(0)[0] if r.signal == "HR" and start <= r.t <= end - 5]
        counts.append(len(hr))
        gaps = [b - a for a, b in zip(hr, hr[1:], strict=False)]
        worst_gap = max(worst_gap, *gaps)
        assert hub.core.rejected == {}, hub.info.id
    print(
        f"\n{CHAIRS} chairs, {HOGS} hogs, {SECONDS:.0f} s: load average {load[0]:.1f}; "
        f"HR readings per chair {min(counts)}-{max(counts)} of {end - 5 - start:.0f} s; "
        f"largest gap between readings {worst_gap:.2f} s; TECH_NO_DATA lines {len(no_data)}"
    )
    assert no_data == []
    assert worst_gap < 1.0 + 1e-6  # each missed second came late, but came, at its own time
    assert min(counts) >= int(end - 5 - start) - 1
