"""Every bench this issue quotes runs in a tiny smoke mode, so none can rot unnoticed.

Only that they run and print their figures is checked: timings are never asserted here."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import REPO
from tests.mosquitto import mosquitto_binary
from tests.postgres import pg_bin

pytestmark = pytest.mark.slow

# script -> (smoke arguments, a word its figures line always has)
SMOKE = {
    "decode.py": (["--repeats", "1"], "records/s"),
    "fuzz.py": (["--cases", "300"], "cases/s"),
    "replay.py": (["--copies", "1"], "readings/s"),
    "ingest.py": (["--copies", "1", "--repeats", "1"], "readings/s"),
    "simulate.py": (["--hours", "0.05"], "real time"),
    "startup.py": (["--runs", "1", "--beds", "1"], "after launch"),  # a child station
    "review.py": (["--hours", "0.05"], "ms"),
    "series.py": (["--sessions", "3", "--repeats", "1"], "series page"),
    "live_payload.py": (["--ticks", "1", "--beds", "1"], "classic, graph objects"),
    "alarm_latency.py": (["--alarms", "2"], "p99"),  # Debian's Chromium, as CI installs it
    "viewers.py": (["--smoke"], "bytes/viewer"),  # a child station, and Debian's Chromium
    "pg_store.py": (["--smoke"], "readings/s"),  # a private PostgreSQL cluster
    "scale.py": (["--smoke"], "p99"),  # a private Mosquitto and PostgreSQL, a child central
}
NEEDS_POSTGRES = {"pg_store.py", "scale.py"}


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_bench_runs_and_prints_its_figures(script: str) -> None:
    if script in NEEDS_POSTGRES and pg_bin("initdb") is None and not os.environ.get("CI"):
        pytest.skip("PostgreSQL's initdb is not installed; `make test` installs it")
    if script == "scale.py" and mosquitto_binary() is None and not os.environ.get("CI"):
        pytest.skip("mosquitto is not installed; `make test` installs it")
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *SMOKE[script][0]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert SMOKE[script][1] in done.stdout, done.stdout
