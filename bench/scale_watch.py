"""What a user sees of the central station during the scale bench: its central page's stream.

The watcher reads `/stream/all` (server-sent events, monitor/ui/stream.py) as a browser's
central page does. Each message's ward state lists every changed bed's alarms with their
onset (the central's time when it raised it). A physiological alarm of a chair with an onset
at or after the device time of the alarming reading the fleet sent it is that reading's alarm
raised (the one before ended and was latched with its older onset), and the time from the
publish to here is one latency. Nothing inside the station is asked.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from contextlib import closing
from typing import Any

STALL_S = 10.0  # a stream that says nothing this long (a beat comes every second) has stalled
SLACK_S = 1e-3  # the generator and the central read the same wall clock


class Watcher:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.error = ""
        self.latencies: list[tuple[float, float]] = []  # (sent at, seconds to the stream)
        self._since = 0.0
        self.messages = 0
        self.connected = threading.Event()
        self._pending: dict[tuple[str, float], float] = {}  # (bed, reading t) -> sent at
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self.connected.wait(STALL_S) and not self.error:
            self.error = f"/stream/all: no hello within {STALL_S:g} s"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(STALL_S + 2)

    def expect(self, bed: str, t: float, sent: float) -> None:
        """An alarming reading has gone out (the fleet's publisher thread)."""
        with self._lock:
            self._pending[(bed, t)] = sent

    def overdue(self, seconds: float) -> list[tuple[str, float]]:
        """Alarms expected for longer than `seconds` and not yet seen: (bed, waited s)."""
        now = time.monotonic()
        with self._lock:
            return [(b, now - s) for (b, _), s in self._pending.items() if now - s > seconds]

    def reset(self, since: float) -> None:
        """The window starts: only readings sent from `since` (monotonic) count."""
        self._since = since

    def window_latencies(self) -> list[float]:
        with self._lock:
            return [lat for sent, lat in self.latencies if sent >= self._since]

    # -- the reader thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            with closing(http.client.HTTPConnection(self.host, self.port, timeout=STALL_S)) as c:
                c.request("GET", "/stream/all", headers={"Accept": "text/event-stream"})
                resp = c.getresponse()
                kind = resp.getheader("Content-Type", "")
                if resp.status != 200 or not kind.startswith("text/event-stream"):
                    raise RuntimeError(f"refused: HTTP {resp.status} {kind}: {resp.read(99)!r}")
                self._read(resp)
        except Exception as err:  # the bench checks `error` and stops
            if not self._stop.is_set():
                self.error = f"/stream/all: {type(err).__name__}: {err}"

    def _read(self, resp: http.client.HTTPResponse) -> None:
        event, data = "message", b""
        while not self._stop.is_set():
            line = resp.readline()
            if not line:
                raise RuntimeError(f"the stream ended after {self.messages} messages")
            if line.startswith(b"event: "):
                event = line[7:].strip().decode()
            elif line.startswith(b"data: "):
                data = line[6:]
            elif line in (b"\n", b"\r\n"):
                now = time.monotonic()
                self.messages += 1
                if event == "hello":
                    self.connected.set()
                elif event != "beat":
                    self._seen(json.loads(data), now)
                event, data = "message", b""

    def _seen(self, message: dict[str, Any], now: float) -> None:
        for bed, part in message.get("beds", {}).items():
            alarms = part.get("state", {}).get("alarms", [])
            onsets = [a["onset"] for a in alarms if not a.get("tech")]
            if not onsets:
                continue
            with self._lock:
                for key in [k for k in self._pending if k[0] == bed]:
                    if any(o >= key[1] - SLACK_S for o in onsets):
                        sent = self._pending.pop(key)
                        self.latencies.append((sent, now - sent))
