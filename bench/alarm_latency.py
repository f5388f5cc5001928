"""Time from a reading entering the bed to its alarm being visible in a real browser.

Serves one bed in process, opens its page in Debian's Chromium (Playwright), then repeatedly
injects an alarming reading into the bed and timestamps the moment the banner turns to HIGH,
from a MutationObserver in the page. Pauses between alarms are random so that onsets land at
every phase of the 1 s polling interval. Runs both paths: server push (the page's stream) and
polling alone (`?push=0`). Prints p50, p95, p99 and max for each. Any error, a console error
(a CSP refusal included) or an alarm not seen within 10 s ends it with exit code 1.

    python bench/alarm_latency.py [--alarms N]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from monitor.config import parse_config  # noqa: E402
from monitor.model import Reading  # noqa: E402
from monitor.ui.pages.bed import TICK_MS  # noqa: E402
from tests.browser import launch  # noqa: E402
from tests.helpers import MINIMAL_RULES, config_dict, served  # noqa: E402

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


def until(page: Any, expression: str, seconds: float = 10.0) -> Any:
    """Poll a page expression from here (Playwright's wait_for_function compiles a string
    in the page, which the page's CSP rightly refuses)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.005)
    raise RuntimeError(f"not seen within {seconds:g} s: {expression}")


def measure(station: Any, url: str, browser: Any, alarms: int, push: bool) -> list[float]:
    bed = station.ward.runtime("chair-1")
    rng = random.Random(1)
    errors: list[str] = []
    page = browser.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url + "/bed/chair-1" + ("" if push else "?push=0"))
    page.wait_for_selector("#bed-banner")
    if push:
        until(page, "window.monitorStream.open")
    page.evaluate(WATCH)
    latencies = []
    try:
        for i in range(alarms):
            time.sleep(rng.uniform(0.2, 1.2))
            sent = time.time()
            bed.ingest(Reading("chair-1", sent, "ART_SYS", 200, "mmHg"))
            seen = until(page, f"window.__seen.length > {i} && window.__seen[{i}]") / 1000
            latencies.append(seen - sent)
            bed.ingest(Reading("chair-1", time.time(), "ART_SYS", 120, "mmHg"))
            until(page, "window.__high === false")
            if errors:
                raise RuntimeError(f"browser console error: {errors[0]}")
    finally:
        page.close()
    return [v * 1000 for v in latencies]


def report(label: str, ms: list[float]) -> None:
    print(
        f"{label:<8} {len(ms)} alarms: p50 {percentile(ms, 0.5):.0f} ms, "
        f"p95 {percentile(ms, 0.95):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms, "
        f"max {max(ms):.0f} ms, mean {statistics.mean(ms):.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=100)
    args = parser.parse_args()
    logging.getLogger("monitor").setLevel(logging.ERROR)  # the figures only
    with tempfile.TemporaryDirectory() as tmp:
        data = config_dict(Path(tmp) / "s.db", rules=[RULE, *MINIMAL_RULES])
        with served(parse_config(data)) as (station, url), sync_playwright() as p:
            browser = launch(p)
            try:
                push = measure(station, url, browser, args.alarms, push=True)
                poll = measure(station, url, browser, args.alarms, push=False)
            finally:
                browser.close()
    print(f"reading -> visible HIGH banner (polling interval {TICK_MS} ms):")
    report("push", push)
    report("polling", poll)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as err:  # a bench never prints figures after a failure
        print(f"alarm_latency: FAILED: {err}", file=sys.stderr)
        sys.exit(1)
