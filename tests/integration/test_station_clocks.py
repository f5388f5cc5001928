"""Time per bed, and what the ward overview says of a running infusion."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dashboard import build_station
from monitor.clock import ManualClock
from monitor.config import parse_config
from tests.helpers import PLAN, REPO, config_dict, make_config, pump, wait_until


def test_a_training_bed_at_60x_leaves_its_neighbour_on_real_time(tmp_path: Path) -> None:
    data = config_dict(tmp_path / "sessions.db", beds=2)
    data["training"] = {
        "enabled": True,
        "scenarios": str(REPO / "devices" / "simulator" / "scenarios"),
        "speed": 60,
    }
    station = build_station(parse_config(data))  # no clock given: the station's own clocks
    station.start()
    ward = station.ward
    try:
        ward.training_command("chair-1", "start", "instructor", "uneventful")
        trainer, neighbour = ward.runtime("chair-1"), ward.runtime("chair-2")
        wait_until(lambda: trainer.clock.now() > time.time() + 30, 10, "training time to run")
        ward.clock_control("speed", 60.0)  # the instructor's control moves training time only
        assert neighbour.clock.speed == 1.0

        created = ward.session_command("chair-2", "create", "nurse", plan=PLAN)
        assert abs(created.started_at - time.time()) < 2  # type: ignore[attr-defined]
        wait_until(
            lambda: (
                neighbour.snapshot().latest.get("HR") is not None
                and neighbour.snapshot().latest["HR"].t > created.started_at
            ),  # type: ignore[attr-defined]
            10,
            "a new reading on the live bed",
        )
        snap = neighbour.snapshot()
        assert abs(snap.now - time.time()) < 1
        assert all(abs(r.t - time.time()) < 5 for r in snap.latest.values())
        assert snap.alarms == [] or all(a.onset_t <= time.time() + 1 for a in snap.alarms)
        assert "TECH_NO_DATA" not in {a.name for a in snap.alarms}
        assert trainer.snapshot().now > time.time() + 30  # the scenario's bed runs fast
        station.store.flush()
        stored = station.store.session(created.id)  # type: ignore[attr-defined]
        assert abs(stored.started_at - time.time()) < 5
        assert all(
            abs(r[0] - time.time()) < 15 for r in station.store.readings(stored.id)
        )  # recorded on real time
    finally:
        station.stop()


def _overview_line(client: Any, app: Any, bed: str) -> str:
    """The card's infusion line as the central station is sent it."""
    hello = client.get("/stream/all/poll?after=").get_json()["hello"]
    return str(hello["beds"][bed]["state"]["card"]["session"])


def test_the_overview_shows_the_running_rate_and_phase(tmp_path: Path) -> None:
    clock = ManualClock()
    station = build_station(make_config(tmp_path), clock)
    ward, client = station.ward, station.app.server.test_client()
    try:
        pump(station, clock, 5)
        ward.session_command("chair-1", "create", "nurse", plan=PLAN)
        assert _overview_line(client, station.app, "chair-1").endswith("pre-infusion")
        ward.session_command(
            "chair-1", "start", "dr-a", override_reason="test set-up", role="physician"
        )
        ward.session_command(
            "chair-1", "rate", "dr-a", rate_mg_kg_h=0.3, override_reason="", role="physician"
        )
        line = _overview_line(client, station.app, "chair-1")
        assert line.startswith("Session 1 · infusing 0.3 mg/kg/h (2.4 mL/h)"), line
        assert "0 min" in line and "assess " in line
        ward.session_command("chair-1", "pause", "nurse")
        line = _overview_line(client, station.app, "chair-1")
        assert "paused" in line and "pump stopped (set 0.3 mg/kg/h)" in line
        assert "0.75" not in line
    finally:
        station.stop()
