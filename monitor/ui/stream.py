"""The live stream: a server-sent event route that wakes a page when its beds have news.

It is fed by `LiveFeed.wait_any`, so it carries no polling inside. A message names the beds
with news and their cursors; the page then runs its ordinary cursor-based tick at once
(stream.js), so the push and the 1-s fallback poll share one delta. A heartbeat every second
keeps the browser's connection watchdog fed. The route is under /stream/, which the login
gate checks like the live pages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Flask, Response, abort

from monitor.feed import LiveFeed

HEARTBEAT_S = 1.0
COALESCE_S = 0.02  # a monitor sends a record's numerics together: one wake-up for them all
MAX_STREAM_S = 3600.0  # the browser reconnects by itself; a stream never lives for ever


def register(server: Flask, feed: LiveFeed) -> None:
    @server.get("/stream/<bed>")
    def stream(bed: str) -> Response:
        known = [b.id for b in feed.beds()]
        beds = known if bed == "all" else [bed]
        if bed != "all" and bed not in known:
            abort(404)
        response = Response(_events(feed, beds), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Accel-Buffering"] = "no"  # a proxy must not hold the stream back
        return response


def _events(feed: LiveFeed, beds: list[str]) -> Iterator[str]:
    cursors = feed.wait_any(dict.fromkeys(beds, -1), 0.0)  # where each journal stands now
    if cursors is None:
        return
    yield _message("hello", cursors)
    until = time.monotonic() + MAX_STREAM_S
    while time.monotonic() < until:
        woke = feed.wait_any(cursors, HEARTBEAT_S)
        if woke is None:
            return  # the station is stopping
        if not woke:
            yield _message("beat", {})
            continue
        time.sleep(COALESCE_S)
        news = feed.wait_any(cursors, 0.0)
        if news is None:
            return
        cursors.update(news)
        yield _message("news", news)


def _message(event: str, data: dict[str, int]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
