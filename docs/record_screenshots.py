"""Screenshots for the README: a session record (its chart drawn) and its PDF's first page.

Builds an hour's infusion on a simulated chair through the bed's own commands (a 30 s
desaturation, a probe off for two minutes, assessments, an antiemetic, a rate change), closes
and signs it, then saves docs/session-record.png (1400×1560, Debian's Chromium) and
docs/session-record-pdf.png (page one of the exported PDF, by pdftoppm from poppler-utils).

    python docs/record_screenshots.py
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from monitor.clock import ManualClock  # noqa: E402
from monitor.exports import export_session  # noqa: E402
from monitor.model import Reading  # noqa: E402
from monitor.runtime.bed import BedRuntime  # noqa: E402
from tests.browser import launch  # noqa: E402
from tests.helpers import PLAN, make_config, served  # noqa: E402

HERE = Path(__file__).resolve().parent


def infusion_hour(hub: BedRuntime, clock: ManualClock, rng: random.Random) -> None:
    def cuff(sbp: float) -> None:
        for code, value in (("NIBP_SYS", sbp), ("NIBP_DIA", sbp * 0.6), ("NIBP_MEAN", sbp * 0.73)):
            hub.ingest(Reading("chair-1", clock.now(), code, value, "mmHg"))

    for i in range(600):  # ten resting minutes with four cuffs: the baseline
        if i % 180 == 0:
            cuff(122 + rng.gauss(0, 3))
        for code, value, unit in (("HR", 72, "/min"), ("PR", 72, "/min"), ("SPO2", 98, "%"),
                                  ("RR", 14, "/min")):  # fmt: skip
            hub.ingest(Reading("chair-1", clock.now(), code, value + rng.gauss(0, 0.8), unit))
        clock.advance(1)
    hub.confirm_baseline("nurse-a")
    hub.assess({"RASS": 0, "CADSS6": 0, "PAIN_NRS": 7, "note": "pain 7/10, anxious"}, "nurse-a")
    hub.start_infusion("dr-b", "checklist done on paper", role="physician")
    for i in range(3600):
        hr = 72 + 10 * (1 - math.exp(-i / 900)) + rng.gauss(0, 1)
        if i % 300 == 0:
            cuff(128 + 25 * (1 - math.exp(-i / 1200)) + rng.gauss(0, 4))
        if not 2400 <= i < 2520:  # the probe off for two minutes: a gap in the lines
            spo2 = 80.0 if 1800 <= i < 1830 else 97.5 + rng.gauss(0, 0.4)
            hub.ingest(Reading("chair-1", clock.now(), "SPO2", spo2, "%"))
            hub.ingest(Reading("chair-1", clock.now(), "PR", hr + rng.gauss(0, 1), "/min"))
        hub.ingest(Reading("chair-1", clock.now(), "HR", hr, "/min"))
        hub.ingest(Reading("chair-1", clock.now(), "RR", 14 + rng.gauss(0, 0.7), "/min"))
        if i == 900:
            hub.assess({"RASS": 0, "CADSS6": 6, "PAIN_NRS": 4, "note": "floating, calm"}, "nurse-a")
        elif i == 1200:
            hub.give("medication", "nurse-a", drug="Ondansetron", dose="4 mg IV")
        elif i == 1805:
            hub.acknowledge("nurse-a")
        elif i == 1810:
            hub.change_rate(0.5, "nurse-a")
        clock.advance(1)
    hub.stop_infusion("nurse-a")
    clock.advance(600)
    hub.close_session("nurse-a", "discharged on paper by the physician")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(start=time.time() - 3 * 3600)
        with served(make_config(Path(tmp)), clock) as (station, url), sync_playwright() as p:
            hub = station.ward.runtime("chair-1")
            hub.stop()  # only these readings
            clock.advance(1)
            hub.create_session(PLAN | {"weight_kg": 70}, "nurse-a")
            infusion_hour(hub, clock, random.Random(4))
            sid = station.store.sessions("chair-1")[0].id
            comment = {"comment": "Uneventful apart from a 30 s desaturation. Next in 2 weeks."}
            station.store.add_event(sid, "chair-1", clock.now(), "review_signed", "dr-b", comment)
            station.store.flush()
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1560})
            page.goto(f"{url}/review/{sid}")
            page.wait_for_selector("#rv-trend .js-plotly-plot .scatterlayer path")
            page.screenshot(path=str(HERE / "session-record.png"))
            browser.close()
            pdf = Path(tmp) / "record.pdf"
            rules = station.config.alarms.rules
            export_session(station.store, sid, "pdf", pdf, rules, include_simulated=True)
        first = Path(tmp) / "page"
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", str(pdf), str(first)],
                       check=True)  # fmt: skip
        (HERE / "session-record-pdf.png").write_bytes(first.with_suffix(".png").read_bytes())
    print(f"wrote {HERE / 'session-record.png'} and {HERE / 'session-record-pdf.png'}")


if __name__ == "__main__":
    main()
