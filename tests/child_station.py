"""`python dashboard.py` in a child process: for tests that kill, freeze or restart it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.dash_requests import UPDATE_URL
from tests.helpers import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """`python dashboard.py` in a child process."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "dashboard.py"),
                "--config",
                str(config),
                "--port",
                str(port),
            ],
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            assert time.monotonic() < deadline, "dashboard did not come up in 30 s"
            time.sleep(0.2)

    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(
            self.url + UPDATE_URL,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def kill(self, sig: int) -> int:
        os.kill(self.proc.pid, sig)
        rc = self.proc.wait(15)
        self._log.close()
        return rc
