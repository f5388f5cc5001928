"""One bed at run time: its device thread, its watchdog, its clock, its core and its journal.

Every input (a device item, a command, the watchdog's tick) goes to the core under the bed's
lock; the events it emits go to the journal; then the journal's readers run (the recorder
writes the session log, the effects tell the device), outside the lock, so a slow disk or a
device never holds up the bed's decisions.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from monitor.alarms.restore import fold_alarm_log
from monitor.clock import Clock
from monitor.config import AlarmsConfig, BedConfig
from monitor.domain.bed import BedCore
from monitor.domain.commands import session_step
from monitor.domain.events import BedEvent
from monitor.feed import BedDelta, BedInfo, BedSnapshot, CommandError
from monitor.gates import ChecklistItem
from monitor.model import ActiveAlarm, AlarmTransition, DeviceEvent, Reading, SessionInfo, Waveform
from monitor.ports import Device, SessionLog, StoreError
from monitor.runtime.effects import Effects
from monitor.runtime.journal import Journal
from monitor.runtime.recorder import Recorder
from monitor.runtime.training import BedTraining
from monitor.session import SessionEvent, SessionView
from monitor.session_config import SessionConfig
from monitor.signals import REGISTRY

log = logging.getLogger(__name__)

LIVE_WINDOW_S = 15 * 60
DEVICE_RESTART_S = 2.0
DEVICE_RAN_S = 60.0  # a device that ran this long before failing logs the failure in full
WATCHDOG_PERIOD_S = 0.5
T = TypeVar("T")


class BedRuntime(BedTraining):
    """One bed's threads around its pure core."""

    def __init__(
        self,
        bed: BedConfig,
        device: Device,
        store: SessionLog,
        clock: Clock,
        alarms: AlarmsConfig,
        capacity: int | None = None,
        session: SessionConfig | None = None,
    ) -> None:
        self.config, self.device, self.store, self.clock = bed, device, store, clock
        self.info = BedInfo(
            bed.id, bed.name, device.source, dict(device.expected_interval_s), uuid.uuid4().hex[:12]
        )
        self.session_config = session or SessionConfig()
        now = clock.now()
        self.core = BedCore(
            bed.id, bed.name, device.expected_interval_s, alarms, self.session_config, now
        )
        self.journal = Journal(capacity) if capacity else Journal()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._evaluated: float | None = None  # time.monotonic() of the watchdog's last tick
        seeded = self._resume(now)  # already in the log: the readers start after them
        self.recorder = Recorder(self.journal, store, bed.id, seeded)
        self.effects = Effects(self.journal, device, seeded)
        self._drain()

    # -- lifecycle ------------------------------------------------------------------------

    def _resume(self, now: float) -> int:
        """After a restart: the open session, the live window and the alarms, from the log.
        Returns the journal's sequence number after the readings refilled from the log."""
        session = self.store.open_session_for(self.info.id)
        logged: list[SessionEvent] = []
        recent: list[Reading] = []
        if session is not None:
            logged = [
                SessionEvent(e.t, e.kind, e.user, e.payload) for e in self.store.events(session.id)
            ]
            for t, code, value in self.store.readings(session.id, since=now - LIVE_WINDOW_S):
                sig = REGISTRY.get(code)
                if sig is not None:
                    recent.append(Reading(self.info.id, t, code, value, sig.unit))
        seeded = self.journal.extend(recent)
        with self._lock:
            self.core.resume(
                session, logged, recent, fold_alarm_log(self.store.alarm_log(self.info.id)), now
            )
            self.journal.extend(self.core.take())
        if session is not None:
            log.info("bed %s: resumed session %d", self.info.id, session.id)
        return seeded

    def start(self) -> None:
        if self._threads:
            return
        with self._lock:
            self.core.watch_from(self.clock.now())
        for target, name in ((self._run_device, "device"), (self._watchdog, "watchdog")):
            thread = threading.Thread(target=target, daemon=True, name=f"{name}-{self.info.id}")
            thread.start()
            self._threads.append(thread)
        log.info("bed %s: monitoring", self.info.id)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self._drain()

    def _run_device(self) -> None:
        """Run the device; restart it after a failure. A device that keeps failing the same
        way logs its traceback once, not every DEVICE_RESTART_S."""
        failing: str | None = None  # the last failure, while the device keeps failing
        while not self._stop.is_set():
            started = self.clock.now()
            try:
                self.device.run(self.receive, self._stop)
            except Exception as err:
                what = f"{type(err).__name__}: {err}"
                if self.clock.now() - started >= DEVICE_RAN_S:
                    failing = None  # it ran for a while: a new failure
                if failing is None:
                    log.exception("bed %s: device loop failed; restarting", self.info.id)
                elif what != failing:
                    log.error("bed %s: device loop failed again: %s", self.info.id, what)
                else:
                    log.debug("bed %s: device loop failed again: %s", self.info.id, what)
                failing = what
            if self.clock.sleep(DEVICE_RESTART_S, self._stop):
                return

    def _watchdog(self) -> None:
        """Technical alarms must fire when nothing arrives, so they run on their own timer."""
        while not self.clock.sleep(WATCHDOG_PERIOD_S, self._stop):
            self.check_feed()

    # -- driving the core -----------------------------------------------------------------

    def _do(self, step: Callable[[BedCore, float], T], effects: bool = True) -> T:
        """Run one input through the core; journal what it emitted, then let the readers act.
        Readings and ticks never tell the device anything, so they skip the effects reader."""
        events: list[BedEvent] = []
        seq = 0
        try:
            with self._lock:
                try:
                    return step(self.core, self.clock.now())
                finally:
                    events = self.core.take()
                    seq = self.journal.extend(events)
        finally:
            self.recorder.drain(events, seq)
            if effects:
                self.effects.drain()

    def _read(self, query: Callable[[BedCore, float], T]) -> T:
        """A question to the core that changes nothing: no journal, no readers (a page's
        tick must not run the recorder on its own thread)."""
        with self._lock:
            return query(self.core, self.clock.now())

    def _drain(self) -> None:
        self.recorder.drain()
        self.effects.drain()

    def check_feed(self) -> None:
        """The watchdog's tick: time-driven alarm work, with the recorder's health as input."""
        healthy, speed = self.recorder.healthy, self.clock.speed
        due = getattr(self.device, "step_due", None)  # in-process devices only (ports.Device)
        self._do(lambda core, now: core.tick(now, healthy, speed, due), effects=False)
        self._evaluated = time.monotonic()

    def evaluated_ago(self) -> float | None:
        """Wall seconds since the core last evaluated its alarms on the watchdog's tick; None
        before the first. A training bed whose clock an instructor paused evaluates nothing by
        design, and counts as evaluated now."""
        if self._evaluated is None:
            return None
        if getattr(self.clock, "paused", False):
            return 0.0
        return time.monotonic() - self._evaluated

    def receive(self, item: Reading | DeviceEvent | Waveform) -> None:
        """The device's sink."""
        if isinstance(item, Reading):
            self.accept(item)
        else:
            self._do(lambda core, now: core.receive(item, now))

    def ingest(self, reading: Reading) -> bool:
        """Run one reading through the bed. Returns False when it was rejected."""
        return self.accept(reading) is None

    def accept(self, reading: Reading) -> str | None:
        """Run one reading through the bed; returns why it was rejected, or None."""
        with self._lock:  # the hot path, written out: a reading never has effects
            core = self.core
            reason = core.accept(reading, self.clock.now())
            events = core.take()
            seq = self.journal.extend(events)
        self.recorder.drain(events, seq)
        if reason is not None:
            n = self.core.rejected[f"{reading.signal}: {reason}"]
            if n == 1 or n % 100 == 0:
                log.warning(
                    "bed %s: rejected %s: %s (%d so far)", self.info.id, reading.signal, reason, n
                )
        return reason

    def device_event(self, event: DeviceEvent) -> None:
        self._do(lambda core, now: core.device_event(event, now))

    # -- reads ----------------------------------------------------------------------------

    def since(self, cursor: int) -> tuple[list[Reading], int]:
        entries, seq, _ = self.journal.read(cursor)
        return [e for _, e in entries if isinstance(e, Reading)], seq

    def delta(self, cursor: int) -> BedDelta:
        entries, seq, lost = self.journal.read(cursor)
        events = [e for _, e in entries]
        return BedDelta(
            [e for e in events if isinstance(e, Reading)],
            [e for e in events if isinstance(e, AlarmTransition)],
            [e for e in events if isinstance(e, SessionEvent)],
            seq,
            lost,
            [e for e in events if isinstance(e, Waveform)],
        )

    def window(self, seconds: float) -> tuple[list[Reading], int]:
        start = self.clock.now() - seconds
        seq = self.journal.seq
        return [
            e for _, e in self.journal.snapshot() if isinstance(e, Reading) and e.t >= start
        ], seq

    def active_alarms(self) -> list[ActiveAlarm]:
        with self._lock:
            return self.core.active_alarms()

    def snapshot(self) -> BedSnapshot:
        with self._lock:
            core, now = self.core, self.clock.now()
            sounding = core.alarms.sounding(now)
            return BedSnapshot(
                self.info,
                now,
                dict(core.latest),
                core.alarms.active(),
                core.session,
                dict(core.rejected),
                self.journal.seq,
                dict(core.status),
                core.last_arrival,
                sounding.name if sounding is not None else None,
                core.alarms.pause_remaining(now),
                core.phase,
                *self._glance(now),
            )

    def _glance(self, now: float) -> tuple[float | None, ...]:
        """The infusion at a glance, for the central station (no PK: it is cheap)."""
        core = self.core
        if core.session is None:
            return (None,) * 6
        st = core.state
        return (
            st.running_rate_mg_kg_h,
            st.rate_mg_kg_h,
            st.rate_ml_h,
            st.dose_mg_kg(now),
            st.infusion_started_at,
            core.next_due(now),
        )

    @property
    def rejected(self) -> dict[str, int]:
        with self._lock:
            return dict(self.core.rejected)

    @property
    def session(self) -> SessionInfo | None:
        with self._lock:
            return self.core.session

    @property
    def phase(self) -> str:
        with self._lock:
            return self.core.phase

    def assume_baseline(self, values: dict[str, float]) -> None:
        with self._lock:
            self.core.alarms.set_baseline(values)

    def holds(self, ticked: list[str] | None = None) -> list[str]:
        return self._read(lambda core, now: core.holds(ticked or [], now))

    def checklist(self, ticked: list[str] | None = None) -> list[ChecklistItem]:
        return self._read(lambda core, now: core.checklist(ticked or [], now))

    def session_view(self) -> SessionView | None:
        return self._read(lambda core, now: core.session_view(now))

    def session_events(self) -> list[SessionEvent]:
        with self._lock:
            return list(self.core.session_events)

    def limits(self) -> dict[str, str]:
        with self._lock:
            return self.core.alarms.limits()

    def limit_marks(self) -> dict[str, list[tuple[str, float, float]]]:
        with self._lock:
            return self.core.alarms.limit_marks()

    # -- commands -------------------------------------------------------------------------

    def create_session(self, plan: dict[str, Any], user: str) -> SessionInfo:
        """Created: patient reference, weight, indication, planned regimen, concentration."""
        with self._lock:
            plan = self.core.check_plan(plan)
            try:
                info = self.store.create_session(
                    self.info.id, self.info.source, self.clock.now(), plan, user
                )
                logged = [
                    SessionEvent(e.t, e.kind, e.user, e.payload) for e in self.store.events(info.id)
                ]
            except StoreError as err:
                raise CommandError(str(err)) from None
        self._do(lambda core, now: core.open_session(info, logged, now))
        return info

    def session_command(self, step: str, user: str, args: dict[str, Any]) -> object:
        """One workflow step by name (monitor.domain.commands); `create` makes the record."""
        if step == "create":
            return self.create_session(args["plan"], user)
        if step == "close":
            return self.close_session(user, str(args.get("reason", "")))
        return self._do(lambda core, now: session_step(core, step, user, now, args))

    def confirm_baseline(self, user: str) -> dict[str, float]:
        return self._do(lambda core, now: core.confirm_baseline(user, now))

    def start_infusion(
        self,
        user: str,
        override_reason: str = "",
        ticked: list[str] | None = None,
        role: str | None = "nurse",
    ) -> None:
        self._do(
            lambda core, now: core.start_infusion(user, override_reason, ticked or [], role, now)
        )

    def change_rate(
        self, rate_mg_kg_h: Any, user: str, override_reason: str = "", role: str | None = "nurse"
    ) -> None:
        self._do(lambda core, now: core.change_rate(rate_mg_kg_h, user, override_reason, role, now))

    def pause_infusion(self, user: str) -> None:
        self._do(lambda core, now: core.pause_infusion(user, now))

    def resume_infusion(self, user: str) -> None:
        self._do(lambda core, now: core.resume_infusion(user, now))

    def stop_infusion(self, user: str) -> None:
        self._do(lambda core, now: core.stop_infusion(user, now))

    def give(
        self,
        kind: str,
        user: str,
        *,
        drug: str = "",
        dose: str = "",
        mg_per_kg: Any = None,
        override_reason: str = "",
        role: str | None = "nurse",
    ) -> None:
        """A ketamine bolus (mg/kg) or another medication (ondansetron, midazolam, ...)."""
        if kind == "bolus":
            self._do(lambda core, now: core.bolus(mg_per_kg, user, override_reason, role, now))
        else:
            self._do(lambda core, now: core.medication(drug, dose, user, now))

    def assess(self, raw: dict[str, Any], user: str) -> dict[str, int]:
        return self._do(lambda core, now: core.assess(raw, user, now))

    def discharge(
        self, ticked: list[str], user: str, override_reason: str = "", role: str | None = "nurse"
    ) -> None:
        self._do(lambda core, now: core.discharge(ticked, user, override_reason, role, now))

    def close_session(self, user: str, reason: str = "") -> SessionInfo:
        closed: SessionInfo = self._do(lambda core, now: core.close_session(user, reason, now))
        try:  # the record as the log now has it
            return self.store.session(closed.id)
        except StoreError:
            return closed

    def stop_session(self, user: str) -> SessionInfo:
        """Stop the infusion and close the record straight away."""
        return self.close_session(user, reason="stopped and closed from the bed page")

    def acknowledge(self, user: str) -> int:
        return self._do(lambda core, now: core.acknowledge(user, now))

    def reset_alarms(self, user: str) -> int:
        return self._do(lambda core, now: core.reset_alarms(user, now))

    def pause_audio(self, user: str) -> float:
        return self._do(lambda core, now: core.pause_audio(user, now))

    def change_limit(self, name: str, limit: float, user: str, reason: str) -> float:
        return self._do(lambda core, now: core.change_limit(name, limit, user, reason, now))
