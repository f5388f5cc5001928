"""The live bed callback through the real Dash endpoint: only new points, and small."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dashboard import Station, build_station
from devices.simulator.inprocess import SimulatedMonitor
from monitor.clock import ManualClock
from tests.dash_requests import (
    UPDATE_URL,
    alarm_command_body,
    bed_tick_body,
    find_component,
    route_body,
)
from tests.helpers import make_config, pump

MAX_TICK_BYTES = 2048  # numerics, trends, alarms and session: one second of it
PLETH_BYTES = 2048  # plus one second of the 100 Hz pleth strip


@pytest.fixture
def station(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = ManualClock()
    st = build_station(make_config(tmp_path), clock)
    pump(st, clock, 900)  # a full 15-minute window behind the page
    yield st
    st.stop()


def _post(client: Any, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    resp = client.post(UPDATE_URL, json=body)
    assert resp.status_code == 200, resp.data[:500]
    return len(resp.data), json.loads(resp.data)


def _clock_and_client(station: Station) -> tuple[ManualClock, Any]:
    assert isinstance(station.clock, ManualClock)
    return station.clock, station.app.server.test_client()


def _open_bed_page(client: Any, station: Station) -> dict[str, Any]:
    """Render the bed page as the browser does; return the cursor it starts from."""
    _, page = _post(client, route_body(station.app, "/bed/chair-1"))
    store = find_component(page["response"]["page"]["children"], "bed-cursor")
    assert store is not None
    return store["props"]["data"]


def test_tick_sends_only_new_points_within_2kb(station: Station) -> None:
    clock, client = _clock_and_client(station)
    page_bytes, page = _post(client, route_body(station.app, "/bed/chair-1"))
    layout = page["response"]["page"]["children"]
    cursor = find_component(layout, "bed-cursor")["props"]["data"]  # type: ignore[index]
    graph = find_component(layout, "bed-trend")["props"]["figure"]  # type: ignore[index]
    assert len(graph["data"][0]["x"]) == 900  # the page starts with the whole window

    sizes = []
    for n in range(1, 6):
        pump(station, clock, 1)
        size, body = _post(client, bed_tick_body(station.app, cursor, n))
        sizes.append(size)
        response = body["response"]
        strip = response.pop("bed-wave-data")["data"]  # one 1-s block of pleth, 100 samples
        assert len(strip[0]["y"][0]) == 100 and strip[2] > 600
        sizes[-1] -= len(json.dumps({"bed-wave-data": {"data": strip}}))
        assert len(json.dumps(strip)) <= PLETH_BYTES
        assert "bed-extend" in response and set(response["bed-extend"]) == {"data"}
        assert "figure" not in json.dumps(response)
        update, indices, max_points = response["bed-extend"]["data"]
        hub = station.ward.runtime("chair-1")
        latest = hub.snapshot().latest
        hr_trace = indices.index(0)
        assert update["y"][hr_trace] == [latest["HR"].value]
        assert update["x"][hr_trace] == [round(latest["HR"].t * 1000)]
        assert max_points["x"][hr_trace] == 902
        cursor = response["bed-cursor"]["data"]
        assert cursor["seq"] == hub.snapshot().cursor
    print(f"tick response bytes: {sizes}, first render {page_bytes}")
    assert max(sizes) <= MAX_TICK_BYTES, sizes
    assert page_bytes > 20 * max(sizes)  # the first render is the only big response


def test_tick_with_nothing_new_sends_no_points(station: Station) -> None:
    client = station.app.server.test_client()
    cursor = _open_bed_page(client, station)
    _, body = _post(client, bed_tick_body(station.app, cursor, 1))
    assert "bed-extend" not in body["response"]


def test_cursor_from_an_earlier_run_continues_by_time(station: Station) -> None:
    clock, client = _clock_and_client(station)
    cursor = _open_bed_page(client, station)
    stale = cursor | {"epoch": "older-run", "seq": 10**9}
    pump(station, clock, 2)
    _, body = _post(client, bed_tick_body(station.app, stale, 1))
    update, indices, _ = body["response"]["bed-extend"]["data"]
    assert len(update["x"][indices.index(0)]) == 2  # exactly the two new HR points


def test_high_alarm_reaches_the_banner(station: Station) -> None:
    clock, client = _clock_and_client(station)
    cursor = _open_bed_page(client, station)
    device = station.ward.runtime("chair-1").device
    assert isinstance(device, SimulatedMonitor)
    device.set_value("SPO2", 80)
    pump(station, clock, 4)
    _, body = _post(client, bed_tick_body(station.app, cursor, 1))
    banner = body["response"]["bed-banner"]
    assert banner["className"] == "banner banner-high"
    lines = [line["props"]["children"] for line in banner["children"]]
    assert any(line.startswith("*** SpO₂ 80 < 85") for line in lines), lines


def test_acknowledge_through_the_page_callback(station: Station) -> None:
    clock, client = _clock_and_client(station)
    device = station.ward.runtime("chair-1").device
    assert isinstance(device, SimulatedMonitor)
    device.set_value("SPO2", 80)
    pump(station, clock, 4)
    assert station.ward.snapshot("chair-1").sounding == "HIGH"
    _, body = _post(client, alarm_command_body(station.app, "chair-1", "bed-ack"))
    assert body["response"]["bed-alarm-msg"]["children"] == "Acknowledged 1 alarm(s)."
    assert station.ward.snapshot("chair-1").sounding is None
