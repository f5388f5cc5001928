"""What live pages are sent, through the real routes: a bed's change is one small message with
only the new points, an alarm reaches the banner's state, the central station's message
gathers every bed, and the server redraws the alarm list only when told it changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dashboard import Station, build_station
from devices.simulator.inprocess import SimulatedMonitor
from monitor.clock import ManualClock
from monitor.model import DeviceEvent
from tests.dash_requests import (
    UPDATE_URL,
    alarm_command_body,
    bed_changes_body,
    find_component,
    route_body,
)
from tests.helpers import make_config, pump, wait_until

MAX_SECOND_BYTES = 3072  # numerics, state, one trend point a signal, a second of 100 Hz pleth


@pytest.fixture
def station(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = ManualClock()
    st = build_station(make_config(tmp_path, beds=2), clock)
    pump(st, clock, 900)  # a full 15-minute window behind the page
    yield st
    st.ward.close_streams()
    st.stop()


def _clock_and_client(station: Station) -> tuple[ManualClock, Any]:
    assert isinstance(station.clock, ManualClock)
    return station.clock, station.app.server.test_client()


def _poll(client: Any, bed: str, after: int | None) -> tuple[int, dict[str, Any]]:
    resp = client.get(f"/stream/{bed}/poll?after={'' if after is None else after}")
    assert resp.status_code == 200, resp.data[:300]
    return len(resp.data), json.loads(resp.data)


def _desaturated(station: Station) -> Any:
    """Chair 1 desaturates to 80 % for 4 s (a HIGH alarm); returns a client."""
    clock, client = _clock_and_client(station)
    device = station.ward.runtime("chair-1").device
    assert isinstance(device, SimulatedMonitor)
    device.set_value("SPO2", 80)
    pump(station, clock, 4)
    return client


def _news(client: Any, bed: str, after: int) -> tuple[int, list[dict[str, Any]], int]:
    """Wait for the broadcaster to publish after `after`: (bytes, messages, last)."""
    got: dict[str, Any] = {}

    def published() -> bool:
        size, body = _poll(client, bed, after)
        got.update(size=size, body=body)
        return bool(body["messages"])

    wait_until(published, 5, "a published message")
    body = got["body"]
    assert body["hello"] is None  # the channel still held everything after `after`
    return got["size"], body["messages"], body["last"]


def test_a_second_of_news_is_one_small_message_with_only_new_points(station: Station) -> None:
    clock, client = _clock_and_client(station)
    _, first = _poll(client, "chair-1", None)
    assert first["hello"]["state"]["tiles"]["HR"]["v"].isdigit()  # a page starts from a hello
    last = first["last"]
    pump(station, clock, 1)
    size, messages, last = _news(client, "chair-1", last)
    assert size < MAX_SECOND_BYTES, size
    trend = [m["trend"] for m in messages if "trend" in m]
    update, indices, _ = trend[0]
    assert len(update["x"][indices.index(0)]) == 1  # exactly the one new HR point
    waves = [c for m in messages for c in m.get("waves", [])]
    assert sum(len(c["y"]) for c in waves) == 100 and waves[0]["s"] == "PLETH"
    _, again = _poll(client, "chair-1", last)
    assert again["messages"] == [] and again["hello"] is None  # nothing new: nothing sent


def test_high_alarm_reaches_the_banner_and_the_ward(station: Station) -> None:
    clock, client = _clock_and_client(station)
    last = _poll(client, "chair-1", None)[1]["last"]
    ward_last = _poll(client, "all", None)[1]["last"]
    device = station.ward.runtime("chair-1").device
    assert isinstance(device, SimulatedMonitor)
    device.set_value("SPO2", 80)
    pump(station, clock, 4)

    def banner() -> dict[str, Any]:
        states = [m["state"] for m in _poll(client, "chair-1", last)[1]["messages"] if "state" in m]
        return states[-1]["banner"] if states else {"cls": ""}

    wait_until(lambda: banner()["cls"] == "banner banner-high", 5, "the HIGH banner")
    assert banner()["text"].startswith("*** SpO₂ 80 < 85"), banner()

    def chair() -> list[dict[str, Any]]:
        ward = _poll(client, "all", ward_last)[1]["messages"]
        return [m["beds"]["chair-1"] for m in ward if "chair-1" in m["beds"]]

    def card() -> str:
        states = [p["state"] for p in chair() if "state" in p]
        return states[-1]["card"]["cls"] if states else ""

    wait_until(lambda: card() == "bed-card card-alarm-high", 5, "the card's alarm")
    state = [p["state"] for p in chair() if "state" in p][-1]
    assert state["alarms"][0]["p"] == "high" and state["tiles"]["SPO2"]["alarm"] == "high"
    assert any(p.get("spark", {}).get("SPO2") for p in chair())
    pleth = [c for p in chair() for c in p.get("waves", [])]
    assert pleth and all(c["hz"] == 25 for c in pleth)  # the small strip needs no more


def test_a_page_catches_up_from_its_own_cursor(station: Station) -> None:
    clock, client = _clock_and_client(station)
    info = station.ward.beds()[0]
    seq = station.ward.snapshot("chair-1").cursor
    pump(station, clock, 3)  # between drawing the page and opening the stream
    resp = client.get(f"/stream/chair-1?seq={seq}&epoch={info.epoch}", buffered=False)
    hello = next(iter(resp.response)).decode()
    resp.close()
    assert hello.startswith("id: ") and "event: hello" in hello
    data = json.loads(hello.split("data: ", 1)[1])
    update, indices, _ = data["trend"]
    assert len(update["x"][indices.index(0)]) == 3  # the three HR points it missed
    resp = client.get(f"/stream/chair-1?seq={seq}&epoch=older-run", buffered=False)
    assert "trend" not in json.loads(next(iter(resp.response)).decode().split("data: ", 1)[1])
    resp.close()


def test_the_alarm_list_is_redrawn_on_a_change(station: Station) -> None:
    client = _desaturated(station)
    resp = client.post(UPDATE_URL, json=bed_changes_body(station.app, "chair-1", {"alarms": "x"}))
    assert resp.status_code == 200, resp.data[:300]
    body = json.loads(resp.data)["response"]
    rows = json.dumps(body["bed-alarm-list"]["children"])
    assert "SPO2_DESAT" in rows and "alarm-row-high" in rows


def test_acknowledge_through_the_page_callback(station: Station) -> None:
    client = _desaturated(station)
    assert station.ward.snapshot("chair-1").sounding == "HIGH"
    resp = client.post(UPDATE_URL, json=alarm_command_body(station.app, "chair-1", "bed-ack"))
    assert json.loads(resp.data)["response"]["bed-alarm-msg"]["children"] == (
        "Acknowledged 1 alarm(s)."
    )
    assert station.ward.snapshot("chair-1").sounding is None


def test_the_bed_page_draws_its_window_and_where_it_ends(station: Station) -> None:
    _, client = _clock_and_client(station)
    resp = client.post(UPDATE_URL, json=route_body(station.app, "/bed/chair-1"))
    layout = json.loads(resp.data)["response"]["page"]["children"]
    marker = find_component(layout, "bed-live")
    assert marker is not None and marker["props"]["data-seq"].isdigit()
    graph = find_component(layout, "bed-trend")["props"]["figure"]  # type: ignore[index]
    assert len(graph["data"][0]["x"]) >= 899  # 15 minutes of HR


def test_the_wave_is_marked_invalid_while_the_probe_is_off(station: Station) -> None:
    clock, client = _clock_and_client(station)
    assert _poll(client, "chair-1", None)[1]["hello"]["state"]["wave_ok"] is True
    event = {"signal": "SPO2", "status": "probe off"}
    station.ward.runtime("chair-1").receive(
        DeviceEvent("chair-1", clock.now(), "signal_status", event)
    )
    state = _poll(client, "chair-1", None)[1]["hello"]["state"]
    assert state["wave_ok"] is False and state["tiles"]["SPO2"]["sub"] == "probe off"
