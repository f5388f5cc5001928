"""The live routes: a server-sent event stream per page, and the same messages for a poll.

`/stream/<bed>` and `/stream/all` (the central station) send a `hello` with the state now,
then every message the broadcaster publishes, as it publishes it, and a heartbeat each second
that keeps the browser's connection watchdog fed. `/stream/<bed>/poll?after=N` answers the
fallback poll with the same messages. Both are under /stream/, which the login gate checks
like the live pages. Streams beyond `max_streams` are refused with 503, so the threads left
always serve ordinary requests; a refused page polls instead.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, Response, abort, g, request

from monitor.ui import live
from monitor.ui.broadcast import Broadcaster, Channel

HEARTBEAT_S = 1.0
RESERVED_THREADS = 12  # always free for pages, callbacks and polls
VIEWERS_PER_BED = 5  # a central page and bed pages: streams the server is sized for
MAX_STREAM_S = 3600.0  # the browser reconnects by itself; a stream never lives for ever


def server_threads(beds: int) -> int:
    """Worker threads for the web server: a stream holds one for as long as it is open."""
    return RESERVED_THREADS + VIEWERS_PER_BED * beds


def max_streams(beds: int) -> int:
    return server_threads(beds) - RESERVED_THREADS


class _Slots:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.refused = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.used >= self.limit:
                self.refused += 1
                return False
            self.used += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.used -= 1


def register(server: Flask, broadcaster: Broadcaster, max_streams: int) -> _Slots:
    slots = _Slots(max_streams)

    def channel_of(bed: str) -> Channel:
        if bed == "all":
            return broadcaster.ward
        if bed not in broadcaster.bed_channels:
            abort(404)
        return broadcaster.bed_channels[bed]

    def hello(bed: str) -> dict[str, Any]:
        if bed == "all":
            return broadcaster.ward_hello()
        message = broadcaster.bed_hello(bed)
        trend = _catch_up(broadcaster, bed)
        if trend is not None:
            message["trend"] = trend
        return message

    @server.get("/stream/<bed>")
    def stream(bed: str) -> Response:
        channel = channel_of(bed)
        broadcaster.start()
        if not slots.take():
            body = json.dumps({"error": "no stream free: poll instead"})
            return Response(body, 503, mimetype="application/json")
        start = channel.last
        try:
            first = _sse("hello", start, hello(bed))
            resume = request.headers.get("Last-Event-ID", "")
            if resume.isdigit() and channel.after(int(resume))[1]:
                start = int(resume)  # a reconnect: carry on where the browser left off
        except BaseException:
            slots.give_back()
            raise
        alive = g.get("login_alive") or (lambda: True)  # logins off: the station's own screen
        events = _events(channel, first, start, alive)
        response = Response(events, mimetype="text/event-stream")
        response.call_on_close(slots.give_back)  # the server closes every response it started
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Accel-Buffering"] = "no"  # a proxy must not hold the stream back
        return response

    @server.get("/stream/<bed>/poll")
    def poll(bed: str) -> Response:
        channel = channel_of(bed)
        broadcaster.start()
        after = request.args.get("after", "")
        items, complete = channel.after(int(after)) if after.isdigit() else ([], False)
        last = items[-1][0] if items else channel.last
        head = b'{"last":%d,"hello":%s,"messages":[' % (
            last,
            b"null" if complete else json.dumps(hello(bed)).encode(),
        )
        body = head + b",".join(item[2] for item in items) + b"]}"
        response = Response(body, mimetype="application/json")
        response.headers["Cache-Control"] = "no-store"
        return response

    return slots


def _catch_up(broadcaster: Broadcaster, bed: str) -> list[Any] | None:
    """Trend points the page missed between drawing its window and opening the stream."""
    seq, epoch = request.args.get("seq", ""), request.args.get("epoch", "")
    info = next(b for b in broadcaster.feed.beds() if b.id == bed)
    if not seq.isdigit() or epoch != info.epoch:
        return None
    delta = broadcaster.feed.delta(bed, int(seq))
    return live.extend_data(delta.readings, info)


def _sse(event: str, n: int, data: dict[str, Any]) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (n, event.encode(), json.dumps(data).encode())


def _events(
    channel: Channel, first: bytes, start: int, alive: Callable[[], bool]
) -> Iterator[bytes]:
    """The stream's messages until the station stops, MAX_STREAM_S passes, or the login it
    was opened under ends (checked about once a second: logging out ends it too)."""
    yield first
    n = start
    until = time.monotonic() + MAX_STREAM_S
    checked = time.monotonic()
    while time.monotonic() < until:
        if time.monotonic() - checked >= HEARTBEAT_S:
            checked = time.monotonic()
            if not alive():
                return
        if not channel.wait(n, HEARTBEAT_S):
            if channel.closed:
                return  # the station is stopping
            yield b"event: beat\ndata: {}\n\n"
            continue
        items, _ = channel.after(n)
        if items:
            n = items[-1][0]
            yield b"".join(item[1] for item in items)
