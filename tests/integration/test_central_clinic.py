"""A clinic beyond one machine: three chair agents (one reading the virtual GE DRI monitor
through the real serial codec), a private Mosquitto, a central station in a child process and
a private PostgreSQL. The central is killed with -9 and started again mid-session."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from devices.mqtt_codec import Encoder, Topics, decode
from tests.child_station import Served, free_port
from tests.dash_requests import find_component, route_body, session_body
from tests.helpers import REPO, config_dict
from tests.integration.test_mqtt_agent import agent, chair_yaml, until
from tests.integration.test_restart import _app_stub
from tests.mosquitto import CENTRAL, CLINIC, PrivateBroker, password_of

pytestmark = pytest.mark.slow
CHAIRS = ("chair-1", "chair-2", "chair-3")  # chair-3 reads the virtual DRI monitor
DOWN_S = 6.0  # the central is dead this long while the chairs go on publishing


def central_yaml(folder: Path, broker: PrivateBroker, url: str) -> Path:
    data = config_dict(folder / "unused.db")
    data["store"] = {"url": url, "path": str(folder / "state" / "sessions.db")}
    data["beds"] = [
        {
            "id": bed,
            "name": bed.title(),
            "device": {
                "kind": "mqtt",
                "clinic": CLINIC,
                "source": "simulated",
                "broker": {
                    "port": broker.port,
                    "username": CENTRAL,
                    "password": password_of(CENTRAL),
                },
            },
        }  # fmt: skip
        for bed in CHAIRS
    ]
    path = folder / "central.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


class Listener:
    """Hears what the chairs publish, as a second subscriber of the broker: the readings
    each agent sent, to hold the central's record against."""

    def __init__(self, broker: PrivateBroker) -> None:
        self.sent: dict[str, set[tuple[float, str, float]]] = {bed: set() for bed in CHAIRS}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-listener")
        self.client.username_pw_set(CENTRAL, password_of(CENTRAL))
        self.client.on_message = self._message
        self.client.on_connect = lambda c, *_: c.subscribe(f"ikm/v1/{CLINIC}/+/numerics", 1)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        bed = msg.topic.split("/")[3]
        for r in decode("numerics", msg.payload, bed).items:
            self.sent[bed].add((round(r.t, 3), r.signal, round(r.value, 6)))  # type: ignore[union-attr]

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def page_state(station: Served, bed: str) -> dict[str, Any]:
    """The bed's state as its page is sent it (the fallback poll answers with a hello)."""
    with urllib.request.urlopen(f"{station.url}/stream/{bed}/poll?after=", timeout=5) as r:
        return dict(json.loads(r.read())["hello"]["state"])


def rows(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as con:
        return con.execute(sql, args).fetchall()


def chair_configs(broker: PrivateBroker, folder: Path) -> dict[str, Path]:
    configs = {bed: chair_yaml(folder, broker, bed) for bed in CHAIRS}
    dri = json.loads(configs["chair-3"].read_text())  # the real codec path: a pty, the DRI
    dri["device"] = {"kind": "datex_s5", "port": "virtual", "interval_s": 5}
    configs["chair-3"].write_text(json.dumps(dri))
    return configs


def test_three_chairs_into_a_central_on_postgresql_survive_a_kill_of_the_central(
    mosquitto: PrivateBroker, pg_database: str, tmp_path: Path
) -> None:
    listener = Listener(mosquitto)
    config = central_yaml(tmp_path, mosquitto, pg_database)
    log = tmp_path / "central.log"
    app = _app_stub()
    with ExitStack() as stack:
        stack.callback(listener.stop)
        agents = {
            bed: stack.enter_context(agent(path))
            for bed, path in chair_configs(mosquitto, tmp_path).items()
        }
        first = Served(config, free_port(), log)
        stack.callback(lambda: first.proc.poll() is None and first.kill(signal.SIGTERM))

        # every chair's readings on the central's own pages
        for bed in CHAIRS:
            until(f"{bed} HR on the central", lambda b=bed: page_state(first, b)["tiles"]["HR"]["v"]
                  not in ("", "---", None), 30)  # fmt: skip

        for button, fields in (
            ("s-create", {"weight": 70, "plan_rate": 0.5, "patient": "K-9", "conc": 2,
                          "duration": 60}),
            ("s-start", {"override": "central test: no resting baseline"}),
        ):  # fmt: skip
            reply = first.post(session_body(app, "chair-1", button, **fields))
            assert reply["response"]["s-msg"]["className"] == "form-msg ok", reply
        ((session_id, started),) = rows(
            pg_database, "SELECT id, started_at FROM sessions WHERE ended_at IS NULL"
        )

        # a desaturation driven at the chair raises its alarm centrally
        command, cmd_topic = Encoder("chair-1"), Topics(CLINIC, "chair-1").of("cmd")
        for name, args in (
            ("scenario", {"id": "uneventful"}),  # the instructor's levers need a scenario
            ("instructor", {"command": "set", "value": "SPO2", "level": 80}),
        ):
            listener.client.publish(cmd_topic, command.command(name, time.time(), **args), qos=1)
        until("SPO2_DESAT at the central", lambda: any(
            a["text"].startswith("***") and "SpO₂" in a["text"]
            for a in page_state(first, "chair-1")["alarms"]), 30)  # fmt: skip

        # on the record (the page can show it before the recorder's next flush)
        until("SPO2_DESAT on the record", lambda: rows(
            pg_database, "SELECT count(*) FROM alarms WHERE session_id = %s"
            " AND name = 'SPO2_DESAT'", session_id)[0][0] == 1, 10)  # fmt: skip

        # kill -9 the central; the chairs go on publishing meanwhile
        assert first.kill(signal.SIGKILL) == -signal.SIGKILL
        killed = time.time()
        until("the central's downtime", lambda: time.time() - killed >= DOWN_S, DOWN_S + 2)
        second = Served(config, free_port(), log)
        stack.callback(lambda: second.proc.poll() is None and second.kill(signal.SIGTERM))

        # the open session and its alarm resume from PostgreSQL
        page = second.post(route_body(app, "/bed/chair-1"))["response"]["page"]["children"]
        line = find_component(page, "bed-session")["props"]["children"]  # type: ignore[index]
        assert line.startswith(f"Session {session_id} · infusing 0.5 mg/kg/h · 70 kg"), line
        until("SPO2_DESAT after the restart", lambda: any(
            "SpO₂" in a["text"] for a in page_state(second, "chair-1")["alarms"]), 15)  # fmt: skip
        desats = rows(pg_database, "SELECT onset_t, end_t FROM alarms WHERE session_id = %s"
                      " AND name = 'SPO2_DESAT'", session_id)  # fmt: skip
        assert len(desats) == 1 and desats[0][1] is None, desats  # the same alarm, still on
        # what the chair sent while the central was dead reached the record
        until("readings of the downtime", lambda: rows(
            pg_database, "SELECT count(*) FROM readings WHERE session_id = %s AND signal = 'HR'"
            " AND t > %s AND t < %s", session_id, killed + 1, killed + DOWN_S - 1)[0][0]
            >= DOWN_S - 3, 20)  # fmt: skip

        # stop the chair; once the record holds what it sent, export it
        agents["chair-1"].terminate()
        agents["chair-1"].wait(10)
        sent = {r for r in listener.sent["chair-1"] if r[0] >= started + 2}
        until("the last readings recorded", lambda: rows(
            pg_database, "SELECT count(*) FROM readings WHERE session_id = %s AND t >= %s",
            session_id, started + 2)[0][0] >= len(sent), 20)  # fmt: skip
        out = tmp_path / "session.csv"
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "export", str(session_id), "--format", "csv",
             "--out", str(out), "--config", str(config)],
            cwd=REPO, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        with out.open() as f:
            exported = [(round(float(r["epoch"]), 3), r["signal"], round(float(r["value"]), 6))
                        for r in csv.DictReader(f)]  # fmt: skip
    assert len(exported) == len(set(exported)), "a reading recorded twice"
    missing = sent - set(exported)
    assert len(sent) > 40 and not missing, f"{len(missing)} of {len(sent)} readings not recorded"
