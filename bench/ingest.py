"""The live path of one reading: device item -> bed core -> journal -> session log queue.

Feeds db00.raw's readings (a real CARESCAPE capture) into a bed with an open session and the
shipped config.yaml rules, one by one as its device thread would, with a watchdog tick every
simulated second, and reports readings/s of CPU (best of --repeats).

    python bench/ingest.py [--copies N] [--repeats N]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.protocols.datex_s5 import DriDecoder  # noqa: E402
from monitor.clock import ManualClock  # noqa: E402
from monitor.config import BedConfig, SimulatorDevice, load_config  # noqa: E402
from monitor.model import Reading  # noqa: E402
from monitor.runtime.bed import BedRuntime  # noqa: E402
from monitor.storage.sqlite import SessionStore  # noqa: E402
from tests.helpers import PLAN, QuietDevice  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CAPTURE = REPO.parent / "shared" / "data" / "datex-carescape" / "db00.raw"


def run_once(readings: list[Reading], folder: Path) -> float:
    config = load_config(REPO / "config.yaml")
    store = SessionStore(folder / "bench.db")
    clock = ManualClock(readings[0].t)
    bed = BedConfig(id="bench", name="Bench", device=SimulatorDevice(kind="simulator"))
    runtime = BedRuntime(bed, QuietDevice(), store, clock, config.alarms, session=config.session)
    runtime.create_session(PLAN, "bench")
    start = time.process_time()
    second = readings[0].t
    for r in readings:
        if r.t >= second + 1:
            clock.advance(r.t - clock.now())
            runtime.check_feed()
            second = r.t
        runtime.ingest(r)
    store.flush()
    spent = time.process_time() - start
    store.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    logging.getLogger("monitor").setLevel(logging.ERROR)  # the figures only
    decoded = [e for e in DriDecoder("bench").feed(CAPTURE.read_bytes()) if isinstance(e, Reading)]
    span = decoded[-1].t - decoded[0].t + 1
    readings = [
        Reading("bench", r.t + k * span, r.signal, r.value, r.unit)
        for k in range(args.copies)
        for r in decoded
    ]
    best = float("inf")
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            best = min(best, run_once(readings, Path(tmp)))
    if best <= 0:
        raise SystemExit("no time measured")
    print(
        f"{len(readings):,} readings: {len(readings) / best:,.0f} readings/s of CPU "
        f"({best * 1e6 / len(readings):.1f} µs each, with the session log queue)"
    )


if __name__ == "__main__":
    main()
