"""Shared test helpers: configs, an in-process served station, Dash callback requests."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from waitress import create_server

from dashboard import Station, build_station
from devices.simulator.inprocess import SimulatedMonitor
from monitor.clock import Clock, ManualClock
from monitor.config import Config, parse_config
from monitor.model import Reading

REPO = Path(__file__).resolve().parents[1]


def config_dict(
    store: Path,
    beds: int = 1,
    rules: list[dict[str, Any]] | None = None,
    nibp_interval_s: float = 180.0,
) -> dict[str, Any]:
    return {
        "server": {"host": "127.0.0.1", "port": 8050, "station": "test-station"},
        "store": {"path": str(store), "flush_interval_s": 0.2},
        "beds": [
            {
                "id": f"chair-{i + 1}",
                "name": f"Chair {i + 1}",
                "device": {
                    "kind": "simulator",
                    "seed": i + 1,
                    "interval_s": 1.0,
                    "nibp_interval_s": nibp_interval_s,
                },
            }
            for i in range(beds)
        ],
        "alarms": {
            "rules": rules
            if rules is not None
            else [
                {
                    "name": "SPO2_LOW",
                    "signal": "SPO2",
                    "op": "<",
                    "limit": 92,
                    "priority": "MEDIUM",
                    "delay_s": 60,
                },
                {
                    "name": "SPO2_DESAT",
                    "signal": "SPO2",
                    "op": "<",
                    "limit": 85,
                    "priority": "HIGH",
                    "delay_s": 2,
                },
                {
                    "name": "HR_HIGH",
                    "signal": "HR",
                    "op": ">",
                    "limit": 120,
                    "priority": "MEDIUM",
                    "delay_s": 10,
                },
                *VITAL_RULES,
            ]
        },
    }


# Every rule set needs SpO2, HR, NIBP and RR rules; these two complete the small test set.
VITAL_RULES: list[dict[str, Any]] = [
    {"name": "NIBP_SYS_VERY_HIGH", "signal": "NIBP_SYS", "op": ">=", "limit": 180},
    {"name": "RR_VERY_LOW", "signal": "RR", "op": "<", "limit": 8, "delay_s": 15},
]
for _rule in VITAL_RULES:
    _rule["priority"] = "HIGH"
MINIMAL_RULES: list[dict[str, Any]] = [
    {"name": "SPO2_DESAT", "signal": "SPO2", "op": "<", "limit": 85, "priority": "HIGH"},
    {"name": "HR_VERY_HIGH", "signal": "HR", "op": ">", "limit": 140, "priority": "HIGH"},
    *VITAL_RULES,
]


class QuietDevice:
    """A device that sends nothing by itself (tests feed the hub) and records what the pump
    delivers (mg/h) each time the hub tells it."""

    def __init__(self, source: str = "live", intervals: dict[str, float] | None = None) -> None:
        self.source = source
        self.expected_interval_s = intervals or {"HR": 1.0, "SPO2": 1.0, "NIBP_SYS": 180.0}
        self.rates: list[float] = []

    def run(self, sink: Callable[..., object], stop: threading.Event) -> None:
        stop.wait()

    def infusion_changed(self, mg_per_h: float) -> None:
        self.rates.append(mg_per_h)


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> float:
    """Poll `check` until it holds; returns the seconds it took, fails after `seconds`."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, f"timed out after {seconds} s waiting for {what}"
        time.sleep(0.05)
    return time.monotonic() - start


def make_config(tmp_path: Path, **kw: Any) -> Config:
    return parse_config(config_dict(tmp_path / "sessions.db", **kw))


@contextmanager
def served(config: Config, clock: Clock | None = None) -> Iterator[tuple[Station, str]]:
    """Run a whole station in this process, served by waitress on a free loopback port."""
    station = build_station(config, clock)
    station.start()
    server = create_server(station.app.server, host="127.0.0.1", port=0, threads=16)
    closing = threading.Event()

    def serve() -> None:
        try:
            server.run()
        except OSError:
            if not closing.is_set():  # closing its sockets under the loop is how it stops
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield station, f"http://127.0.0.1:{server.effective_port}"
    finally:
        station.ward.close_streams()
        _streams_ended(station)
        closing.set()
        server.close()
        thread.join(timeout=5)
        station.stop()


def _streams_ended(station: Station, seconds: float = 3.0) -> None:
    """Let open live streams finish their answers before the server closes under them."""
    live = station.app.server.extensions.get("live")
    deadline = time.monotonic() + seconds
    while live is not None and live[1].used and time.monotonic() < deadline:
        time.sleep(0.02)


def pump(station: Station, clock: ManualClock, seconds: int) -> None:
    """Run every bed's simulator for `seconds` of manual-clock time, synchronously."""
    for _ in range(seconds):
        clock.advance(1.0)
        for bed in station.ward.beds():
            hub = station.ward.runtime(bed.id)
            assert isinstance(hub.device, SimulatedMonitor)
            hub.device.tick(hub.receive)


CAPTURES = REPO.parent / "shared" / "data" / "datex-carescape"


def capture(name: str) -> Path:
    """A real monitor capture from ../shared; CI must have them, elsewhere the test skips."""
    path = CAPTURES / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI runs beside ../shared")
        pytest.skip(f"{path} is not available")
    return path


# A plan as the create form sends it: concentration and duration are required.
PLAN: dict[str, Any] = {
    "patient_ref": "K-0042",
    "weight_kg": 80,
    "indication": "depression",
    "regimen": "0.5 mg/kg over 40 min",
    "planned_rate_mg_kg_h": 0.75,
    "concentration_mg_ml": 10,
    "planned_duration_min": 40,
}
PRE_INFUSION_TICKED = ["identity", "consent", "fasting", "iv", "contraindications", "escort"]


def resting_vitals(
    hub: Any, t: float, sbp: float = 125, spo2: float = 98, rr: float | None = 14
) -> None:
    """One set of resting vitals at `t`: a cuff reading with HR, SpO2 and RR (none if None)."""
    bed = hub.info.id
    for signal, value, unit in (
        ("NIBP_SYS", sbp, "mmHg"),
        ("NIBP_DIA", 80, "mmHg"),
        ("NIBP_MEAN", 95, "mmHg"),
        ("HR", 72, "/min"),
        ("SPO2", spo2, "%"),
        ("RR", rr, "/min"),
    ):
        if value is not None:
            hub.ingest(Reading(bed, t, signal, value, unit))


def ready_to_start(hub: Any, clock: Any, sbp: float = 125) -> None:
    """What the start gate needs: two resting cuffs with HR, SpO2 and RR, a confirmed
    baseline, and the pre-infusion RASS, CADSS-6 and pain scores."""
    resting_vitals(hub, clock.now(), sbp=sbp)
    clock.advance(180)
    resting_vitals(hub, clock.now(), sbp=sbp)
    hub.confirm_baseline("nurse")
    hub.assess({"RASS": 0, "CADSS6_ITEMS": [0] * 6, "PAIN_NRS": 6}, "nurse")


def start_ready(hub: Any, clock: Any, user: str = "nurse") -> None:
    """Make the bed ready and start the infusion through the gate."""
    ready_to_start(hub, clock)
    hub.start_infusion(user, ticked=PRE_INFUSION_TICKED)


def start_by_override(hub: Any, weight_kg: float = 70, rate: float = 0.75, user: str = "nurse"):  # type: ignore[no-untyped-def]
    """A running infusion for tests about something else: created, then started by a
    physician's audited override of the start gate."""
    plan = PLAN | {"weight_kg": weight_kg, "planned_rate_mg_kg_h": rate}
    session = hub.create_session(plan, user)
    hub.start_infusion("dr-test", "test set-up", role="physician")
    return session
