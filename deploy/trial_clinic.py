"""A trial clinic on one machine (make central): Mosquitto, PostgreSQL, the central station
and three chair agents, in the foreground until Ctrl-C (or SIGTERM) stops them all.

    python deploy/trial_clinic.py [--data DIR] [--http-port P] [--broker-port P] [--pg-port P]

A port of 0 means any free one. One line per component as it comes up; a port taken or a
component that fails is one line naming it, and exit code 2 once what started is stopped.
Passwords, the cluster, spools and logs live in the data folder (./data/trial), never in git.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Protocol

from trial_servers import (
    CENTRAL_USER,
    CHAIRS,
    READY_TIMEOUT_S,
    REPO,
    Broker,
    Failed,
    Postgres,
    check_port,
    free_port,
    secret,
    stop_process,
    write_configs,
)

sys.path.insert(0, str(REPO))  # this checkout's devices and monitor, whatever is installed

CLINIC = "north"
STOP_TIMEOUT_S = 15.0
CHECK_S = 1.0  # how often a running clinic checks that every component is still there


class Interrupted(Exception):
    """Ctrl-C or SIGTERM before the clinic was up."""


class Component(Protocol):
    name: str

    def alive(self) -> bool: ...

    def stop(self) -> None: ...


def say(name: str, text: str) -> None:
    print(f"{name:<11} {text}", flush=True)


class Child:
    """A Python process of the clinic (the central or an agent), its output in a log file.
    Its own session: Ctrl-C reaches only this launcher, which stops the children in order."""

    def __init__(self, name: str, args: list[str], logs: Path, env: dict[str, str]) -> None:
        self.name, self.log = name, logs / f"{name}.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, *args], cwd=REPO, env=env,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # fmt: skip

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        stop_process(self.proc, STOP_TIMEOUT_S)


class ChairWatch:
    """Listens as the central user for each chair's first readings at the broker."""

    def __init__(self, port: int, password_file: Path) -> None:
        from devices import mqtt_link
        from monitor.device_config import Broker as BrokerEntry

        self.reading = {chair: threading.Event() for chair in CHAIRS}
        entry = BrokerEntry(port=port, username=CENTRAL_USER, password_file=str(password_file))
        self.client = mqtt_link.make_client(entry, f"trial-watch-{uuid.uuid4().hex[:6]}")
        self.client.on_connect = lambda c, *_: c.subscribe(f"ikm/v1/{CLINIC}/+/numerics", 1)
        self.client.on_message = self._on_message
        mqtt_link.start(self.client, entry)

    def _on_message(self, _c: Any, _u: Any, msg: Any) -> None:
        chair = msg.topic.split("/")[3]
        if chair in self.reading:
            self.reading[chair].set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def central_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_until(what: str, ready: Any, stop: threading.Event, alive: Any) -> None:
    """Poll `ready` until true; Failed if `alive` says the component died or time runs out."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready():
        if not alive():
            raise Failed(f"{what}: exited while starting")
        if time.monotonic() > deadline:
            raise Failed(f"{what}: not ready after {READY_TIMEOUT_S:.0f} s")
        if stop.wait(0.2):  # Ctrl-C ends the wait at once
            raise Interrupted


def run(args: argparse.Namespace, stop: threading.Event, started: list[Component]) -> None:
    data: Path = args.data
    logs = data / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    check_port(args.http_port, "central")  # before anything starts
    broker = Broker(data, args.broker_port)
    started.append(broker)
    say(broker.name, broker.start())
    postgres = Postgres(data, args.pg_port)
    started.append(postgres)
    say(postgres.name, postgres.start())
    if stop.is_set():
        raise Interrupted
    configs = write_configs(data, args.broker_port, args.http_port, postgres.url)
    watch = ChairWatch(args.broker_port, data / f"{CENTRAL_USER}.secret")
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        central_env = {**env, "PGPASSWORD": secret(data / "monitor-db.secret")}
        central = Child("central", ["dashboard.py", "--config", str(configs[0])], logs, central_env)
        started.append(central)
        agents = []
        for chair, config in zip(CHAIRS, configs[1:], strict=True):
            agents.append(
                Child(chair, ["-m", "devices", "agent", "--config", str(config)], logs, env)
            )
            started.append(agents[-1])
        url = f"http://127.0.0.1:{args.http_port}/"
        wait_until("central", lambda: central_answers(url), stop, central.alive)
        say("central", f"dashboard.py on {url} (session log {postgres.url})")
        for chair, agent in zip(CHAIRS, agents, strict=True):
            wait_until(chair, watch.reading[chair].is_set, stop, agent.alive)
            device = "virtual GE DRI monitor" if chair == "chair-3" else "simulated monitor"
            say(chair, f"agent publishing readings ({device}; log {agent.log})")
    finally:
        watch.close()
    print(f"\nTrial clinic up in {time.monotonic() - t0:.1f} s: open {url}", flush=True)
    print(f"Data, passwords and logs in {data}. Ctrl-C stops everything.", flush=True)
    while not stop.wait(CHECK_S):
        for part in started:
            if not part.alive():
                raise Failed(f"{part.name}: stopped unexpectedly (see {data / 'logs'})")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Run a trial clinic on this machine.")
    p.add_argument("--data", type=Path, default=REPO / "data" / "trial", help="data folder")
    p.add_argument("--http-port", type=int, default=8050, help="the central station (8050)")
    p.add_argument("--broker-port", type=int, default=1883, help="Mosquitto (1883)")
    p.add_argument("--pg-port", type=int, default=5433, help="PostgreSQL (5433)")
    args = p.parse_args(argv)
    args.data = args.data.resolve()
    for key in ("http_port", "broker_port", "pg_port"):
        if getattr(args, key) == 0:
            setattr(args, key, free_port())
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    started: list[Component] = []
    code = 0
    try:
        run(args, stop, started)
    except Failed as err:
        print(err, file=sys.stderr, flush=True)
        code = 2
    except Interrupted:
        pass
    finally:
        # the central first, so a closing clinic records no chair going offline; then the
        # agents (each publishes `offline`); the servers last
        order = sorted(reversed(started), key=lambda part: part.name != "central")
        running = [part for part in order if part.alive()]
        for part in order:
            part.stop()
        if running:
            print(f"stopped {', '.join(part.name for part in running)}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
