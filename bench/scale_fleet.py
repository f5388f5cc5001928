"""The scale bench's load: N chair agents' traffic from one process, as `python -m devices
agent` publishes it (same topics, payloads, QoS and retained status, one paho client and one
broker user per chair), without N device threads and spools.

Why one process: on a 2-core machine, N Python agent processes would take the cores from the
central station, and the bench would measure the agents. Each chair still has its own
connection, numbering (devices.mqtt_codec.Encoder) and last will.

Each chair sends every second its 6 continuous numerics in one `numerics` message (QoS 1) and
a 100 Hz pleth in 4 `wave` chunks (QoS 0). The chairs are spread over the 4 quarters of a
second, as unsynchronised agents would be. Every PROBE_EVERY seconds (staggered over the
chairs) a chair's numerics carry a cuff reading of systolic 185 mmHg, which the shipped NIBP
rules raise on the first reading; the next second a normal cuff ends it again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt

from devices import mqtt_link
from devices.mqtt_codec import OFFLINE, ONLINE, Encoder, Topics
from monitor.device_config import Broker
from monitor.model import Reading, Waveform
from monitor.signals import REGISTRY

QUARTER_S = 0.25  # a pleth chunk: 25 samples at 100 Hz
PLETH_HZ = 100.0
PROBE_EVERY = 10  # seconds between one chair's alarming cuff readings
ALARMING_SYS, NORMAL_SYS = 185.0, 120.0  # NIBP_SYS_VERY_HIGH (>= 180) and normal
CONTINUOUS = {"HR": 72.0, "PR": 72.0, "SPO2": 98.0, "RR": 14.0, "ETCO2": 36.0, "TEMP": 36.8}
CONNECT_TIMEOUT_S = 30.0
SOURCE = "live"

Probe = Callable[[str, float, float], None]  # bed, the reading's t, monotonic publish time


@dataclass
class Chair:
    bed: str
    index: int
    client: mqtt.Client
    topics: Topics
    encoder: Encoder
    connected: threading.Event = field(default_factory=threading.Event)
    probed_at: float | None = None  # the second of its last alarming cuff (to end it next)


class Fleet:
    """N chairs' clients and one publisher thread that keeps their schedule."""

    def __init__(
        self, port: int, clinic: str, beds: list[str], password: Callable[[str], str],
        probe_every: int = PROBE_EVERY,
    ) -> None:  # fmt: skip
        self.probe_every = probe_every
        self.errors: list[str] = []
        self.lateness: list[float] = []  # per quarter: how late the publisher started it (s)
        self.published = 0
        self.probes = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.chairs: list[Chair] = []
        for i, bed in enumerate(beds):
            broker = Broker(host="127.0.0.1", port=port, username=bed, password=password(bed))
            client = mqtt_link.make_client(broker, f"agent-{bed}")
            chair = Chair(bed, i, client, Topics(clinic, bed), Encoder(bed))
            offline = chair.encoder.status(OFFLINE, time.time(), SOURCE)
            client.will_set(chair.topics.of("status"), offline, qos=1, retain=True)
            client.on_connect = self._on_connect(chair)
            client.on_disconnect = self._on_disconnect(chair)
            self.chairs.append(chair)
        self._broker = Broker(host="127.0.0.1", port=port)

    # -- paho's threads -------------------------------------------------------------------

    def _on_connect(self, chair: Chair) -> Callable[..., None]:
        def on_connect(client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                self.errors.append(f"broker refused {chair.bed}: {reason}")
                return
            online = chair.encoder.status(ONLINE, time.time(), SOURCE)
            client.publish(chair.topics.of("status"), online, qos=1, retain=True)
            chair.connected.set()

        return on_connect

    def _on_disconnect(self, chair: Chair) -> Callable[..., None]:
        def on_disconnect(_c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if not self._stopping.is_set():
                self.errors.append(f"broker dropped {chair.bed}: {reason}")

        return on_disconnect

    # -- the bench's side -----------------------------------------------------------------

    def connect(self) -> None:
        for chair in self.chairs:
            mqtt_link.start(chair.client, self._broker)
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        for chair in self.chairs:
            if not chair.connected.wait(max(0.0, deadline - time.monotonic())):
                raise RuntimeError(f"{chair.bed}: not connected within {CONNECT_TIMEOUT_S:g} s")
            if self.errors:
                raise RuntimeError(self.errors[0])

    def start(self, probe: Probe | None) -> None:
        """Publish until stop(); `probe` is told of every alarming reading as it goes out."""
        self._thread = threading.Thread(
            target=self._run, args=(probe,), name="fleet-publisher", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(10)
        for chair in self.chairs:
            if chair.connected.is_set():
                offline = chair.encoder.status(OFFLINE, time.time(), SOURCE)
                chair.client.publish(chair.topics.of("status"), offline, qos=1, retain=True)
        for chair in self.chairs:
            chair.client.disconnect()
            chair.client.loop_stop()

    def behind(self) -> float:
        """p99 of how late the publisher started its quarters (s): above a quarter, the
        generator no longer keeps the agents' pace."""
        if not self.lateness:
            return 0.0
        ordered = sorted(self.lateness)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]

    # -- the publisher thread -------------------------------------------------------------

    def _run(self, probe: Probe | None) -> None:
        t0 = math.ceil(time.time())  # quarters on whole wall-clock seconds, like device time
        quarter = 0
        phase = np.arange(int(PLETH_HZ * QUARTER_S)) / PLETH_HZ
        try:
            while not self._stopping.is_set():
                due = t0 + quarter * QUARTER_S
                wait = due - time.time()
                if wait > 0 and self._stopping.wait(wait):
                    return
                self.lateness.append(max(0.0, time.time() - due))
                second, q = divmod(quarter, 4)
                for chair in self.chairs:
                    self._wave(chair, due, phase)
                    if chair.index % 4 == q:
                        self._numerics(chair, t0 + second, probe)
                quarter += 1
        except Exception as err:  # the bench reports it and stops
            self.errors.append(f"publisher: {type(err).__name__}: {err}")

    def _publish(self, chair: Chair, channel: str, payload: bytes, qos: int) -> None:
        info = chair.client.publish(chair.topics.of(channel), payload, qos=qos)  # type: ignore[arg-type]
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"{chair.bed}: publish on {channel}: {mqtt.error_string(info.rc)}")
        self.published += 1

    def _wave(self, chair: Chair, t: float, phase: np.ndarray) -> None:
        beat = 2 * np.pi * 1.2 * (t + phase + chair.index * 0.07)
        samples = (50 + 40 * np.sin(beat) + 8 * np.sin(2 * beat)).astype(np.float32)
        wave = Waveform(chair.bed, t, "PLETH", PLETH_HZ, samples)
        self._publish(chair, "wave", chair.encoder.wave(wave), 0)

    def _numerics(self, chair: Chair, t: float, probe: Probe | None) -> None:
        wobble = math.sin(t / 7 + chair.index)
        readings = [
            Reading(chair.bed, t, s, round(v + wobble, 1), REGISTRY[s].unit)
            for s, v in CONTINUOUS.items()
        ]
        alarming = probe is not None and (int(t) + chair.index) % self.probe_every == 0
        if alarming or chair.probed_at == t - 1:
            sys_ = ALARMING_SYS if alarming else NORMAL_SYS
            for signal, value in (("NIBP_SYS", sys_), ("NIBP_DIA", 80.0), ("NIBP_MEAN", 95.0)):
                readings.append(Reading(chair.bed, t, signal, value, "mmHg"))
        payload = chair.encoder.numerics(readings)
        if alarming and probe is not None:  # told first: the alarm must find it expected
            chair.probed_at = t
            self.probes += 1
            probe(chair.bed, t, time.monotonic())
        self._publish(chair, "numerics", payload, 1)
