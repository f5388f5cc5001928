"""The per-bed pipeline: device thread -> range validation -> alarm check -> store -> live buffer.

One BedHub per bed; the Ward holds them all and is the in-process LiveFeed the pages read.
Alarms are decided here, so they fire with no page open.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable
from typing import Protocol

from monitor.alarms import ThresholdAlarms
from monitor.alarms.technical import TechnicalAlarms
from monitor.clock import Clock
from monitor.config import BedConfig, ThresholdRule
from monitor.feed import BedInfo, BedSnapshot, CommandError
from monitor.model import (
    ActiveAlarm,
    AlarmEvent,
    AlarmState,
    DeviceEvent,
    Reading,
    SessionInfo,
    Source,
)
from monitor.signals import REGISTRY
from monitor.store import SessionStore, StoreError

log = logging.getLogger(__name__)

LIVE_WINDOW_S = 15 * 60
RING_CAPACITY = 16_384  # > 15 min of 10 numerics at 1 Hz; fixed so a 12 h session stays bounded
WEIGHT_KG = (20.0, 300.0)
RATE_MG_KG_H = (0.01, 2.0)  # guardrail: sub-anaesthetic infusions stay well inside this
DEVICE_RESTART_S = 2.0

WATCHDOG_PERIOD_S = 0.5

DeviceSink = Callable[[Reading | DeviceEvent], object]


class Device(Protocol):
    """What the hub needs of a device: a blocking reader loop and its provenance."""

    source: Source
    expected_interval_s: dict[str, float]

    def run(self, sink: DeviceSink, stop: threading.Event) -> None:
        """Deliver readings and device events to `sink` until `stop` is set."""
        ...

    def infusion_changed(self, rate_mg_kg_h: float) -> None:
        """Told when the infusion rate changes; real monitors ignore it, simulators react."""
        ...


class BedHub:
    """One bed's pipeline and its live ring buffer."""

    def __init__(
        self,
        bed: BedConfig,
        device: Device,
        store: SessionStore,
        clock: Clock,
        rules: list[ThresholdRule],
        capacity: int = RING_CAPACITY,
    ) -> None:
        self.config = bed
        self.device = device
        self.store = store
        self.clock = clock
        self.info = BedInfo(
            bed.id,
            bed.name,
            device.source,
            dict(device.expected_interval_s),
            epoch=uuid.uuid4().hex[:12],
        )
        self._alarms = ThresholdAlarms(bed.id, rules)
        self._technical = TechnicalAlarms(bed.id, min(device.expected_interval_s.values()))
        self._lock = threading.Lock()
        self._ring: deque[tuple[int, Reading]] = deque(maxlen=capacity)
        self._seq = 0
        self._latest: dict[str, Reading] = {}
        self._rejected: Counter[str] = Counter()
        self._status: dict[str, str] = {}  # signals whose device reports no valid value
        self._last_arrival = clock.now()  # the feed's pulse, by our clock, not the device's
        self._link: str | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._session = store.open_session_for(bed.id)
        if self._session is not None:
            self._resume(self._session)

    # -- lifecycle ------------------------------------------------------------------------

    def _resume(self, session: SessionInfo) -> None:
        """After a restart: refill the live window from the log and restore the infusion."""
        since = self.clock.now() - LIVE_WINDOW_S
        for t, code, value in self.store.readings(session.id, since=since):
            sig = REGISTRY.get(code)
            if sig is not None:
                self._append(Reading(self.info.id, t, code, value, sig.unit))
        if session.state == "infusing":
            self.device.infusion_changed(session.rate_mg_kg_h)
        log.info("bed %s: resumed session %d", self.info.id, session.id)

    def start(self) -> None:
        if self._threads:
            return
        with self._lock:
            self._last_arrival = self.clock.now()
        for target, name in ((self._run_device, "device"), (self._watchdog, "watchdog")):
            thread = threading.Thread(target=target, daemon=True, name=f"{name}-{self.info.id}")
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def _run_device(self) -> None:
        while not self._stop.is_set():
            try:
                self.device.run(self.receive, self._stop)
            except Exception:
                log.exception("bed %s: device loop failed; restarting", self.info.id)
            if self.clock.sleep(DEVICE_RESTART_S, self._stop):
                return

    def _watchdog(self) -> None:
        """Technical alarms must fire when nothing arrives, so they run on their own timer."""
        while not self.clock.sleep(WATCHDOG_PERIOD_S, self._stop):
            self.check_feed()

    def check_feed(self) -> None:
        with self._lock:
            session_id = self._session.id if self._session else None
            for event in self._technical.check_feed(self.clock.now(), self._last_arrival):
                self._on_alarm(session_id, event)

    # -- the pipeline ---------------------------------------------------------------------

    def _reject(self, reading: Reading, reason: str) -> None:
        key = f"{reading.signal}: {reason}"
        self._rejected[key] += 1
        n = self._rejected[key]
        if n == 1 or n % 100 == 0:
            log.warning("bed %s: rejected %s (%d so far)", self.info.id, key, n)

    def _validate(self, reading: Reading) -> str | None:
        sig = REGISTRY.get(reading.signal)
        if sig is None:
            return "unknown signal"
        if reading.unit != sig.unit:
            return f"unit {reading.unit!r} is not {sig.unit!r}"
        if not math.isfinite(reading.value):
            return "not a finite number"
        if not sig.plausible(reading.value):
            return f"outside plausible range {sig.low:g}-{sig.high:g} {sig.unit}"
        prev = self._latest.get(reading.signal)
        if prev is not None and reading.t <= prev.t:
            return "not newer than the last reading (duplicate or out of order)"
        return None

    def device_event(self, event: DeviceEvent) -> None:
        """Per-signal status (absent, over range, ...) and link state from the device."""
        with self._lock:
            session_id = self._session.id if self._session else None
            now = self.clock.now()
            if event.kind == "signal_status":
                signal, status = event.detail["signal"], event.detail["status"]
                if status == "valid":
                    self._status.pop(signal, None)
                else:
                    self._status[signal] = status
                    self._latest.pop(signal, None)  # the tile shows --- and the status
            elif event.kind == "link":
                state = event.detail["state"]
                if state == self._link:
                    return
                self._link = state
                if state == "lost":
                    alarms = self._technical.port_lost(now)
                elif state == "connected":
                    alarms = self._technical.port_connected(now)
                else:
                    alarms = []
                for alarm in alarms:
                    self._on_alarm(session_id, alarm)
            try:
                self.store.add_event(
                    session_id,
                    self.info.id,
                    event.t,
                    f"device_{event.kind}",
                    "device",
                    dict(event.detail),
                )
            except StoreError as err:
                log.error("bed %s: %s", self.info.id, err)

    def receive(self, item: Reading | DeviceEvent) -> None:
        """The device's sink: readings go down the pipeline, events update the bed's state."""
        if isinstance(item, Reading):
            self.ingest(item)
        else:
            self.device_event(item)

    def ingest(self, reading: Reading) -> bool:
        """Run one reading through the pipeline. Returns False when it was rejected."""
        with self._lock:
            reason = self._validate(reading)
            if reason is not None:
                self._reject(reading, reason)
                return False
            session_id = self._session.id if self._session else None
            now = self.clock.now()
            for event in self._technical.reading_arrived(now, self._last_arrival):
                self._on_alarm(session_id, event)
            self._last_arrival = now
            self._status.pop(reading.signal, None)
            for event in self._alarms.evaluate(reading):
                self._on_alarm(session_id, event)
            if session_id is not None:
                self.store.append_reading(session_id, reading)
            self._append(reading)
            return True

    def _on_alarm(self, session_id: int | None, event: AlarmEvent) -> None:
        self.store.record_alarm(session_id, event)
        level = logging.WARNING if event.state is AlarmState.ACTIVE else logging.INFO
        log.log(
            level,
            "bed %s: %s %s (%s %s %g, value %g)",
            self.info.id,
            event.name,
            event.state,
            event.priority.name,
            event.op,
            event.limit,
            event.value,
        )

    def _append(self, reading: Reading) -> None:
        self._seq += 1
        self._ring.append((self._seq, reading))
        prev = self._latest.get(reading.signal)
        if prev is None or reading.t >= prev.t:
            self._latest[reading.signal] = reading

    # -- reads ----------------------------------------------------------------------------

    def since(self, cursor: int) -> tuple[list[Reading], int]:
        with self._lock:
            out: list[Reading] = []
            for seq, reading in reversed(self._ring):
                if seq <= cursor:
                    break
                out.append(reading)
            out.reverse()
            return out, self._seq

    def window(self, seconds: float) -> tuple[list[Reading], int]:
        with self._lock:
            start = self.clock.now() - seconds
            out = [r for _, r in self._ring if r.t >= start]
            return out, self._seq

    def _active(self) -> list[ActiveAlarm]:
        found = self._alarms.active() + self._technical.active()
        return sorted(found, key=lambda a: (-a.priority, a.onset_t))

    def active_alarms(self) -> list[ActiveAlarm]:
        with self._lock:
            return self._active()

    def snapshot(self) -> BedSnapshot:
        with self._lock:
            return BedSnapshot(
                self.info,
                self.clock.now(),
                dict(self._latest),
                self._active(),
                self._session,
                dict(self._rejected),
                self._seq,
                dict(self._status),
                self._last_arrival,
            )

    @property
    def rejected(self) -> dict[str, int]:
        with self._lock:
            return dict(self._rejected)

    @property
    def session(self) -> SessionInfo | None:
        with self._lock:
            return self._session

    # -- nurse commands -------------------------------------------------------------------

    def start_session(self, weight_kg: float, rate_mg_kg_h: float, user: str) -> SessionInfo:
        lo, hi = WEIGHT_KG
        if not (math.isfinite(weight_kg) and lo <= weight_kg <= hi):
            raise CommandError(f"weight must be between {lo:g} and {hi:g} kg")
        lo, hi = RATE_MG_KG_H
        if not (math.isfinite(rate_mg_kg_h) and lo <= rate_mg_kg_h <= hi):
            raise CommandError(f"rate must be between {lo:g} and {hi:g} mg/kg/h")
        with self._lock:
            if self._session is not None:
                raise CommandError(f"{self.info.name} already has a session running")
            try:
                self._session = self.store.open_session(
                    self.info.id, self.info.source, self.clock.now(), weight_kg, rate_mg_kg_h, user
                )
            except StoreError as err:
                raise CommandError(str(err)) from None
            session = self._session
        self.device.infusion_changed(rate_mg_kg_h)
        return session

    def stop_session(self, user: str) -> SessionInfo:
        with self._lock:
            if self._session is None:
                raise CommandError(f"{self.info.name} has no session running")
            try:
                closed = self.store.close_session(self._session.id, self.clock.now(), user)
            except StoreError as err:
                raise CommandError(str(err)) from None
            self._session = None
        self.device.infusion_changed(0.0)
        return closed


class Ward:
    """All beds of this station: the in-process LiveFeed."""

    def __init__(self, hubs: list[BedHub], clock: Clock) -> None:
        self._hubs = {h.info.id: h for h in hubs}
        self.clock = clock

    def hub(self, bed: str) -> BedHub:
        try:
            return self._hubs[bed]
        except KeyError:
            raise CommandError(f"no bed {bed!r}") from None

    def start(self) -> None:
        for h in self._hubs.values():
            h.start()

    def stop(self) -> None:
        for h in self._hubs.values():
            h.stop()

    def beds(self) -> list[BedInfo]:
        return [h.info for h in self._hubs.values()]

    def now(self) -> float:
        return self.clock.now()

    def snapshot(self, bed: str) -> BedSnapshot:
        return self.hub(bed).snapshot()

    def since(self, bed: str, cursor: int) -> tuple[list[Reading], int]:
        return self.hub(bed).since(cursor)

    def window(self, bed: str, seconds: float) -> tuple[list[Reading], int]:
        return self.hub(bed).window(seconds)

    def start_session(
        self, bed: str, weight_kg: float, rate_mg_kg_h: float, user: str
    ) -> SessionInfo:
        return self.hub(bed).start_session(weight_kg, rate_mg_kg_h, user)

    def stop_session(self, bed: str, user: str) -> SessionInfo:
        return self.hub(bed).stop_session(user)
