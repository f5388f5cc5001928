"""Freeze the station (SIGSTOP) under an open bed page and ward: the browser notices on its own.

The pages must not look alive: within 3 s every tile shows NO DATA, a CONNECTION LOST bar
appears and the technical tone starts; after SIGCONT both recover without a reload."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.child_station import Served, free_port
from tests.helpers import config_dict, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
LOST_BAR = "#connection-lost"


def _open(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector(".tile:not(.stale)", timeout=15_000)
    page.locator("#sound-enable").click()  # a click: the browser then allows sound
    wait_until(lambda: page.evaluate("window.monitorAudio.enabled"), 5, "sound on")
    return page


def _state(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => ({
            lost: window.monitorConnection.lost,
            bar: !!document.querySelector('#connection-lost:not([hidden])'),
            live: [...document.querySelectorAll('.tile')].filter(
                t => getComputedStyle(t.querySelector('.tile-nodata')).display === 'none').length,
            tiles: document.querySelectorAll('.tile').length,
            playing: window.monitorAudio.playing,
            bursts: window.monitorAudio.bursts,
        })"""
    )


def test_a_frozen_station_is_shown_as_lost_then_recovers(browser: Any, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_dict(tmp_path / "sessions.db")))
    station = Served(config, free_port(), tmp_path / "dashboard.log")
    pages = [_open(browser, station.url + "/bed/chair-1"), _open(browser, station.url + "/")]
    try:
        for page in pages:
            before = _state(page)
            assert not before["lost"] and before["live"] == before["tiles"] > 0
        bursts = [_state(p)["bursts"] for p in pages]

        os.kill(station.proc.pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        for page in pages:
            wait_until(lambda p=page: _state(p)["lost"], 6, "the page to notice the silence")
        noticed = time.monotonic() - frozen_at
        assert noticed <= 4.5  # 3 s of silence, checked every 250 ms, plus the last poll's age
        for page, before in zip(pages, bursts, strict=True):
            state = _state(page)
            assert state["bar"], "the CONNECTION LOST bar is shown"
            assert page.locator(LOST_BAR).inner_text().startswith("CONNECTION LOST")
            assert state["live"] == 0, "every tile shows NO DATA"
            assert state["playing"] == "MEDIUM"  # the technical tone
            wait_until(lambda p=page, b=before: _state(p)["bursts"] > b, 3, "the tone to start")

        os.kill(station.proc.pid, signal.SIGCONT)
        for page in pages:
            wait_until(lambda p=page: not _state(p)["lost"], 15, "the page to recover")
            wait_until(
                lambda p=page: _state(p)["live"] == _state(p)["tiles"], 15, "live tiles again"
            )
            assert not _state(page)["bar"]
            assert _state(page)["playing"] is None
        bed = pages[0]
        bed.reload()  # sound that was on stays on: a reload never silences the station
        bed.wait_for_selector(".tile:not(.stale)", timeout=15_000)
        wait_until(lambda: bed.evaluate("window.monitorAudio.enabled"), 5, "sound kept on")
        assert bed.locator("#sound-enable").inner_text().startswith("Sound on")
    finally:
        os.kill(station.proc.pid, signal.SIGCONT)
        for page in pages:
            page.close()
        assert station.kill(signal.SIGTERM) == 0
