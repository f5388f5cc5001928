"""The live stream route: it wakes on news, beats when quiet, and sits behind the login gate."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard import build_station
from monitor.clock import ManualClock
from tests.helpers import make_config, pump
from tests.integration.test_access import login, station  # noqa: F401


def _events(response: Any) -> Iterator[str]:
    for chunk in response.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        for message in text.split("\n\n"):
            for line in message.split("\n"):
                if line.startswith("event: "):
                    yield line.removeprefix("event: ")


def test_the_stream_wakes_on_news_and_beats_when_quiet(tmp_path: Path) -> None:
    clock = ManualClock()
    st = build_station(make_config(tmp_path, beds=2), clock)
    client = st.app.server.test_client()
    try:
        assert client.get("/stream/chair-9").status_code == 404
        response = client.get("/stream/chair-1", buffered=False)
        assert response.mimetype == "text/event-stream"
        events = _events(response)
        assert next(events) == "hello"
        started = time.monotonic()
        assert next(events) == "beat"  # nothing new for a second
        assert time.monotonic() - started < 3
        threading.Timer(0.2, lambda: pump(st, clock, 1)).start()
        kinds = [next(events) for _ in range(2)]
        assert "frame" in kinds
        response.close()
    finally:
        st.stop()


def test_the_stream_needs_a_login_with_live_permission(station: Any) -> None:  # noqa: F811
    client = station.app.server.test_client()
    anonymous = client.get("/stream/chair-1")  # the page's script follows `login`
    assert anonymous.status_code == 401 and anonymous.get_json()["login"] == "/login"
    login(client, "admin")  # an admin manages users; the live pages are not theirs
    assert client.get("/stream/chair-1").status_code == 403
    nurse = station.app.server.test_client()
    login(nurse, "nurse")
    response = nurse.get("/stream/all", buffered=False)
    assert response.status_code == 200
    assert next(_events(response)) == "hello"
    response.close()
    station.ward.close_streams()


def test_passive_requests_send_no_login_cookie(station: Any) -> None:  # noqa: F811
    """A stream or poll answered after a logout must not bring the old login back."""
    nurse = station.app.server.test_client()
    login(nurse, "nurse")
    response = nurse.get("/stream/chair-1", buffered=False)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    response.close()
    station.ward.close_streams()
    assert "Set-Cookie" in nurse.get("/").headers  # an ordinary page still refreshes it


def test_an_open_stream_ends_when_its_login_ends(station: Any) -> None:  # noqa: F811
    nurse = station.app.server.test_client()
    login(nurse, "nurse")
    response = nurse.get("/stream/chair-1", buffered=False)
    events = _events(response)
    assert next(events) == "hello"
    station.store.end_logins("nurse", time.time(), "everywhere")  # an admin, elsewhere
    started = time.monotonic()
    with pytest.raises(StopIteration):
        while True:
            next(events)  # beats, then the end
    assert time.monotonic() - started < 5
    response.close()
    station.ward.close_streams()
