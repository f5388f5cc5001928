"""Thirty chairs through MQTT into a central station that records to PostgreSQL.

A private Mosquitto (tests/mosquitto.py) and a private PostgreSQL 15 with fsync on
(tests/postgres.py) are started; the central is a child process, `python dashboard.py` with a
generated config: N beds of `kind: mqtt`, the shipped alarm rules (config.yaml) and
`store.url` on a fresh database where each bed has an open session (created through the
store, before the start, so the central resumes them as after a restart and records every
reading). The load is N chair agents' traffic from this process (bench/scale_fleet.py: one
paho client and broker user per chair, the agents' topics, payloads and QoS, numerics at 1 Hz
and pleth at 100 Hz in 4 chunks a second); not N `python -m devices agent` processes, which
on 2 cores would measure the agents rather than the central.

Measured from outside the central, over the window:
- latency: an alarming cuff reading (systolic 185, raised on the first reading by the shipped
  NIBP rules) from its publish until the central's `/stream/all` lists the alarm, as a
  central page sees it (bench/scale_watch.py); every chair every 10 s, staggered;
- the central's CPU: utime + stime of the child from /proc, % of one core, nobody
  publishing first (its central page open), then under load;
- PostgreSQL: rows of `readings` (and `waves`) counted at the start and end, per second.
With --headroom, steps N up (45, 60, 90, ...) on a fresh central and database each until the
p99 passes 1 s, an alarm is 10 s late, or the generator itself falls behind; the N reached is
the last step within 1 s. Verdicts against the goals (p99 <= 500 ms, central < 50 % of one
core at 30 chairs) are printed, not enforced. Any error (a refused connection, the central or
the broker exiting, an alarm not seen within 10 s in the main run, a dropped stream) ends
the bench with exit code 1 before any figure is printed.

    python bench/scale.py [--agents 30] [--seconds 60] [--headroom] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale_fleet import PROBE_EVERY, QUARTER_S, Fleet  # noqa: E402
from bench.scale_watch import Watcher  # noqa: E402
from bench.viewers import cpu_ticks, machine_busy, share, station_log  # noqa: E402
from monitor.storage.backends import open_session_log  # noqa: E402
from tests.child_station import Served, free_port  # noqa: E402
from tests.helpers import REPO  # noqa: E402
from tests.mosquitto import CENTRAL, CLINIC, PrivateBroker, password_of  # noqa: E402
from tests.postgres import create_database, private_cluster  # noqa: E402

HOST = "127.0.0.1"
GOAL_P99_S, GOAL_CPU, GOAL_AGENTS = 0.5, 50.0, 30
LIMIT_P99_S = 1.0  # the headroom: the last N whose p99 stays within this
LATE_S = 10.0  # an alarm not seen by then is an error
SWEEP = (45, 60, 90, 120, 150, 180, 240, 300)
SETTLE_S = 5.0  # after the chairs connect, before the window: first messages, retained status
CHECK_S = 0.5
PLAN = {"weight_kg": 70.0, "planned_rate_mg_kg_h": 0.5, "concentration_mg_ml": 10.0}
VERDICT = {True: "met", False: "NOT met"}


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)  # progress; the figures go to stdout at the end


@dataclass
class Step:
    agents: int
    span: float
    latencies: list[float]
    probes: int
    idle_cpu: float
    cpu: float
    rest_cpu: float  # the rest of the machine (the generator, broker, PostgreSQL)
    bench_cpu: float  # this process: the generator and the watcher
    rows_s: float
    waves_s: float
    behind_s: float
    late: str = ""  # the headroom sweep: an alarm not seen within LATE_S

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def keeps_pace(self) -> bool:
        return self.behind_s <= QUARTER_S


def central_config(folder: Path, broker_port: int, url: str, beds: list[str]) -> Path:
    """config.yaml's alarm rules and session settings, with N mqtt beds and PostgreSQL."""
    raw: dict[str, Any] = yaml.safe_load((REPO / "config.yaml").read_text())
    broker = {"host": HOST, "port": broker_port, "username": CENTRAL,
              "password": password_of(CENTRAL), "keepalive_s": 5}  # fmt: skip
    raw["server"] = {"host": HOST, "port": 8050, "station": "central-bench"}
    raw["store"] = {"path": str(folder / "sessions.db"), "url": url, "flush_interval_s": 0.5}
    raw["training"] = {"enabled": False}  # a clinic's live central
    raw["beds"] = [
        {"id": b, "name": b.replace("-", " ").title(),
         "device": {"kind": "mqtt", "clinic": CLINIC, "source": "live", "broker": broker}}
        for b in beds
    ]  # fmt: skip
    path = folder / "central.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def open_sessions(folder: Path, url: str, beds: list[str]) -> None:
    store = open_session_log(folder / "unused.db", url, 0.5)
    try:
        for bed in beds:
            store.create_session(bed, "live", time.time(), PLAN, "bench")
    finally:
        store.close()


def rows(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        readings = conn.execute("SELECT count(*) FROM readings").fetchone()
        waves = conn.execute("SELECT count(*) FROM waves").fetchone()
    assert readings is not None and waves is not None
    return int(readings[0]), int(waves[0])


def start_central(config: Path, log: Path) -> tuple[int, Served]:
    """The central on a free port; again on another if something took that port meanwhile
    (a busy machine: the port is only free when it is chosen)."""
    for attempt in range(3):
        port = free_port()
        try:
            return port, Served(config, port, log)
        except AssertionError:
            if attempt == 2 or "Address already in use" not in log.read_text():
                raise
            log.write_text("")
    raise AssertionError("unreachable")


def healthy(served: Served, broker: PrivateBroker, fleet: Fleet | None, watcher: Watcher) -> None:
    """Any error so far ends the bench."""
    if served.proc.poll() is not None:
        raise RuntimeError(f"the central exited with code {served.proc.returncode}")
    if broker.proc is None or broker.proc.poll() is not None:
        raise RuntimeError(f"the broker exited: {broker.log()[-400:]}")
    if fleet is not None and fleet.errors:
        raise RuntimeError(f"{len(fleet.errors)} generator errors, the first: {fleet.errors[0]}")
    if watcher.error:
        raise RuntimeError(watcher.error)


def watch(seconds: float, check: Any, watcher: Watcher, strict: bool) -> str:
    """Wait out the window, checking health; returns why it ended early ("" if it did not)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(CHECK_S, max(0.0, end - time.monotonic())))  # a sampling period
        check()
        late = watcher.overdue(LATE_S)
        if late:
            text = f"{late[0][0]}'s alarm not seen within {LATE_S:g} s ({len(late)} late)"
            if strict:
                raise RuntimeError(text)
            return text
    return ""


def run_step(
    stack_dir: Path, cluster: str, broker: PrivateBroker, n: int, args: argparse.Namespace,
    strict: bool,
) -> Step:  # fmt: skip
    """One central with n chairs: idle baseline, then the window under load."""
    beds = [f"chair-{i + 1}" for i in range(n)]
    folder = stack_dir / f"n{n}"
    folder.mkdir()
    url = create_database(cluster)
    open_sessions(folder, url, beds)
    config = central_config(folder, broker.port, url, beds)
    note(f"{n} chairs: starting the central")
    port, served = start_central(config, folder / "central.log")
    watcher = Watcher(HOST, port)
    fleet: Fleet | None = None
    try:
        watcher.start()  # the central page is open throughout, as at a nurses' station
        healthy(served, broker, None, watcher)
        note(f"{n} chairs: {args.baseline:g} s idle baseline (nobody publishing)")
        pid = served.proc.pid
        c0, t0 = cpu_ticks(pid), time.monotonic()
        watch(args.baseline, lambda: healthy(served, broker, None, watcher), watcher, True)
        idle = share(cpu_ticks(pid) - c0, time.monotonic() - t0)

        fleet = Fleet(broker.port, CLINIC, beds, password_of, args.probe_every)
        fleet.connect()
        fleet.start(watcher.expect)
        check = lambda: healthy(served, broker, fleet, watcher)  # noqa: E731
        watch(SETTLE_S, check, watcher, True)
        note(f"{n} chairs: {args.seconds:g} s window")
        (r0, v0), mine0 = rows(url), os.times()
        fleet.lateness.clear()
        w0, c0, m0 = time.monotonic(), cpu_ticks(pid), machine_busy()
        watcher.reset(w0)
        late = watch(args.seconds, check, watcher, strict)
        w1, c1, m1 = time.monotonic(), cpu_ticks(pid), machine_busy()
        (r1, v1), mine1 = rows(url), os.times()
        check()
    finally:
        if fleet is not None:
            fleet.stop()
        watcher.stop()
        served.kill(signal.SIGTERM)
    log_line = station_log(folder / "central.log")
    span = w1 - w0
    latencies = watcher.window_latencies()
    if not latencies and not late:
        raise RuntimeError("no alarm probe fell in the window: make it longer")
    mine = (mine1.user + mine1.system - mine0.user - mine0.system) / span * 100
    step = Step(
        agents=n,
        span=span,
        latencies=latencies,
        probes=len(latencies),
        idle_cpu=idle,
        cpu=share(c1 - c0, span),
        rest_cpu=share(m1 - m0 - (c1 - c0), span),
        bench_cpu=mine,
        rows_s=(r1 - r0) / span,
        waves_s=(v1 - v0) / span,
        behind_s=fleet.behind(),
        late=late,
    )
    note(f"{n} chairs: {step_line(step)}; {log_line}")  # kept if a later step fails
    return step


def step_line(s: Step) -> str:
    if s.late:
        return s.late
    return (
        f"p50 {s.pct(0.5) * 1000:.0f} ms, p99 {s.pct(0.99) * 1000:.0f} ms, max "
        f"{max(s.latencies) * 1000:.0f} ms of {s.probes} alarms; central {s.cpu:.0f} % (idle "
        f"{s.idle_cpu:.0f} %), generator {s.bench_cpu:.0f} %, rest {s.rest_cpu - s.bench_cpu:.0f} "
        f"%; {s.rows_s:.0f} rows/s; generator "
        + ("kept pace" if s.keeps_pace else f"FELL BEHIND (p99 {s.behind_s:.2f} s)")
    )


def report(main: Step, sweep: list[Step], args: argparse.Namespace) -> list[str]:
    expected = main.agents * (6 + 6 / args.probe_every)
    lines = [
        f"load: {main.agents} chairs from one generator process (one paho client and broker "
        f"user each; not {main.agents} agent processes: on {os.cpu_count()} cores they would "
        "measure the agents, not the central); numerics 1/s (QoS 1), pleth 100 Hz in 4 "
        f"chunks/s (QoS 0), an alarming cuff every {args.probe_every} s per chair",
        f"window {main.span:.0f} s; {main.probes} alarms published -> seen on /stream/all: "
        f"p50 {main.pct(0.5) * 1000:.0f} ms, p99 {main.pct(0.99) * 1000:.0f} ms, max "
        f"{max(main.latencies) * 1000:.0f} ms (goal p99 <= {GOAL_P99_S * 1000:.0f} ms): "
        f"{VERDICT[main.pct(0.99) <= GOAL_P99_S]}",
        f"central CPU: idle {main.idle_cpu:.1f} % of a core, under load {main.cpu:.1f} % "
        f"(goal < {GOAL_CPU:.0f} % at {GOAL_AGENTS} chairs): {VERDICT[main.cpu < GOAL_CPU]}",
        f"PostgreSQL: {main.rows_s:.0f} readings rows/s (sent {expected:.0f}/s), "
        f"{main.waves_s:.1f} waves rows/s",
        f"rest of the machine {main.rest_cpu:.1f} % of a core, of which this process "
        f"(generator and watcher) {main.bench_cpu:.1f} %; generator lateness p99 "
        f"{main.behind_s * 1000:.0f} ms: {'kept pace' if main.keeps_pace else 'FELL BEHIND'}",
    ]
    if not args.headroom:
        return lines
    lines.append(f"headroom (window {args.sweep_seconds:g} s a step, a fresh central each):")
    lines += [f"  {s.agents:>4} chairs: {step_line(s)}" for s in [main, *sweep]]
    within = [s for s in [main, *sweep] if within_limit(s)]
    last = sweep[-1] if sweep else main
    why = (
        "the generator could not keep pace" if not last.keeps_pace
        else "an alarm was 10 s late" if last.late
        else f"p99 passed {LIMIT_P99_S:g} s" if not within_limit(last)
        else f"the sweep ended at {last.agents} (p99 still within {LIMIT_P99_S:g} s)"
    )  # fmt: skip
    reached = max((s.agents for s in within), default=0)
    lines.append(f"headroom: {reached} chairs with p99 <= {LIMIT_P99_S:g} s; stopped: {why}")
    return lines


def within_limit(s: Step) -> bool:
    return not s.late and s.keeps_pace and s.pct(0.99) <= LIMIT_P99_S


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60, help="the measuring window")
    parser.add_argument("--baseline", type=float, default=10, help="idle seconds first")
    parser.add_argument("--headroom", action="store_true", help="then step the chairs up")
    parser.add_argument("--sweep-seconds", type=float, default=30, help="a headroom step")
    parser.add_argument("--probe-every", type=int, default=PROBE_EVERY, help="s, per chair")
    parser.add_argument("--smoke", action="store_true", help="2 chairs, about 10 s")
    args = parser.parse_args()
    if args.smoke:
        args.agents, args.seconds, args.baseline, args.headroom = 2, 6, 2, False
        args.probe_every = 3
    top = max([args.agents, *SWEEP]) if args.headroom else args.agents
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scale-bench-")))
        cluster = stack.enter_context(private_cluster(durable=True))
        broker = PrivateBroker(tmp / "broker", chairs=[f"chair-{i + 1}" for i in range(top)])
        broker.start()
        stack.callback(broker.stop)
        main_step = run_step(tmp, cluster, broker, args.agents, args, strict=True)
        sweep: list[Step] = []
        if args.headroom:
            args.seconds, args.baseline = args.sweep_seconds, min(args.baseline, 5.0)
            for n in (n for n in SWEEP if n > args.agents):
                if sweep and not within_limit(sweep[-1]) or not within_limit(main_step):
                    break
                sweep.append(run_step(tmp, cluster, broker, n, args, strict=False))
    print("\n".join(report(main_step, sweep, args)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as err:  # a bench never prints figures after a failure
        print(f"scale: FAILED: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)
