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
from typing import Any

from monitor.alarms import BedAlarms
from monitor.alarms import technical as tech
from monitor.clock import Clock
from monitor.config import AlarmsConfig, BedConfig
from monitor.feed import BedInfo, BedSnapshot, CommandError
from monitor.gates import (
    RATE_MG_KG_H,
    ChecklistItem,
    baseline_from,
    bolus_reasons,
    discharge_checklist,
    dose_reasons,
    number_in,
    refusal,
    start_reasons,
    validate_plan,
)
from monitor.model import (
    ActiveAlarm,
    AlarmPhase,
    AlarmTransition,
    DeviceEvent,
    Priority,
    Reading,
    SessionInfo,
    Waveform,
)
from monitor.ports import Device, Trainable
from monitor.session import (
    SCALES,
    SESSION_EVENTS,
    Phase,
    SessionError,
    SessionEvent,
    SessionState,
    SessionView,
    fold,
    next_assessment_due,
    validate_assessment,
)
from monitor.session_config import SessionConfig
from monitor.signals import REGISTRY, WAVEFORMS
from monitor.storage.sqlite import SessionStore, StoreError
from monitor.training import Debrief, TimelineEntry, TrainingView

log = logging.getLogger(__name__)

LIVE_WINDOW_S = 15 * 60
RING_CAPACITY = 16_384  # > 15 min of 10 numerics at 1 Hz; fixed so a 12 h session stays bounded
DEVICE_RESTART_S = 2.0

WATCHDOG_PERIOD_S = 0.5
BASELINE_SIGNALS = ("NIBP_SYS", "NIBP_DIA", "NIBP_MEAN", "HR", "SPO2", "RR", "ETCO2")
ASSESSMENT_OVERDUE = "ASSESSMENT_OVERDUE"
NIBP_OVERDUE = "TECH_NIBP_OVERDUE"
PLAN_REACHED = "DOSE_PLAN_REACHED"  # LOW prompt: the planned duration or dose is given
CE_MEDIUM, CE_HIGH = "DOSE_CE_ABOVE_DISSOCIATIVE", "DOSE_CE_ABOVE_AWAKENING"
PK_CHECK_S = 10.0  # how often the predicted Ce is checked against the dose alarms
SESSION_ALARM_SIGNALS = (*SCALES, "ASSESSMENT", "DOSE", "NIBP")


def _refused(err: SessionError) -> CommandError:
    return CommandError(str(err))


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
        session: SessionConfig | None = None,
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
        self._feed_interval_s = min(device.expected_interval_s.values())
        self._ever_valid: set[str] = set()
        self._lock = threading.Lock()
        self._ring: deque[tuple[int, Reading]] = deque(maxlen=capacity)
        self._seq = 0
        self._latest: dict[str, Reading] = {}
        self._rejected: Counter[str] = Counter()
        self._status: dict[str, str] = {}  # signals whose device reports no valid value
        self._last_arrival = clock.now()  # the feed's pulse, by our clock, not the device's
        self._last_cuff_t: float | None = None
        self._pk_checked = -math.inf
        self._steps_infusing = False  # the phase the sensor alarms' steps were set for
        self.listeners: list[Callable[[AlarmTransition | SessionEvent], object]] = []
        """Told every alarm transition and session event as it happens (the replay tool)."""
        self._link: str | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.session_config = session or SessionConfig()
        self._pk = self.session_config.pk_simulator(1.0)
        self._state = SessionState()
        self._session_events: list[SessionEvent] = []
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
        self._load_session(session)
        self._pk = self.session_config.pk_simulator(session.weight_kg)
        if self._state.running:
            self._pump(self._state.rate_mg_kg_h)
        log.info("bed %s: resumed session %d", self.info.id, session.id)

    @property
    def _stale_after_s(self) -> float:
        """Twice the feed's interval; in accelerated time, plus a quarter second of wall-clock
        scheduling jitter, which a fast clock would otherwise turn into false alarms. Read at
        each check: an instructor may change the speed."""
        return tech.STALE_FACTOR * self._feed_interval_s + (
            max(0.0, self.clock.speed - 1.0) * tech.JITTER_S
        )

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
        """Time-driven alarm work: a silent feed, a failing store, delays, reminders, the
        session's own prompts (assessments, cuff, planned dose, predicted Ce)."""
        with self._lock:
            now = self.clock.now()
            silent = now - self._last_arrival
            lost = self._alarms.set_condition(
                tech.NO_DATA,
                silent > self._stale_after_s,
                now,
                round(silent, 1),
                limit=self._stale_after_s,
                steps=tech.no_data_steps(self._infusing),
            )
            if any(tr.state is AlarmPhase.ACTIVE for tr in lost):  # only the technical alarm
                lost += self._alarms.invalidate(sorted(self._ever_valid), now, "no data")
            self._log_alarms(lost)
            store_error = self.store.stats().last_error is not None
            self._log_alarms(self._alarms.set_condition(tech.STORE_WRITE, store_error, now))
            self._check_assessments(now)
            self._check_infusion(now)
            self._log_alarms(self._alarms.tick(now))

    @property
    def phase(self) -> str:
        """The session's phase, or "no session"."""
        with self._lock:
            return str(self._state.phase) if self._session is not None else "no session"

    def assume_baseline(self, values: dict[str, float]) -> None:
        """Baseline-relative limits from given values (the replay tool's --baseline)."""
        with self._lock:
            self._alarms.set_baseline(values)

    @property
    def _infusing(self) -> bool:
        return self._state.phase is Phase.INFUSING

    def _check_infusion(self, now: float) -> None:
        """Cuff overdue, planned dose reached and predicted Ce: only while infusing."""
        st, cfg, alarms = self._state, self.session_config, self._alarms
        infusing = self._infusing
        if infusing != self._steps_infusing:  # sensor alarms escalate further in infusion
            self._steps_infusing = infusing
            for name, tracker in alarms.trackers().items():
                if tracker.technical and name.endswith("_INVALID"):
                    tracker.steps = tech.sensor_steps(name, infusing)
        cycle = self.info.expected_interval_s.get("NIBP_SYS")
        overdue = False
        if infusing and cycle and st.infusion_started_at is not None:
            since = max(self._last_cuff_t or 0.0, st.infusion_started_at)
            overdue = now - since > cfg.nibp_overdue_cycles * cycle
        out = alarms.set_condition(
            NIBP_OVERDUE, overdue, now, limit=cfg.nibp_overdue_cycles * (cycle or 0), signal="NIBP"
        )
        reached = infusing and st.plan_reached(now)
        out += alarms.set_condition(
            PLAN_REACHED, reached, now, priority=Priority.LOW, technical=False, signal="DOSE"
        )
        if (st.infusions or st.boluses) and now - self._pk_checked >= PK_CHECK_S:
            self._pk_checked = now
            ce = self._predict(now)[1]
            guard = cfg.dose
            for name, limit, priority in (
                (CE_MEDIUM, guard.ce_medium_ng_ml, Priority.MEDIUM),
                (CE_HIGH, guard.ce_high_ng_ml, Priority.HIGH),
            ):
                out += alarms.set_condition(
                    name,
                    ce > limit,
                    now,
                    round(ce, 1),
                    priority,
                    limit,
                    technical=False,
                    signal="DOSE",
                )
        self._log_alarms(out)

    def _predict(self, now: float) -> tuple[float, float]:
        """(Cp, Ce) in ng/mL from the session's infusions and boluses, by the PK model."""
        origin, infs, bols = self._state.pk_inputs(now)
        pred = self._pk.predict(infs, [(now - origin) / 60], bols)[0]
        return pred.cp_ng_ml, pred.ce_ng_ml

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
                if status != "valid":  # what was pending on it can no longer be judged
                    self._log_alarms(self._alarms.invalidate([signal], now, f"{signal} {status}"))
                if signal in self._ever_valid:  # it was reading: a probe off, a lead off
                    name = tech.sensor_alarm(signal)
                    self._log_alarms(
                        self._alarms.set_condition(
                            name,
                            status != "valid",
                            now,
                            priority=tech.SENSOR_PRIORITY,
                            steps=tech.sensor_steps(name, self._infusing),
                        )
                    )
            elif event.kind == "link":
                state = event.detail["state"]
                if state == self._link:
                    return
                self._link = state
                if state in ("lost", "connected"):
                    self._log_alarms(
                        self._alarms.set_condition(tech.PORT_LOST, state == "lost", now)
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

    def receive(self, item: Reading | DeviceEvent | Waveform) -> None:
        """The device's sink: readings go down the pipeline, waveforms to the session log,
        events update the bed's state."""
        if isinstance(item, Reading):
            self.ingest(item)
        elif isinstance(item, Waveform):
            self.record_waveform(item)
        else:
            self.device_event(item)

    def record_waveform(self, block: Waveform) -> None:
        """Waveforms are kept for review while a session is open; they raise no alarms."""
        with self._lock:
            if self._session is not None and block.signal in WAVEFORMS:
                self.store.append_waveform(self._session.id, block)

    def ingest(self, reading: Reading) -> bool:
        """Run one reading through the pipeline. Returns False when it was rejected."""
        return self.accept(reading) is None

    def accept(self, reading: Reading) -> str | None:
        """Run one reading through the pipeline; returns why it was rejected, or None."""
        with self._lock:
            reason = self._validate(reading)
            if reason is not None:
                self._reject(reading, reason)
                return reason
            session_id = self._session.id if self._session else None
            now = self.clock.now()
            self._log_alarms(
                self._alarms.set_condition(
                    tech.NO_DATA,
                    False,
                    now,
                    round(now - self._last_arrival, 1),
                    limit=self._stale_after_s,
                )
            )
            self._last_arrival = now
            if reading.signal == "NIBP_SYS":
                self._last_cuff_t = now
            self._status.pop(reading.signal, None)
            self._ever_valid.add(reading.signal)
            self._log_alarms(self._alarms.evaluate(reading, now))
            if session_id is not None:
                self.store.append_reading(session_id, reading)
            self._append(reading)
            return None

    def _log_alarms(self, transitions: list[AlarmTransition]) -> None:
        """Every transition goes to the session log (batched) and the process log."""
        if not transitions:
            return
        session_id = self._session.id if self._session else None
        for tr in transitions:
            self.store.record_transition(session_id, tr)
            for listener in self.listeners:
                listener(tr)
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

    # -- the infusion session ------------------------------------------------------------

    def _load_session(self, session: SessionInfo) -> None:
        """Rebuild the session's state from its logged events (after a restart, too)."""
        logged = self.store.events(session.id)
        self._session_events = [
            SessionEvent(e.t, e.kind, e.user, e.payload) for e in logged if e.kind in SESSION_EVENTS
        ]
        self._state = fold(self._session_events)
        self._alarms.set_baseline(self._state.baseline)
        for e in logged:  # limit changes last for the session
            if e.kind == "limit_change":
                self._alarms.restore_limit(e.payload["alarm"], float(e.payload["new"]))

    def _record(self, kind: str, user: str, payload: dict[str, Any] | None = None) -> None:
        """One step of the session: logged first, then applied to the derived state."""
        if self._session is None:
            raise CommandError(f"{self.info.name} has no session")
        now = self.clock.now()
        try:
            self.store.add_event(self._session.id, self.info.id, now, kind, user, payload or {})
        except StoreError as err:
            raise CommandError(str(err)) from None
        ev = SessionEvent(now, kind, user, payload or {})
        self._session_events.append(ev)
        for listener in self.listeners:
            listener(ev)
        before = self._state.phase
        self._state.apply(ev)
        if self._state.phase != before:
            try:  # the phase column is a cache of the events; the event is already logged
                self.store.set_phase(self._session.id, str(self._state.phase))
            except StoreError as err:
                log.error("bed %s: %s", self.info.id, err)

    def _require(self, *phases: Phase) -> None:
        if self._session is None:
            raise CommandError(f"{self.info.name} has no session")
        if self._state.phase not in phases:
            wanted = " or ".join(str(p) for p in phases)
            raise CommandError(f"the session is {self._state.phase}, not {wanted}")

    def create_session(self, plan: dict[str, Any], user: str) -> SessionInfo:
        """Created: patient reference, weight, indication, planned regimen, concentration."""
        try:
            plan = validate_plan(plan)
        except SessionError as err:
            raise _refused(err) from None
        with self._lock:
            if self._session is not None:
                raise CommandError(f"{self.info.name} already has a session running")
            try:
                self._session = self.store.create_session(
                    self.info.id, self.info.source, self.clock.now(), plan, user
                )
            except StoreError as err:
                raise CommandError(str(err)) from None
            self._load_session(self._session)
            self._pk = self.session_config.pk_simulator(plan["weight_kg"])
            return self._session

    def confirm_baseline(self, user: str) -> dict[str, float]:
        """The mean of the resting readings in the window: at least 2 cuff readings, and HR,
        SpO2 and RR seen (config `session.baseline`)."""
        rule = self.session_config.baseline
        with self._lock:
            self._require(Phase.PRE_INFUSION)
            since = self.clock.now() - rule.window_min * 60
            resting = [
                (r.signal, r.value)
                for _, r in self._ring
                if r.t >= since and r.signal in BASELINE_SIGNALS
            ]
            try:
                values = baseline_from(resting, rule.min_cuffs, rule.signals)
            except SessionError as err:
                raise _refused(err) from None
            self._record("baseline_confirmed", user, {"values": values})
            self._alarms.set_baseline(values)
            return values

    def holds(self, ticked: list[str] | None = None) -> list[str]:
        with self._lock:
            return self._holds(ticked or [])

    def _holds(self, ticked: list[str]) -> list[str]:
        """Why the start would be held now: every gate item, missing data included."""
        return start_reasons(
            self.session_config, self._state, self._latest, ticked, self.clock.now()
        )

    def _gate(
        self, what: str, reasons: list[str], user: str, role: str | None, override: str
    ) -> None:
        """Refuse (and log the hold) unless a physician overrides with a reason (audited)."""
        message = refusal(reasons, role, override, what)
        if message is not None:
            self._record("hold_start" if what == "hold" else "refused", user, {"reasons": reasons})
            raise CommandError(message)
        if reasons:
            payload = {"command": what, "reasons": reasons, "reason": override.strip()}
            self._record("override", user, dict(payload, role=role))

    def start_infusion(
        self,
        user: str,
        override_reason: str = "",
        ticked: list[str] | None = None,
        role: str | None = "nurse",
    ) -> None:
        """Start at the planned rate; the gate fails closed, a physician may override."""
        with self._lock:
            self._require(Phase.PRE_INFUSION)
            done = list(ticked or [])
            self._gate("hold", self._holds(done), user, role, override_reason)
            rate = self._state.rate_mg_kg_h
            self._record("infusion_start", user, {"rate_mg_kg_h": rate, "ticked": done})
        self._pump(rate)
        self._trainee("start_infusion")

    def change_rate(
        self,
        rate_mg_kg_h: float,
        user: str,
        override_reason: str = "",
        role: str | None = "nurse",
    ) -> None:
        try:
            rate = number_in(rate_mg_kg_h, "rate", *RATE_MG_KG_H, "mg/kg/h")
        except SessionError as err:
            raise _refused(err) from None
        with self._lock:
            self._require(Phase.INFUSING, Phase.PAUSED)
            now = self.clock.now()
            before = self._state.rate_mg_kg_h
            reasons = dose_reasons(self.session_config, self._state, rate, now)
            self._gate("rate", reasons, user, role, override_reason)
            self._record("rate_change", user, {"rate_mg_kg_h": rate})
            running = self._state.phase is Phase.INFUSING
        if running:
            self._pump(rate)
        detail = f"{before:g} → {rate:g} mg/kg/h"
        self._trainee("rate_reduced" if rate < before else "rate_change", detail)

    def pause_infusion(self, user: str) -> None:
        with self._lock:
            self._require(Phase.INFUSING)
            self._record("infusion_pause", user)
        self._pump(0.0)
        self._trainee("pause_infusion")

    def resume_infusion(self, user: str) -> None:
        with self._lock:
            self._require(Phase.PAUSED)
            self._record("infusion_resume", user)
            rate = self._state.rate_mg_kg_h
        self._pump(rate)
        self._trainee("resume_infusion")

    def stop_infusion(self, user: str) -> None:
        """Stop: the session goes into recovery."""
        with self._lock:
            self._require(Phase.INFUSING, Phase.PAUSED)
            self._record("infusion_stop", user, {"dose_mg": round(self._dose(), 2)})
        self._pump(0.0)
        self._trainee("stop_infusion")

    def give(
        self,
        kind: str,
        user: str,
        *,
        drug: str = "",
        dose: str = "",
        mg_per_kg: float | None = None,
        override_reason: str = "",
        role: str | None = "nurse",
    ) -> None:
        """A ketamine bolus (mg/kg; through the start's gate and the dose ceiling) or another
        medication (ondansetron, midazolam, ...)."""
        with self._lock:
            self._require(Phase.PRE_INFUSION, Phase.INFUSING, Phase.PAUSED, Phase.RECOVERY)
            if kind == "bolus":
                try:
                    top = self.session_config.dose.max_bolus_mg_kg
                    mg_per_kg = number_in(mg_per_kg, "bolus", 0.01, top, "mg/kg")
                except SessionError as err:
                    raise _refused(err) from None
                reasons = bolus_reasons(
                    self.session_config, self._state, self._latest, mg_per_kg, self.clock.now()
                )
                self._gate("bolus", reasons, user, role, override_reason)
                self._record("bolus", user, {"mg_per_kg": mg_per_kg})
            else:
                drug, dose = drug.strip(), dose.strip()
                if not drug or not dose or len(drug) > 60 or len(dose) > 60:
                    raise CommandError("name the drug and its dose (up to 60 characters each)")
                self._record("medication", user, {"drug": drug, "dose": dose})
        if kind == "bolus":
            assert mg_per_kg is not None
            given = getattr(self.device, "bolus", None)  # a simulated patient receives it
            if given is not None:
                given(mg_per_kg * self._state.weight_kg)
            self._trainee("give:ketamine", f"{mg_per_kg:g} mg/kg")
        else:
            self._trainee(f"give:{drug.lower()}", dose)

    def assess(self, raw: dict[str, Any], user: str) -> dict[str, int]:
        """A nurse assessment; score-based alarms go through the alarm engine."""
        try:
            scores, note = validate_assessment(raw)
        except SessionError as err:
            raise _refused(err) from None
        with self._lock:
            self._require(Phase.PRE_INFUSION, Phase.INFUSING, Phase.PAUSED, Phase.RECOVERY)
            self._record("assessment", user, {"scores": scores, "note": note})
            now = self.clock.now()
            for code, value in scores.items():
                self._log_alarms(self._alarms.evaluate_value(code, now, float(value)))
        self._trainee("assessment", ", ".join(f"{k} {v}" for k, v in scores.items()))
        return scores

    def checklist(self, ticked: list[str] | None = None) -> list[ChecklistItem]:
        with self._lock:
            return self._checklist(ticked)

    def _checklist(self, ticked: list[str] | None = None) -> list[ChecklistItem]:
        cfg = self.session_config
        return discharge_checklist(
            cfg.discharge,
            cfg.discharge_criteria,
            self._latest,
            self._state,
            self._alarms.active(),
            self.clock.now(),
            ticked or [],
        )

    def discharge(
        self,
        ticked: list[str],
        user: str,
        override_reason: str = "",
        role: str | None = "nurse",
    ) -> None:
        with self._lock:
            self._require(Phase.RECOVERY)
            items = self._checklist(ticked)
            missing = [
                f"{i.label} ({i.detail})" if i.detail else i.label for i in items if not i.ok
            ]
            self._gate("not yet", missing, user, role, override_reason)
            self._record(
                "discharged",
                user,
                {
                    "checklist": {
                        i.key: {"ok": i.ok, "computed": i.computed, "detail": i.detail}
                        for i in items
                    },
                    "override": override_reason.strip() if missing else "",
                },
            )

    def close_session(self, user: str, reason: str = "") -> SessionInfo:
        """Close the record. Before discharge it needs a reason (e.g. cancelled)."""
        with self._lock:
            if self._session is None:
                raise CommandError(f"{self.info.name} has no session running")
            early = self._state.phase is not Phase.DISCHARGED
            if early and not reason.strip():
                raise CommandError("closing before discharge needs a reason")
            if self._state.running:
                self._record("infusion_stop", user, {"dose_mg": round(self._dose(), 2)})
            try:
                closed = self.store.close_session(
                    self._session.id,
                    self.clock.now(),
                    user,
                    {"reason": reason.strip()} if early else {},
                )
            except StoreError as err:
                raise CommandError(str(err)) from None
            self._log_alarms(self._alarms.end_patient(self.clock.now(), SESSION_ALARM_SIGNALS))
            self._session = None
            self._state = SessionState()
            self._session_events = []
        self._pump(0.0)
        return closed

    def stop_session(self, user: str) -> SessionInfo:
        """Stop the infusion and close the record straight away."""
        return self.close_session(user, reason="stopped and closed from the bed page")

    def session_events(self) -> list[SessionEvent]:
        with self._lock:
            return list(self._session_events)

    def _dose(self) -> float:
        return self._state.dose_mg(self.clock.now())

    def session_view(self) -> SessionView | None:
        with self._lock:
            if self._session is None:
                return None
            st, now = self._state, self.clock.now()
            cfg = self.session_config
            cp = ce = None
            if st.infusions or st.boluses:
                cp, ce = (round(x, 1) for x in self._predict(now))
            due = next_assessment_due(st, cfg.assessments.every_min, cfg.assessments.peak_min, now)
            last = {code: v for code in SCALES if (v := st.last_score(code)) is not None}
            return SessionView(
                st.phase,
                self._session.patient_ref,
                st.rate_mg_kg_h,
                round(st.rate_ml_h, 2),
                round(self._dose(), 2),
                round(st.dose_mg_kg(now), 3),
                dict(st.baseline),
                self._holds([i.key for i in cfg.pre_infusion])  # the boxes show the rest
                if st.phase is Phase.PRE_INFUSION
                else [],
                due,
                cp,
                ce,
                last,
                len(st.assessments),
            )

    def _check_assessments(self, now: float) -> None:
        cfg = self.session_config.assessments
        due = next_assessment_due(self._state, cfg.every_min, cfg.peak_min, now)
        overdue = due is not None and now >= due + cfg.overdue_after_min * 60
        self._log_alarms(
            self._alarms.set_condition(
                ASSESSMENT_OVERDUE,
                overdue,
                now,
                priority=Priority.LOW,
                escalate_after_s=cfg.overdue_after_min * 60,
                technical=False,
                signal="ASSESSMENT",
            )
        )

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
        if done:
            self._trainee("acknowledge", ", ".join(tr.name for tr in done))
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
        self._trainee("audio_pause")
        return until - now

    def change_limit(self, name: str, limit: float, user: str, reason: str) -> float:
        """Change one alarm's limit for this bed; a reason is required. Returns the old one."""
        reason = reason.strip()
        if not reason:
            raise CommandError("a limit change needs a reason")
        with self._lock:
            try:
                tracker = self._alarms.rule(name)
            except KeyError:
                raise CommandError(f"no alarm {name!r} on {self.info.name}") from None
            cond = tracker.condition
            if cond is None or cond.rule.op is None or cond.rule.relative is not None:
                raise CommandError(f"{name} has no absolute limit to change")
            problem = cond.rule.limit_problem(limit)
            if problem:
                raise CommandError(problem)
            old = cond.limit
            cond.limit = limit
            self._command(
                "limit_change", user, {"alarm": name, "old": old, "new": limit, "reason": reason}
            )
        self._trainee("limit_change", f"{name} {old} → {limit:g}")
        return float(old) if old is not None else math.nan

    def _pump(self, rate_mg_kg_h: float) -> None:
        self.device.infusion_changed(rate_mg_kg_h * self._state.weight_kg)

    # -- training --------------------------------------------------------------------------

    def _trainee(self, action: str, detail: str = "") -> None:
        """Tell a training device what the trainee did (scenarios react to it and score it)."""
        if isinstance(self.device, Trainable):
            self.device.trainee_action(action, detail)

    def _trainer(self) -> Trainable:
        if not isinstance(self.device, Trainable) or not self.device.library:
            raise CommandError(f"{self.info.name} has no training scenarios")
        return self.device

    def scenarios(self) -> list[tuple[str, str]]:
        device = self.device
        if not isinstance(device, Trainable):
            return []
        return [(sid, sc.title) for sid, sc in sorted(device.library.items())]

    def training_view(self) -> TrainingView | None:
        return self.device.training_view() if isinstance(self.device, Trainable) else None

    def training_command(
        self, command: str, user: str, value: str = "", level: float | None = None
    ) -> None:
        """start SCENARIO, or an instructor command for the running one (goto, trigger,
        event, artifact, set, ramp, release). Simulated beds only."""
        trainer = self._trainer()
        try:
            if command == "start":
                trainer.start_scenario(value)
            elif command == "replay":
                session_id = _session_number(value)
                rows = self.store.readings(session_id)
                trainer.start_replay(f"Replay of session {session_id}", rows)
            else:
                trainer.instructor(command, value, level)
        except ValueError as err:
            raise CommandError(str(err)) from None
        with self._lock:
            self._command("instructor", user, {"command": command, "value": value, "level": level})

    def debrief(self) -> Debrief | None:
        """The running scenario's debrief, with this bed's alarms since it started."""
        if not isinstance(self.device, Trainable):
            return None
        view = self.device.training_view()
        if view is None:
            return None
        alarms: list[TimelineEntry] = []
        for row in self.store.alarms(self.info.id, since=view.started_at):
            raised = f"{row.name} {row.priority}"
            alarms.append(TimelineEntry(row.onset_t, "alarm", raised))
            if row.acked_at is not None:
                took = row.acked_at - row.onset_t
                text = f"{row.name} acknowledged by {row.acked_by} after {took:.0f} s"
                alarms.append(TimelineEntry(row.acked_at, "alarm", text))
        return self.device.debrief(alarms)

    def limit_marks(self) -> dict[str, list[tuple[str, float, float]]]:
        """Per signal, its absolute limits now: (op, limit, the clinic's configured limit)."""
        with self._lock:
            out: dict[str, list[tuple[str, float, float]]] = {}
            for tracker in self._alarms.trackers().values():
                cond = tracker.condition
                if cond is None or not cond.rule.op or cond.rule.relative is not None:
                    continue
                if cond.limit is not None and cond.rule.limit is not None:
                    out.setdefault(cond.rule.signal, []).append(
                        (cond.op, cond.limit, cond.rule.limit)
                    )
            return out

    def limits(self) -> dict[str, str]:
        """Alarms with an absolute limit a physician may change, and their current condition."""
        with self._lock:
            out = {}
            for name, tracker in self._alarms.trackers().items():
                cond = tracker.condition
                if cond is not None and cond.rule.op and cond.rule.relative is None:
                    out[name] = f"{cond.rule.signal} {cond.op} {cond.limit:g}"
            return out


def _session_number(text: str) -> int:
    try:
        number = int(str(text).strip())
    except ValueError:
        raise CommandError(f"session: {text!r} is not a session number") from None
    if number <= 0:
        raise CommandError("session: a positive session number")
    return number
