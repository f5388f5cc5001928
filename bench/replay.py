"""Alarm-engine throughput in the replay tool, on one core.

Decodes db00.raw (a real CARESCAPE capture), repeats its readings end to end in time until
there are about 500,000 of them (about 35 hours of monitoring), and replays them under the
shipped config.yaml rules: once from parsed rows (the engine and its checks) and once from CSV
text (what `python -m monitor replay` does).

    python bench/replay.py [--copies N]
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.protocols.datex_s5 import DriDecoder  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.model import Reading  # noqa: E402
from monitor.replay import read_readings, replay  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CAPTURE = REPO.parent / "shared" / "data" / "datex-carescape" / "db00.raw"


def readings(copies: int) -> list[tuple[float, str, float, str]]:
    decoded = [e for e in DriDecoder("bench").feed(CAPTURE.read_bytes()) if isinstance(e, Reading)]
    span = decoded[-1].t - decoded[0].t + 1
    return [(r.t + k * span, r.signal, r.value, r.unit) for k in range(copies) for r in decoded]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=72)
    args = parser.parse_args()
    logging.getLogger("monitor.runtime").setLevel(logging.ERROR)  # the figures only
    config = load_config(REPO / "config.yaml")
    rows = readings(args.copies)
    text = "time,signal,value,unit\n" + "".join(
        f"{t:.0f},{s},{v:.10g},{u}\n" for t, s, v, u in rows
    )
    print(
        f"{len(rows):,} readings ({args.copies} copies of db00.raw), "
        f"{len(config.alarms.rules)} rules"
    )

    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        result = replay(rows, config, "bench", None)
        best = min(best, time.process_time() - start)
    print(
        f"engine, parsed rows: {len(rows) / best:,.0f} readings/s "
        f"({result.hours:.1f} h of monitoring in {best:.2f} s CPU; "
        f"{sum(result.onsets.values())} alarms raised)"
    )

    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        out = io.StringIO()
        replay(read_readings(io.StringIO(text), "bench.csv"), config, "bench", out)
        best = min(best, time.process_time() - start)
    print(f"CSV in, CSV out:     {len(rows) / best:,.0f} readings/s")


if __name__ == "__main__":
    main()
