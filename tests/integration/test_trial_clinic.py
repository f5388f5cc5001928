"""`make central`: deploy/trial_clinic.py brings up the whole clinic, and Ctrl-C stops it all.

Everything runs on free ports in a temporary data folder: Mosquitto, a PostgreSQL cluster,
the central station and three chair agents (two simulated, one virtual GE DRI monitor).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.mosquitto import free_port, mosquitto_binary
from tests.postgres import pg_bin

pytestmark = pytest.mark.slow
CHAIRS = ("chair-1", "chair-2", "chair-3")
UP_WITHIN_S = 45.0
STOP_WITHIN_S = 30.0


@pytest.fixture
def data() -> Iterator[Path]:
    if mosquitto_binary() is None or pg_bin("initdb") is None:
        if os.environ.get("CI"):
            pytest.fail("Mosquitto and PostgreSQL are required in CI")
        pytest.skip("Debian mosquitto or postgresql is not installed; `make test` installs them")
    # not under pytest's 0700 tmp folders: the postgres user must reach the cluster
    folder = Path(tempfile.mkdtemp(prefix="trial-clinic-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read()) if response.status == 200 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def shows_readings(base: str, bed: str) -> bool:
    """The central's own live data for the bed carries a heart rate."""
    poll = get_json(f"{base}/stream/{bed}/poll?after=")
    tiles = (poll or {}).get("hello", {}).get("state", {}).get("tiles", {})
    return tiles.get("HR", {}).get("v", "---") != "---"


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone while we looked
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_trial_clinic_comes_up_shows_three_chairs_and_stops_on_ctrl_c(data: Path) -> None:
    http = free_port()
    base = f"http://127.0.0.1:{http}"
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "deploy" / "trial_clinic.py"), "--data", str(data),
         "--http-port", str(http), "--broker-port", "0", "--pg-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        waiting = set(CHAIRS)
        while waiting:
            try:  # the launcher must not exit while we wait; this is also the pause
                proc.wait(0.5)
                raise AssertionError(f"the launcher exited {proc.returncode}")
            except subprocess.TimeoutExpired:
                pass
            assert time.monotonic() - start < UP_WITHIN_S, f"no readings at {sorted(waiting)}"
            waiting = {bed for bed in waiting if not shows_readings(base, bed)}
        up_s = time.monotonic() - start
        with urllib.request.urlopen(f"{base}/", timeout=5) as response:
            assert response.status == 200
        children = children_of(proc.pid)
        postmaster = int((data / "pg" / "postmaster.pid").read_text().split()[0])
        assert len(children) >= 5 and running(postmaster)  # broker, central, three agents
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=STOP_WITHIN_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    print(f"all three chairs showed readings at the central after {up_s:.1f} s")
    assert proc.returncode == 0, out
    assert "stopped central, chair-3, chair-2, chair-1, postgresql, broker" in out
    assert [pid for pid in (*children, postmaster) if running(pid)] == []
    central_log = (data / "logs" / "central.log").read_text()
    for chair in CHAIRS:  # the central first: closing the clinic raised no chair offline
        assert "stopped, 0 messages left" in (data / "logs" / f"{chair}.log").read_text()
        assert f"bed {chair}: chair offline" not in central_log
