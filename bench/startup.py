"""Start-up: from launching `python dashboard.py` to the first alarm evaluation of every bed, and
to /health answering 200 (the web app built and serving). Prints the figures of a few runs.

python bench/startup.py [--beds N] [--runs N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.child_station import free_port  # noqa: E402
from tests.helpers import REPO, config_dict  # noqa: E402

READY = "every bed is evaluating its alarms"


def one_run(folder: Path, beds: int) -> tuple[float, float, float]:
    """(seconds to beds monitoring, to every bed evaluated, to /health 200)."""
    config = folder / "station.yaml"
    config.write_text(yaml.safe_dump(config_dict(folder / "sessions.db", beds=beds)))
    port = free_port()
    log = folder / "station.log"
    started = time.time()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "dashboard.py"),
                "--config",
                str(config),
                "--port",
                str(port),
            ],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() - started > 60:
                raise SystemExit("no /health 200 in 60 s:\n" + log.read_text())
            time.sleep(0.02)
        healthy = time.time() - started
    finally:
        proc.terminate()
        proc.wait(15)
    stamps = {}
    for line in log.read_text().splitlines():
        for key in (": monitoring", READY):
            if key in line and key not in stamps:
                stamps[key] = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return stamps[": monitoring"] - started, stamps[READY] - started, healthy


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--beds", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            monitoring, evaluated, healthy = one_run(Path(tmp), args.beds)
        print(
            f"run {i + 1}: beds monitoring {monitoring:.2f} s, every bed evaluated "
            f"{evaluated:.2f} s, /health 200 {healthy:.2f} s after launch ({args.beds} beds)"
        )


if __name__ == "__main__":
    main()
