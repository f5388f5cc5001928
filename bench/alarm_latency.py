"""Time from a reading entering the bed to its alarm being visible in a real browser.

Serves one bed in process, opens its page in Debian's Chromium (Playwright), then repeatedly
injects an alarming reading into the bed and timestamps the moment the banner turns to HIGH,
from a MutationObserver in the page. Pauses between alarms are random so that onsets land at
every phase of the 1 s polling interval. Prints p50, p95, p99 and max.

    python bench/alarm_latency.py [--alarms N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from monitor.config import parse_config  # noqa: E402
from monitor.model import Reading  # noqa: E402
from monitor.ui.pages.bed import TICK_MS  # noqa: E402
from tests.browser import launch  # noqa: E402
from tests.helpers import config_dict, served  # noqa: E402

# A signal the simulator does not send, so only the injected readings move it.
RULE = {
    "name": "ART_SYS_HIGH",
    "signal": "ART_SYS",
    "op": ">=",
    "limit": 180,
    "priority": "HIGH",
    "delay_s": 0,
    "latching": False,
}
WATCH = """
window.__seen = [];
new MutationObserver(() => {
  const high = document.getElementById('bed-banner').className.includes('banner-high');
  if (high !== window.__high) {
    window.__high = high;
    if (high) window.__seen.push(performance.timeOrigin + performance.now());
  }
}).observe(document.getElementById('bed-banner'), {attributes: true});
window.__high = false;
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        data = config_dict(Path(tmp) / "s.db", rules=[RULE])
        with served(parse_config(data)) as (station, url), sync_playwright() as p:
            bed = station.ward.runtime("chair-1")
            browser = launch(p)
            page = browser.new_page()
            page.goto(url + "/bed/chair-1")
            page.wait_for_selector("#bed-banner")
            page.evaluate(WATCH)
            latencies = []
            for i in range(args.alarms):
                time.sleep(rng.uniform(0.2, 1.2))
                sent = time.time()
                bed.ingest(Reading("chair-1", sent, "ART_SYS", 200, "mmHg"))
                page.wait_for_function(f"window.__seen.length > {i}", timeout=10_000)
                seen = page.evaluate(f"window.__seen[{i}]") / 1000
                latencies.append(seen - sent)
                bed.ingest(Reading("chair-1", time.time(), "ART_SYS", 120, "mmHg"))
                page.wait_for_function("window.__high === false", timeout=10_000)
            page.close()
            browser.close()
    ms = [v * 1000 for v in latencies]
    print(f"{len(ms)} alarms, polling interval {TICK_MS} ms, reading -> visible HIGH banner:")
    print(
        f"p50 {percentile(ms, 0.5):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms, "
        f"p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms, "
        f"mean {statistics.mean(ms):.0f} ms"
    )


if __name__ == "__main__":
    main()
