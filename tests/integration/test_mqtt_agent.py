"""Chair agents over a real (private) Mosquitto, and the central's mqtt beds.

Agents run as `python -m devices agent` subprocesses; the central bed is a BedRuntime built
from a station config with an `mqtt` bed, as the station builds it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices.factory import build_device
from devices.mqtt_codec import Encoder, Topics
from devices.mqtt_device import MqttChair
from monitor.alarms.technical import PORT_LOST
from monitor.clock import SystemClock
from monitor.config import parse_config
from monitor.model import Reading
from monitor.runtime.bed import BedRuntime
from monitor.session import SessionEvent
from monitor.storage.sqlite import SessionStore
from tests.helpers import REPO, config_dict
from tests.mosquitto import CLINIC, PrivateBroker, password_of

pytestmark = pytest.mark.slow
OUTAGE_S = 6.0  # the acceptance test says 30 s; the spool does not care how long
OFFLINE_WITHIN_S = 10.0
T = TypeVar("T")


def until(what: str, check: Callable[[], T], timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def chair_yaml(folder: Path, broker: PrivateBroker, bed: str, tls: bool = False) -> Path:
    port = broker.tls_port if tls else broker.port
    conf: dict[str, Any] = {
        "broker": {"host": "127.0.0.1", "port": port, "username": bed,
                   "password": password_of(bed)},
        "clinic": CLINIC,
        "bed": bed,
        "spool": f"{bed}-spool.db",
        "scenarios": str(REPO / "devices" / "simulator" / "scenarios"),
        "device": {"kind": "simulator", "seed": 3},
    }  # fmt: skip
    if tls:
        conf["broker"]["tls"] = {"ca_file": str(broker.ca)}
    path = folder / f"{bed}.yaml"
    path.write_text(json.dumps(conf))  # JSON is YAML
    return path


@contextmanager
def agent(config: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "devices", "agent", "--config", str(config)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def central(tmp_path: Path, broker: PrivateBroker, bed: str) -> Iterator[BedRuntime]:
    data = config_dict(tmp_path / "central.db")
    data["beds"] = [{"id": bed, "name": bed.title(), "device": {
        "kind": "mqtt", "clinic": CLINIC, "source": "simulated",
        "broker": {"port": broker.port, "username": "central",
                   "password": password_of("central")},
    }}]  # fmt: skip
    config = parse_config(data)
    clock = SystemClock()
    (bed_config,) = config.beds
    store = SessionStore(config.store.path, config.store.flush_interval_s)
    store.start()
    runtime = BedRuntime(bed_config, build_device(bed_config, clock), store, clock, config.alarms)
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()
        store.close()


def readings(bed: BedRuntime, signal_code: str) -> list[Reading]:
    return [e for _, e in bed.journal.snapshot()
            if isinstance(e, Reading) and e.signal == signal_code]  # fmt: skip


def alarm_names(bed: BedRuntime) -> set[str]:
    return {a.name for a in bed.active_alarms()}


def test_readings_reach_the_central_bed_and_a_desaturation_alarms_there(
    mosquitto: PrivateBroker, tmp_path: Path
) -> None:
    with (
        central(tmp_path, mosquitto, "chair-1") as bed,
        agent(chair_yaml(tmp_path, mosquitto, "chair-1")),
    ):
        until("HR at the central", lambda: "HR" in bed.snapshot().latest)
        assert bed.info.source == "simulated"
        chair = bed.device
        assert isinstance(chair, MqttChair)
        chair.send("scenario", id="uneventful")
        chair.send("instructor", command="set", value="SPO2", level=80)
        until("SPO2_DESAT raised centrally", lambda: "SPO2_DESAT" in alarm_names(bed))
        assert min(r.value for r in readings(bed, "SPO2")) <= 80
        assert chair.bad_payloads == 0


def test_a_killed_agent_is_chair_offline_within_10_s_and_clears_on_restart(
    mosquitto: PrivateBroker, tmp_path: Path
) -> None:
    config = chair_yaml(tmp_path, mosquitto, "chair-2")
    with central(tmp_path, mosquitto, "chair-2") as bed:
        with agent(config) as proc:
            until("HR at the central", lambda: "HR" in bed.snapshot().latest)
            proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            until("chair offline", lambda: PORT_LOST in alarm_names(bed), OFFLINE_WITHIN_S)
            took = time.monotonic() - killed
        print(f"chair offline raised {took:.1f} s after kill -9")
        links = [e.payload["detail"] for _, e in bed.journal.snapshot()
                 if isinstance(e, SessionEvent) and e.kind == "device_link"]  # fmt: skip
        assert links[-1].startswith("chair offline"), links
        with agent(config):
            until("chair back", lambda: PORT_LOST not in alarm_names(bed))


def test_a_frozen_agent_is_chair_offline_by_its_keepalive(
    mosquitto: PrivateBroker, tmp_path: Path
) -> None:
    """SIGSTOP keeps the socket open (an unplugged chair): only the keep-alive finds it."""
    with (
        central(tmp_path, mosquitto, "chair-6") as bed,
        agent(chair_yaml(tmp_path, mosquitto, "chair-6")) as proc,
    ):
        until("HR at the central", lambda: "HR" in bed.snapshot().latest)
        proc.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        try:
            until("chair offline", lambda: PORT_LOST in alarm_names(bed), OFFLINE_WITHIN_S + 1)
            print(f"frozen chair offline after {time.monotonic() - frozen:.1f} s")
        finally:
            proc.send_signal(signal.SIGCONT)
        until("chair back", lambda: PORT_LOST not in alarm_names(bed))


def test_a_broker_outage_loses_and_duplicates_no_reading(
    mosquitto: PrivateBroker, tmp_path: Path
) -> None:
    with (
        central(tmp_path, mosquitto, "chair-3") as bed,
        agent(chair_yaml(tmp_path, mosquitto, "chair-3")),
    ):
        until("HR at the central", lambda: len(readings(bed, "HR")) >= 3)
        chair = bed.device
        assert isinstance(chair, MqttChair)
        mosquitto.stop()
        down = time.monotonic()
        until("chair offline", lambda: PORT_LOST in alarm_names(bed))
        until("the outage", lambda: time.monotonic() - down >= OUTAGE_S, OUTAGE_S + 1)
        mosquitto.start()
        after = time.monotonic() - down
        until("the spool replayed", lambda: PORT_LOST not in alarm_names(bed)
              and readings(bed, "HR")[-1].t > time.time() - 2)  # fmt: skip
        hr = [r.t for r in readings(bed, "HR")]
        assert len(hr) == len(set(hr)), "a reading counted twice"
        steps = [b - a for a, b in zip(hr, hr[1:], strict=False)]
        assert max(steps) < 1.5, f"a reading lost across the {after:.0f} s outage"
        assert chair.dedupe.gaps == 0
        print(f"outage {after:.1f} s: {len(hr)} HR readings, "
              f"{chair.dedupe.duplicates} duplicates dropped")  # fmt: skip


def test_a_chair_cannot_publish_under_another_chairs_topic(mosquitto: PrivateBroker) -> None:
    got: list[str] = []
    subscribed = threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="acl-listener")
    listener.username_pw_set("central", password_of("central"))
    listener.on_message = lambda _c, _u, m: got.append(m.topic)
    listener.on_subscribe = lambda *_: subscribed.set()
    listener.on_connect = lambda c, *_: c.subscribe(f"ikm/v1/{CLINIC}/+/numerics", qos=1)
    listener.connect("127.0.0.1", mosquitto.port)
    listener.loop_start()
    rogue = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="chair-4")
    rogue.username_pw_set("chair-4", password_of("chair-4"))
    rogue.connect("127.0.0.1", mosquitto.port)
    rogue.loop_start()
    try:
        assert subscribed.wait(5)
        victim, own = Topics(CLINIC, "chair-1"), Topics(CLINIC, "chair-4")
        reading = [Reading("chair-1", time.time(), "SPO2", 70.0, "%")]
        rogue.publish(victim.of("numerics"), Encoder("chair-1").numerics(reading), qos=1)
        rogue.publish(own.of("numerics"), b"{}", qos=1).wait_for_publish(5)
        until("its own topic delivered", lambda: own.of("numerics") in got)
        assert victim.of("numerics") not in got  # same connection, sent first: refused
    finally:
        for client in (rogue, listener):
            client.disconnect()
            client.loop_stop()


def test_a_bad_agent_config_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "chair.yaml"
    path.write_text("broker: {port: 1883}\nclinic: c\nbed: chair-1\ndevice: {kind: mqtt}\n")
    done = subprocess.run(
        [sys.executable, "-m", "devices", "agent", "--config", str(path)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"{path}: device"), done.stderr


def test_an_agent_connects_over_tls(mosquitto: PrivateBroker, tmp_path: Path) -> None:
    with (
        central(tmp_path, mosquitto, "chair-5") as bed,
        agent(chair_yaml(tmp_path, mosquitto, "chair-5", tls=True)),
    ):
        until("HR over TLS", lambda: "HR" in bed.snapshot().latest)
    assert "New client connected" in mosquitto.log()
