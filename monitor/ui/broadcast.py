"""One producer for every live viewer: a thread follows the beds' journals and publishes each
change once, already serialised, to a channel per bed and one for the ward.

A viewer's stream only copies bytes from its channel, so 120 viewers cost about what 30 beds
cost, not 120 times the work of building a page's update. Bed channels carry every change at
once (the alarm path); the ward channel gathers the beds' changes and sends them together at
most every 250 ms, sooner when an alarm changes.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monitor.feed import BedSnapshot, LiveFeed
from monitor.session import Phase, rate_steps
from monitor.ui import frames, live, session_panel, session_text

COALESCE_S = 0.02  # a monitor sends a record's numerics together: one message for them all
WARD_EVERY_S = 0.25  # the central station's wave chunks: at most 250 ms apart
RING = 512  # messages a channel keeps for a viewer that reconnects or polls


class Channel:
    """A bounded, numbered list of serialised messages that viewers wait on."""

    def __init__(self) -> None:
        self._items: deque[tuple[int, bytes, bytes]] = deque(maxlen=RING)
        self._cond = threading.Condition(threading.Lock())
        self._n = 0
        self.closed = False

    def publish(self, data: dict[str, Any], event: str = "frame") -> int:
        body = json.dumps(data, separators=(",", ":")).encode()
        with self._cond:
            self._n += 1
            sse = b"id: %d\nevent: %s\ndata: %s\n\n" % (self._n, event.encode(), body)
            self._items.append((self._n, sse, body))
            self._cond.notify_all()
            return self._n

    @property
    def last(self) -> int:
        return self._n

    def after(self, n: int) -> tuple[list[tuple[int, bytes, bytes]], bool]:
        """Messages numbered above `n`, and whether the channel still held all of them."""
        with self._cond:
            items = [item for item in self._items if item[0] > n]
            # a number beyond the last is from before a restart: that viewer needs a hello
            complete = n == self._n or (
                n < self._n and bool(self._items) and self._items[0][0] <= n + 1
            )
        return items, complete

    def wait(self, n: int, timeout: float) -> bool:
        """Block until a message above `n` exists (True), the timeout passes or the channel
        closes (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.closed or self._n > n, timeout) and not (
                self.closed
            )

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


@dataclass
class _Track:
    """What the producer has sent of one bed."""

    cursor: int
    wave_ends: dict[str, float] = field(default_factory=dict)
    rate_steps_sent: int = 0
    limits: str = ""
    alarm_sig: str = ""


def _short(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class Broadcaster:
    def __init__(self, feed: LiveFeed, pseudonym: Callable[[str], str] = str) -> None:
        self.feed = feed
        self.pseudonym = pseudonym
        self.beds = [b.id for b in feed.beds()]
        self.bed_channels = {b: Channel() for b in self.beds}
        self.ward = Channel()
        self._tracks: dict[str, _Track] = {}
        self._ward_pending: dict[str, dict[str, Any]] = {}
        self._ward_sent = 0.0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.published = 0

    def start(self) -> None:
        """Started by the first viewer: a station nobody watches does no live work."""
        with self._start_lock:
            if self._thread is not None:
                return
            self.follow_from_now()
            self._thread = threading.Thread(target=self._run, name="live-broadcast", daemon=True)
            self._thread.start()

    def follow_from_now(self) -> None:
        """Start from where every journal stands (the benches then call `step` themselves)."""
        cursors = self.feed.wait_any(dict.fromkeys(self.beds, -1), 0.0) or {}
        self._tracks = {b: _Track(cursors.get(b, -1)) for b in self.beds}

    # -- what a viewer gets first --------------------------------------------------------

    def state(self, bed: str, snap: BedSnapshot, limits: str | None = None) -> dict[str, Any]:
        """The bed's state for its page: the shared part, the session panel's text, and
        signatures of the parts a server callback redraws when they change (alarm list, limit
        lines, the session form of a new phase)."""
        view = self.feed.session_view(bed) if snap.session is not None else None
        recovery = view is not None and view.phase is Phase.RECOVERY
        checklist = self.feed.checklist(bed) if recovery else []
        changes = {
            "alarms": _short(live.alarm_signature(snap.alarms, snap.latest)),
            "limits": limits or self.limits_signature(bed),
            "phase": view.phase.value if view else "none",
            "session": str(snap.session.id) if snap.session else "",
        }
        state = frames.bed_state(snap, changes)
        state["session"] = {
            "header": session_text.header_text(snap.session, view),
            "lines": session_text.info_texts(
                view, checklist, self.pseudonym(view.patient_ref) if view else ""
            ),
            "due": session_panel.due_text(view, snap.now),
            "strip": session_text.infusion_strip(view, snap.now),
        }
        return state

    def limits_signature(self, bed: str) -> str:
        return _short(repr(sorted(self.feed.limit_marks(bed).items())))

    def bed_hello(self, bed: str) -> dict[str, Any]:
        """The bed's state now, for a viewer that just connected."""
        snap = self.feed.snapshot(bed)
        return {"bed": bed, "seq": snap.cursor, "state": self.state(bed, snap)}

    def ward_hello(self) -> dict[str, Any]:
        """Every bed's state and its last 15 minutes of small trends, for a central page."""
        beds: dict[str, Any] = {}
        for bed in self.beds:
            snap = self.feed.snapshot(bed)
            window, _ = self.feed.window(bed, live.LIVE_WINDOW_S)
            beds[bed] = {
                "state": frames.ward_state(frames.bed_state(snap, {})),
                "spark": frames.spark_history(window),
                "history": True,  # replaces whatever the page had
            }
        return {"beds": beds}

    # -- the producer --------------------------------------------------------------------

    def _run(self) -> None:
        cursors = {b: t.cursor for b, t in self._tracks.items()}
        try:
            while True:
                wait = WARD_EVERY_S if self._ward_pending else 1.0
                news = self.feed.wait_any(cursors, wait)
                if news is None:
                    return  # the station is stopping
                if news:
                    time.sleep(COALESCE_S)
                    more = self.feed.wait_any(cursors, 0.0)
                    if more is None:
                        return
                    news.update(more)
                self.step(list(news))
                cursors.update({bed: self._tracks[bed].cursor for bed in news})
        finally:
            for channel in [self.ward, *self.bed_channels.values()]:
                channel.close()

    def step(self, beds: list[str], ward_now: bool = False) -> None:
        """Publish these beds' changes; the ward's too when due, an alarm changed or asked."""
        alarm_changed = False
        for bed in beds:
            alarm_changed |= self._bed_changed(bed)
        due = ward_now or time.monotonic() - self._ward_sent >= WARD_EVERY_S
        if self._ward_pending and (due or alarm_changed):
            self.ward.publish({"beds": self._ward_pending})
            self._ward_pending = {}
            self._ward_sent = time.monotonic()

    def _bed_changed(self, bed: str) -> bool:
        """Publish one bed's change; True if its alarms changed (the ward sends at once)."""
        track = self._tracks[bed]
        delta = self.feed.delta(bed, track.cursor)
        track.cursor = delta.cursor
        message: dict[str, Any] = {"bed": bed, "seq": delta.cursor}
        ward: dict[str, Any] = self._ward_pending.setdefault(bed, {})
        alarm_changed = False
        if delta.readings or delta.alarms or delta.steps or delta.lost:
            snap = self.feed.snapshot(bed)
            if delta.steps or not track.limits:  # a limit change is a logged step
                track.limits = self.limits_signature(bed)
            state = self.state(bed, snap, track.limits)
            message["state"] = state
            ward["state"] = frames.ward_state(state)
            alarm_changed = state["changes"]["alarms"] != track.alarm_sig
            track.alarm_sig = state["changes"]["alarms"]
            trend = live.extend_data(delta.readings, snap.bed, self._rate_points(bed, track, snap))
            if trend is not None:
                message["trend"] = trend
            for signal, points in frames.spark_points(delta.readings).items():
                ward.setdefault("spark", {}).setdefault(signal, []).extend(points)
        chunks = frames.wave_chunks(delta.waves, track.wave_ends)
        if chunks:
            message["waves"] = chunks
            ward.setdefault("waves", []).extend(
                frames.decimate(c, frames.WARD_WAVE_HZ) for c in chunks if c["s"] == "PLETH"
            )
        if not ward:
            del self._ward_pending[bed]
        if len(message) > 2:
            self.bed_channels[bed].publish(message)
            self.published += 1
        return alarm_changed

    def _rate_points(self, bed: str, track: _Track, snap: BedSnapshot) -> list[live.Point]:
        """New infusion-rate steps for the trend, and the rate carried on to now."""
        if snap.session is None:
            track.rate_steps_sent = 0
            return []
        steps = rate_steps(self.feed.session_events(bed))
        fresh = steps[track.rate_steps_sent :] if track.rate_steps_sent <= len(steps) else steps
        track.rate_steps_sent = len(steps)
        current = steps[-1][1] if steps else None
        return live.session_points(fresh, -float("inf"), snap.now, current)
