"""Headless simulation speed: a 4-hour session of a training scenario, as fast as possible.

Runs devices.simulator.headless.simulate (the engine behind `python -m devices simulate`) on a
manual clock for 4 hours of simulated time, writing CSV rows to memory, and prints the wall
time and the speed-up over real time. Target: at most 2 s.

    python bench/simulate.py [--scenario FILE] [--hours 4]
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.simulator.headless import simulate  # noqa: E402
from devices.simulator.scenario import load_scenario  # noqa: E402
from monitor.clock import ManualClock  # noqa: E402
from monitor.model import Reading  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def once(path: Path, seconds: float) -> tuple[float, int]:
    scenario = load_scenario(path)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")

    def emit(r: Reading) -> None:
        writer.writerow([f"{r.t:.3f}", r.signal, f"{r.value:.10g}", r.unit])

    start = time.perf_counter()
    count = simulate(scenario, ManualClock(), seconds, emit)
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = REPO / "devices" / "simulator" / "scenarios" / "hypertensive-surge.yaml"
    parser.add_argument("--scenario", type=Path, default=default)
    parser.add_argument("--hours", type=float, default=4.0)
    args = parser.parse_args()
    seconds = args.hours * 3600
    runs = [once(args.scenario, seconds) for _ in range(3)]
    wall = statistics.median(w for w, _ in runs)
    print(f"scenario   {args.scenario.stem}, {args.hours:g} h simulated, {runs[0][1]:,} readings")
    print(f"wall time  {wall:.2f} s (median of 3; best {min(w for w, _ in runs):.2f} s)")
    print(f"speed-up   {seconds / wall:,.0f}x real time")


if __name__ == "__main__":
    main()
