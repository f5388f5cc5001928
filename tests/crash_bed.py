"""A bed in a child process, for the kill -9 test (tests/integration/test_alarm_restart.py).

python -m tests.crash_bed before DB T0   raise the alarms, print the bed's state, then wait
python -m tests.crash_bed after DB T1    start again on the same log, print the state, then
                                          let the causes go and reset, and exit
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from monitor.clock import ManualClock
from monitor.config import BedConfig, SimulatorDevice, load_config
from monitor.model import Reading
from monitor.runtime.bed import BedRuntime
from monitor.storage.sqlite import SessionStore
from tests.helpers import REPO, QuietDevice

BED = BedConfig(id="chair-1", name="Chair 1", device=SimulatorDevice(kind="simulator"))


def _state(bed: BedRuntime) -> dict[str, Any]:
    snap = bed.snapshot()
    alarms = [
        {
            "name": a.name,
            "display": str(a.display),
            "acked_by": a.acked_by,
            "priority": a.priority.name,
            "onset_t": a.onset_t,
        }
        for a in snap.alarms
    ]
    return {"now": snap.now, "alarms": alarms, "pause": snap.pause_remaining_s}


def _feed(bed: BedRuntime, clock: ManualClock, seconds: int, spo2: float, hr: float) -> None:
    for _ in range(seconds):
        t = clock.advance(1.0)
        bed.ingest(Reading("chair-1", t, "SPO2", spo2, "%"))
        bed.ingest(Reading("chair-1", t, "HR", hr, "/min"))
        bed.check_feed()


def main(phase: str, db: str, t0: float) -> int:
    alarms = load_config(REPO / "config.yaml").alarms
    store = SessionStore(Path(db), flush_interval_s=0.1)
    store.start()
    clock = ManualClock(t0)
    bed = BedRuntime(BED, QuietDevice(), store, clock, alarms)
    if phase == "before":
        _feed(bed, clock, 8, spo2=80, hr=80)  # SPO2_DESAT (HIGH, 5 s) sounds
        bed.acknowledge("nurse-a")  # acknowledged, and the cause stays
        _feed(bed, clock, 12, spo2=80, hr=150)  # HR_VERY_HIGH (HIGH, 10 s) sounds
        _feed(bed, clock, 3, spo2=80, hr=80)  # its cause goes: latched, unacknowledged
        bed.pause_audio("nurse-a")
        _feed(bed, clock, 10, spo2=80, hr=80)  # the pause has 110 s left
        store.flush()
        print(json.dumps(_state(bed)), flush=True)
        time.sleep(3600)  # killed here
        return 1
    print(json.dumps(_state(bed)), flush=True)
    _feed(bed, clock, 5, spo2=97, hr=80)  # SpO2 recovers: the desaturation latches
    bed.reset_alarms("nurse-b")
    store.close()
    print(json.dumps(_state(bed)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
