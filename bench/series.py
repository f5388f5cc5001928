"""A patient's series page with 50 infusions: server-side render time.

Records a course of N infusions (default 50, 15 days apart) for one patient in a fresh
SQLite session log through the station's own commands (tests/series_course.py: a chair fed
by a PCD-01 gateway, about 80 minutes of readings, assessments, discharge and two follow-up
calls each). Then renders the series page's content (monitor/ui/pages/series.py) from a
freshly opened store, which reads every session's record and summary, and serializes it as
Dash would; prints the first render and the median of the next renders.

Target (issue: patient series): the page for 50 sessions renders within 1 s, server side.

    python bench/series.py [--sessions 50] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plotly.io.json import to_json_plotly  # noqa: E402

from dashboard import build_station  # noqa: E402
from monitor.config import parse_config  # noqa: E402
from monitor.ui.pages.series import series_layout  # noqa: E402
from tests.series_course import (  # noqa: E402
    DAY,
    PATIENT,
    course,
    gateway_config,
    gateway_station,
    record_course,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.time() - (args.sessions * 15 + 30) * DAY
        recording, clock = gateway_station(folder, start)
        t0 = time.perf_counter()
        ids = record_course(recording, clock, course(args.sessions))
        built = time.perf_counter() - t0
        recording.store.close()
        station = build_station(parse_config(gateway_config(folder)))  # nothing cached
        try:
            access = station.app.server.extensions["monitor_access"]
            key = access.pseudonym(PATIENT)
            rules = station.config.alarms.rules

            def render() -> tuple[float, int]:
                t = time.perf_counter()
                page = series_layout(station.store, rules, access, key)
                size = len(to_json_plotly(page))
                return time.perf_counter() - t, size

            first, size = render()
            again = [render()[0] for _ in range(args.repeats)]
        finally:
            station.store.close()
    print(f"recorded {len(ids)} sessions in {built:.1f} s (about 80 min of readings each)")
    print(
        f"series page, {args.sessions} sessions: first render {first * 1000:.0f} ms, "
        f"median of {args.repeats} {statistics.median(again) * 1000:.0f} ms, "
        f"{size / 1000:.0f} kB (target: within 1 s)"
    )


if __name__ == "__main__":
    main()
