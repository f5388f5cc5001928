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

from monitor.alarms import BedAlarms
from monitor.alarms import technical as tech
from monitor.clock import Clock
from monitor.config import AlarmsConfig, BedConfig
from monitor.feed import BedInfo, BedSnapshot, CommandError
from monitor.model import (
    ActiveAlarm,
    AlarmPhase,
    AlarmTransition,
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
        alarms: AlarmsConfig,
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
        self._alarms = BedAlarms(bed.id, alarms.rules, alarms.audio_pause_s)
        self._stale_after_s = tech.STALE_FACTOR * min(device.expected_interval_s.values())
        self._ever_valid: set[str] = set()
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
        """Time-driven alarm work: a silent feed, a failing store, delays, reminders."""
        with self._lock:
            now = self.clock.now()
            silent = now - self._last_arrival
            self._log_alarms(
                self._alarms.set_technical(
                    tech.NO_DATA,
                    silent > self._stale_after_s,
                    now,
                    round(silent, 1),
                    limit=self._stale_after_s,
                )
            )
            store_error = self.store.stats().last_error is not None
            self._log_alarms(self._alarms.set_technical(tech.STORE_WRITE, store_error, now))
            self._log_alarms(self._alarms.tick(now))

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
                if signal in self._ever_valid:  # it was reading: a probe off, a lead off
                    self._log_alarms(
                        self._alarms.set_technical(
                            tech.sensor_alarm(signal),
                            status != "valid",
                            now,
                            priority=tech.SENSOR_PRIORITY,
                            escalate_after_s=tech.SENSOR_ESCALATE_S,
                        )
                    )
            elif event.kind == "link":
                state = event.detail["state"]
                if state == self._link:
                    return
                self._link = state
                if state in ("lost", "connected"):
                    self._log_alarms(
                        self._alarms.set_technical(tech.PORT_LOST, state == "lost", now)
                    )
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
            self._log_alarms(
                self._alarms.set_technical(
                    tech.NO_DATA, False, now, round(now - self._last_arrival, 1)
                )
            )
            self._last_arrival = now
            self._status.pop(reading.signal, None)
            self._ever_valid.add(reading.signal)
            self._log_alarms(self._alarms.evaluate(reading, now))
            if session_id is not None:
                self.store.append_reading(session_id, reading)
            self._append(reading)
            return True

    def _log_alarms(self, transitions: list[AlarmTransition]) -> None:
        """Every transition goes to the session log (batched) and the process log."""
        if not transitions:
            return
        session_id = self._session.id if self._session else None
        for tr in transitions:
            self.store.record_transition(session_id, tr)
            loud = tr.state in (AlarmPhase.ACTIVE, AlarmPhase.ESCALATED, AlarmPhase.REMINDER)
            log.log(
                logging.WARNING if loud else logging.INFO,
                "bed %s: %s %s (%s, value %s, limit %s %s%s)",
                self.info.id,
                tr.name,
                tr.state,
                tr.priority.name,
                tr.value,
                tr.op,
                tr.limit,
                f", by {tr.user}" if tr.user else "",
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

    def active_alarms(self) -> list[ActiveAlarm]:
        with self._lock:
            return self._alarms.active()

    def snapshot(self) -> BedSnapshot:
        with self._lock:
            now = self.clock.now()
            sounding = self._alarms.sounding(now)
            return BedSnapshot(
                self.info,
                now,
                dict(self._latest),
                self._alarms.active(),
                self._session,
                dict(self._rejected),
                self._seq,
                dict(self._status),
                self._last_arrival,
                sounding.name if sounding is not None else None,
                self._alarms.pause_remaining(now),
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

    # -- alarm commands -------------------------------------------------------------------

    def _command(self, kind: str, user: str, payload: dict[str, object]) -> None:
        session_id = self._session.id if self._session else None
        try:
            self.store.add_event(session_id, self.info.id, self.clock.now(), kind, user, payload)
        except StoreError as err:
            log.error("bed %s: %s", self.info.id, err)

    def acknowledge(self, user: str) -> int:
        """Silence every sounding alarm's current condition. Returns how many."""
        with self._lock:
            done = self._alarms.acknowledge(self.clock.now(), user)
            self._log_alarms(done)
            return len(done)

    def reset_alarms(self, user: str) -> int:
        """End latched alarms whose cause has gone. Returns how many."""
        with self._lock:
            done = self._alarms.reset(self.clock.now(), user)
            self._log_alarms(done)
            return len(done)

    def pause_audio(self, user: str) -> float:
        """Pause this bed's alarm sound (at most 2 min). Returns the seconds of pause."""
        with self._lock:
            now = self.clock.now()
            until = self._alarms.pause_audio(now)
            self._command("audio_pause", user, {"until": until, "seconds": until - now})
            return until - now

    def change_limit(self, name: str, limit: float, user: str, reason: str) -> float:
        """Change one alarm's limit for this bed; a reason is required. Returns the old one."""
        reason = reason.strip()
        if not reason:
            raise CommandError("a limit change needs a reason")
        if not math.isfinite(limit):
            raise CommandError("the limit must be a number")
        with self._lock:
            try:
                tracker = self._alarms.rule(name)
            except KeyError:
                raise CommandError(f"no alarm {name!r} on {self.info.name}") from None
            cond = tracker.condition
            if cond is None or cond.rule.op is None or cond.rule.relative is not None:
                raise CommandError(f"{name} has no absolute limit to change")
            old = cond.limit
            cond.limit = limit
            self._command(
                "limit_change", user, {"alarm": name, "old": old, "new": limit, "reason": reason}
            )
            return float(old) if old is not None else math.nan

    def limits(self) -> dict[str, str]:
        """Alarms with an absolute limit a physician may change, and their current condition."""
        with self._lock:
            out = {}
            for name, tracker in self._alarms.trackers().items():
                cond = tracker.condition
                if cond is not None and cond.rule.op and cond.rule.relative is None:
                    out[name] = f"{cond.rule.signal} {cond.op} {cond.limit:g}"
            return out

    def confirm_baseline(self, values: dict[str, float], user: str) -> None:
        """A nurse-confirmed baseline: baseline-relative limits use it from now on."""
        with self._lock:
            self._alarms.set_baseline(values)
            self._command("baseline_confirmed", user, dict(values))


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

    def acknowledge(self, bed: str, user: str) -> int:
        return self.hub(bed).acknowledge(user)

    def reset_alarms(self, bed: str, user: str) -> int:
        return self.hub(bed).reset_alarms(user)

    def pause_audio(self, bed: str, user: str) -> float:
        return self.hub(bed).pause_audio(user)

    def limits(self, bed: str) -> dict[str, str]:
        return self.hub(bed).limits()

    def change_limit(self, bed: str, name: str, limit: float, user: str, reason: str) -> float:
        return self.hub(bed).change_limit(name, limit, user, reason)
