"""Kill the dashboard mid-session and start it again: the session and its readings are back."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.child_station import Served, free_port
from tests.dash_requests import find_component, route_body, session_body
from tests.helpers import config_dict

pytestmark = pytest.mark.slow


def _app_stub() -> Any:
    """The callback keys only depend on the layout code, so a local app names them."""
    from monitor.clock import ManualClock
    from monitor.runtime.ward import Ward
    from monitor.ui.app import create_app

    return create_app(Ward([], ManualClock()), "x")


def _count(db: Path, sql: str, *args: Any) -> Any:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchone()
    finally:
        con.close()


def test_session_survives_a_kill(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_dict(db)))
    log = tmp_path / "dashboard.log"
    app = _app_stub()

    first = Served(config, free_port(), log)
    for button, fields in (
        ("s-create", {"weight": 72, "plan_rate": 0.5, "patient": "K-7", "conc": 2, "duration": 60}),
        ("s-start", {"override": "restart test: no resting baseline"}),
    ):
        reply = first.post(session_body(app, "chair-1", button, **fields))
        assert reply["response"]["s-msg"]["className"] == "form-msg ok", reply
    deadline = time.monotonic() + 15
    while _count(db, "SELECT COUNT(*) FROM readings WHERE signal = 'HR'")[0] < 4:
        assert time.monotonic() < deadline, "readings were not written"
        time.sleep(0.2)
    (session_id,) = _count(db, "SELECT id FROM sessions WHERE ended_at IS NULL")
    killed_at = time.time()
    assert first.kill(signal.SIGKILL) == -signal.SIGKILL
    before = _count(db, "SELECT COUNT(*), MAX(t) FROM readings WHERE session_id = ?", session_id)

    second = Served(config, free_port(), log)
    page = second.post(route_body(app, "/bed/chair-1"))["response"]["page"]["children"]
    session_line = find_component(page, "bed-session")["props"]["children"]  # type: ignore[index]
    assert session_line.startswith(f"Session {session_id} · infusing 0.5 mg/kg/h · 72 kg")
    figure = find_component(page, "bed-trend")["props"]["figure"]  # type: ignore[index]
    hr_times = figure["data"][0]["x"]
    assert sum(1 for x in hr_times if x / 1000 < killed_at) >= 4  # earlier readings are shown
    deadline = time.monotonic() + 15
    while (
        _count(
            db,
            "SELECT COUNT(*) FROM readings WHERE session_id = ? AND t > ?",
            session_id,
            before[1],
        )[0]
        < 2
    ):
        assert time.monotonic() < deadline, "the resumed session records no new readings"
        time.sleep(0.2)
    assert _count(db, "SELECT COUNT(*) FROM sessions")[0] == 1
    assert second.kill(signal.SIGTERM) == 0  # a clean stop flushes and exits 0
    assert (
        _count(db, "SELECT COUNT(*) FROM readings WHERE session_id = ?", session_id)[0] > before[0]
    )
