"""Operations: a port already taken, /health, the systemd unit, and a restart after SIGKILL."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dashboard import build_station, log_to_file
from monitor.clock import ManualClock
from monitor.config import ConfigError, load_config, parse_config
from tests.child_station import free_port
from tests.helpers import REPO, config_dict

UNIT = REPO / "deploy" / "ketamine-monitor.service"


def write_config(tmp_path: Path, **server: object) -> Path:
    data = config_dict(tmp_path / "sessions.db", beds=2)
    data["server"].update(server)
    path = tmp_path / "station.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def get_health(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# -- a port already taken -----------------------------------------------------------------


def test_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "dashboard.py", "--config", str(config), "--port", str(port)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    # the whole of stderr: nothing started (no bed, no log line) before the port was refused
    assert result.stderr.splitlines() == [
        f"{config}: cannot listen on 127.0.0.1 port {port}: "
        "the port is already in use (another station, or another program?)"
    ]
    assert result.stdout == ""


# -- /health ------------------------------------------------------------------------------


def test_health_tells_whether_every_bed_evaluates(tmp_path: Path) -> None:
    clock = ManualClock()  # never advanced: the watchdogs never tick by themselves
    station = build_station(parse_config(config_dict(tmp_path / "s.db", beds=2)), clock)
    client = station.app.server.test_client()
    try:
        answer = client.get("/health")
        assert answer.status_code == 503
        assert answer.json == {"ok": False, "beds": {"chair-1": None, "chair-2": None}}
        assert answer.headers["Cache-Control"] == "no-store"
        for bed in ("chair-1", "chair-2"):
            station.ward.runtime(bed).check_feed()  # the watchdog's tick
        answer = client.get("/health")
        assert answer.status_code == 200
        assert answer.json["ok"] is True
        assert all(0 <= age < 2 for age in answer.json["beds"].values())
        # chair-2's core last evaluated 3 s ago: hung, whatever chair-1 does
        hung = station.ward.runtime("chair-2")
        hung._evaluated = time.monotonic() - 3.0
        answer = client.get("/health")
        assert answer.status_code == 503
        assert answer.json["ok"] is False
        assert answer.json["beds"]["chair-2"] >= 3.0
    finally:
        station.store.close()


def test_health_is_public_with_logins_on(tmp_path: Path) -> None:
    data = config_dict(tmp_path / "s.db")
    data["server"]["auth"] = True
    station = build_station(parse_config(data), ManualClock())
    client = station.app.server.test_client()
    try:
        station.ward.runtime("chair-1").check_feed()
        assert client.get("/health").status_code == 200  # no login
        assert client.get("/").status_code in (302, 401)  # while the pages still need one
    finally:
        station.store.close()


def test_under_systemd_ready_then_watchdog_pings_then_stopping(tmp_path: Path) -> None:
    """dashboard.py with a real datagram socket as systemd's NOTIFY_SOCKET."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(tmp_path / "notify"))
        systemd.settimeout(60)
        env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "400000"}
        config = write_config(tmp_path)
        port = free_port()
        with (tmp_path / "station.log").open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "dashboard.py", "--config", str(config), "--port", str(port)],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            first = systemd.recv(4096).decode()
            assert first.splitlines()[0] == "READY=1"
            # the beds evaluate before the web app is built: /health follows a little later
            assert wait_green(f"http://127.0.0.1:{port}", 60) is not None
            systemd.settimeout(5)
            assert [systemd.recv(4096) for _ in range(3)] == [b"WATCHDOG=1"] * 3
        finally:
            proc.terminate()
            assert proc.wait(30) == 0, (tmp_path / "station.log").read_text()
        left = []
        systemd.settimeout(0.5)
        try:
            while True:
                left.append(systemd.recv(4096))
        except TimeoutError:
            pass
        assert left[-1] == b"STOPPING=1"


def test_the_log_file_follows_logrotate(tmp_path: Path) -> None:
    data = config_dict(tmp_path / "s.db")
    data["server"]["log_file"] = "station.log"
    (tmp_path / "station.yaml").write_text(yaml.safe_dump(data))
    config = load_config(tmp_path / "station.yaml")
    assert config.server.log_file == str(tmp_path / "station.log")  # beside the config
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        log_to_file(config.server.log_file, "station.yaml")
        logging.getLogger("dashboard").warning("first")
        (tmp_path / "station.log").rename(tmp_path / "station.log.1")  # logrotate's move
        logging.getLogger("dashboard").warning("second")
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
            handler.close()
    assert "first" in (tmp_path / "station.log.1").read_text()
    assert "second" in (tmp_path / "station.log").read_text()
    with pytest.raises(ConfigError, match="station.yaml: server.log_file: cannot open"):
        log_to_file(str(tmp_path / "no-such-folder" / "station.log"), "station.yaml")


# -- the systemd unit ---------------------------------------------------------------------


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing (make systemd installs it)")
        pytest.skip("systemd-analyze is not installed")
    text = UNIT.read_text()
    # `verify` needs ExecStart's program to exist: the same unit with this checkout's python
    assert "ExecStart=/opt/ketamine-monitor/.venv/bin/python " in text
    unit = tmp_path / UNIT.name
    unit.write_text(text.replace("/opt/ketamine-monitor/.venv/bin/python", sys.executable))

    def verify(path: Path) -> tuple[int, list[str]]:
        done = subprocess.run(
            [analyze, "verify", str(path)], capture_output=True, text=True, timeout=120
        )
        lines = (done.stdout + done.stderr).splitlines()
        return done.returncode, [line for line in lines if path.name in line]

    assert verify(unit) == (0, [])
    for key in ("Type=notify", "Restart=always", "WatchdogSec=10", "ProtectSystem=strict"):
        assert f"\n{key}\n" in text
    # the check sees a mistake: systemd only warns about a bad value, and the test fails on it
    broken = tmp_path / "broken.service"
    broken.write_text(unit.read_text().replace("Type=notify", "Type=notified"))
    assert verify(broken)[1] != []


# -- a supervisor's restart ---------------------------------------------------------------


class Supervisor:
    """What systemd's Restart=always does: start the station again 1 s after it ends."""

    def __init__(self, command: list[str], log: Path) -> None:
        self.command, self.log = command, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock, self.log.open("ab") as out:
                self.proc = subprocess.Popen(
                    self.command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
                )
                self.starts += 1
            self.proc.wait()
            self._stop.wait(1.0)  # RestartSec=1

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.terminate()
                self.proc.wait(20)
        self._thread.join(10)


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[tuple[Supervisor, str]]:
    port = free_port()
    config = write_config(tmp_path)
    command = [sys.executable, "dashboard.py", "--config", str(config), "--port", str(port)]
    supervisor = Supervisor(command, tmp_path / "station.log")
    yield supervisor, f"http://127.0.0.1:{port}"
    supervisor.stop()


def wait_green(url: str, seconds: float) -> float | None:
    """Seconds until /health answers 200, or None."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            if get_health(url)[0] == 200:
                return time.monotonic() - start
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    return None


def test_a_killed_station_is_green_again_within_10_s(supervised: tuple[Supervisor, str]) -> None:
    supervisor, url = supervised
    assert wait_green(url, 60) is not None, supervisor.log.read_text()
    status, body = get_health(url)
    assert body["ok"] is True and set(body["beds"]) == {"chair-1", "chair-2"}  # type: ignore[arg-type]
    assert supervisor.proc is not None
    victim = supervisor.proc.pid
    os.kill(victim, signal.SIGKILL)  # no goodbye: no flush, no closing of the port
    back = wait_green(url, 10)
    assert back is not None, supervisor.log.read_text()
    assert supervisor.starts == 2 and supervisor.proc.pid != victim
    print(f"green again {back:.1f} s after SIGKILL")
