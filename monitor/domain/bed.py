"""BedCore: one bed's decisions, sans I/O.

Device items, commands and time go in; events come out (`take()`), in the order they happened.
The core has no store, device, thread or clock of its own: the runtime passes `now` to every
call and hands the events to the bed's journal, whose readers do the effects.
"""

from __future__ import annotations

import math
from collections import Counter, deque

from monitor.alarms import BedAlarms
from monitor.alarms import technical as tech
from monitor.alarms.restore import RestoredAlarms
from monitor.config import AlarmsConfig
from monitor.domain.events import BedEvent, PumpRate, SessionOpened, TraineeAction
from monitor.domain.infusion import InfusionCommands
from monitor.feed import CommandError
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
from monitor.session import SESSION_EVENTS, SessionEvent, SessionState, fold
from monitor.session_config import SessionConfig
from monitor.signals import WAVEFORMS, check_reading

BASELINE_SIGNALS = ("NIBP_SYS", "NIBP_DIA", "NIBP_MEAN", "HR", "SPO2", "RR", "ETCO2")
RESTING_CAPACITY = 8_192  # > 30 min of the baseline signals at 1 Hz
ASSESSMENT_OVERDUE = "ASSESSMENT_OVERDUE"
NIBP_OVERDUE = "TECH_NIBP_OVERDUE"
PLAN_REACHED = "DOSE_PLAN_REACHED"  # LOW prompt: the planned duration or dose is given
CE_MEDIUM, CE_HIGH = "DOSE_CE_ABOVE_DISSOCIATIVE", "DOSE_CE_ABOVE_AWAKENING"
# The pump's own rate against the charted one: MEDIUM when they differ by more than
# `session.pump.mismatch_pct` for `mismatch_s`; a pump report older than PUMP_FRESH_S is not
# compared. When the dose is taken from the pump, a pump rate above the rate guard is MEDIUM,
# and a pump silent for PUMP_FRESH_S during the infusion is a technical alarm.
PUMP_MISMATCH = "DOSE_PUMP_RATE_MISMATCH"
PUMP_ABOVE_MAX = "DOSE_PUMP_RATE_ABOVE_MAX"
PUMP_SILENT = "TECH_PUMP_NO_DATA"  # dose from the pump, and the pump has stopped reporting
PUMP_FRESH_S = 30.0
PUMP_FOLLOW_FRACTION = 0.005  # smaller changes are the pump's rounding, not a new rate
PK_CHECK_S = 10.0  # how often the predicted Ce is checked against the dose alarms
LATE_DEVICE_GRACE_S = 10.0  # how late an in-process device's thread may be before it is silent


def same_record(a: Reading, b: Reading) -> bool:
    """Whether two readings of one signal at one time come from the same device record: by
    the record's number when both have one, else by their whole content. A monitor stamps
    whole seconds, so two of its records in one second are two readings, not a duplicate."""
    if a.record is not None and b.record is not None:
        return a.record == b.record
    return a == b


class BedCore(InfusionCommands):
    """One bed: validation, alarms (clinical and technical) and the infusion session."""

    def __init__(
        self,
        bed: str,
        name: str,
        expected_interval_s: dict[str, float],
        alarms: AlarmsConfig,
        session: SessionConfig | None = None,
        now: float = 0.0,
    ) -> None:
        self.bed, self.name = bed, name
        self.expected_interval_s = dict(expected_interval_s)
        self.alarms = BedAlarms(bed, alarms.rules, alarms.audio_pause_s)
        self.session_config = session or SessionConfig()
        self.pk = self.session_config.pk_simulator(1.0)
        self.speed = 1.0  # simulated seconds per wall second: widens the stale limit
        self.latest: dict[str, Reading] = {}
        self.status: dict[str, str] = {}  # signals whose device reports no valid value
        self.rejected: Counter[str] = Counter()
        self.last_arrival = now  # the feed's pulse, by the bed's clock, not the device's
        self.session: SessionInfo | None = None
        self.state = SessionState()
        self.session_events: list[SessionEvent] = []
        self._feed_interval_s = min(expected_interval_s.values())
        self._ever_valid: set[str] = set()
        self._resting: deque[Reading] = deque(maxlen=RESTING_CAPACITY)
        self._last_cuff_t: float | None = None
        self._pk_checked = -math.inf
        self._pump_report: tuple[float, float] | None = None  # (when heard, its rate mL/h)
        self._pump_differs_since: float | None = None
        self._pump_logged: dict[str, object] | None = None
        self._steps_infusing = False  # the phase the sensor alarms' steps were set for
        self._link: str | None = None
        self._out: list[BedEvent] = []

    # -- output ---------------------------------------------------------------------------

    def take(self) -> list[BedEvent]:
        """The events since the last call, oldest first."""
        out, self._out = self._out, []
        return out

    def _emit(self, transitions: list[AlarmTransition]) -> None:
        if transitions:
            self._out.extend(transitions)

    def log_event(self, kind: str, user: str, payload: dict[str, object], now: float) -> None:
        """A step for the log that is not part of the session's fold (audio pause, ...)."""
        self._out.append(SessionEvent(now, kind, user, dict(payload)))

    # -- inputs: the device ---------------------------------------------------------------

    @property
    def stale_after_s(self) -> float:
        """Twice the feed's interval; in accelerated time, plus a quarter second of wall-clock
        scheduling jitter, which a fast clock would otherwise turn into false alarms."""
        return tech.STALE_FACTOR * self._feed_interval_s + (
            max(0.0, self.speed - 1.0) * tech.JITTER_S
        )

    def silence(self, now: float, device_due: float | None = None) -> float:
        """How long the feed has been silent, counted from what the device sent.

        A device across a wire is silent by the bed's clock: a monitor that stops sending
        raises TECH_NO_DATA within the limit, whatever the reason. An in-process device (a
        simulator) says when its thread is next due; while that thread is late (a busy machine)
        and catching up, its silence counts only up to when it was due: it has not yet had
        the chance to send. Fail closed: a thread late by more than LATE_DEVICE_GRACE_S (of
        wall-clock time) is silent by the bed's clock again."""
        silent = now - self.last_arrival
        if device_due is None or device_due >= now:
            return silent
        grace = LATE_DEVICE_GRACE_S * max(1.0, self.speed)
        return max(device_due - self.last_arrival, silent - grace)

    def watch_from(self, now: float) -> None:
        """The device starts now: its silence counts from here, not from when the bed was
        built (a slow start-up is not a lost feed)."""
        self.last_arrival = now

    def receive(self, item: Reading | Waveform | DeviceEvent, now: float) -> str | None:
        """One item from the device. Returns why a reading was rejected, or None."""
        if isinstance(item, Reading):
            return self.accept(item, now)
        if isinstance(item, Waveform):
            if item.signal in WAVEFORMS:
                self._out.append(item)  # drawn live, kept for review with a session; no alarms
            return None
        self.device_event(item, now)
        return None

    def accept(self, reading: Reading, now: float) -> str | None:
        reason = check_reading(reading.signal, reading.unit, reading.value, reading.t)
        prev = self.latest.get(reading.signal)
        if reason is None and prev is not None and reading.t <= prev.t:
            if reading.t < prev.t:
                reason = "older than the last reading (out of order)"
            elif same_record(reading, prev):
                reason = "the same record as the last reading (duplicate)"
        if reason is not None:
            self.rejected[f"{reading.signal}: {reason}"] += 1
            return reason
        self._emit(
            self.alarms.set_condition(
                tech.NO_DATA,
                False,
                now,
                round(now - self.last_arrival, 1),
                limit=self.stale_after_s,
            )
        )
        self.last_arrival = now
        if reading.signal == "NIBP_SYS":
            self._last_cuff_t = now
        self.status.pop(reading.signal, None)
        self._ever_valid.add(reading.signal)
        self._emit(self.alarms.evaluate(reading, now))
        self.latest[reading.signal] = reading
        if reading.signal in BASELINE_SIGNALS:
            self._resting.append(reading)
        self._out.append(reading)
        return None

    def device_event(self, event: DeviceEvent, now: float) -> None:
        """Per-signal status (absent, over range, ...) and link state from the device."""
        if event.kind == "signal_status":
            signal, status = event.detail["signal"], event.detail["status"]
            if status == "valid":
                self.status.pop(signal, None)
            else:
                self.status[signal] = status
                self.latest.pop(signal, None)  # the tile shows --- and the status
                # what was pending on it can no longer be judged
                self._emit(self.alarms.invalidate([signal], now, f"{signal} {status}"))
            if signal in self._ever_valid:  # it was reading: a probe off, a lead off
                name = tech.sensor_alarm(signal)
                self._emit(
                    self.alarms.set_condition(
                        name,
                        status != "valid",
                        now,
                        priority=tech.SENSOR_PRIORITY,
                        steps=tech.sensor_steps(name, self.infusing),
                    )
                )
        elif event.kind == "pump":
            if isinstance(event.detail.get("rate_ml_h"), int | float):
                self._pump_report = (now, float(event.detail["rate_ml_h"]))
                self._follow_pump(now)
            if event.detail == self._pump_logged:  # a pump reports every few seconds:
                return  # the log keeps its changes
            self._pump_logged = dict(event.detail)
        elif event.kind == "link":
            state = event.detail["state"]
            if state == self._link:
                return
            self._link = state
            if state in ("lost", "connected"):
                self._emit(self.alarms.set_condition(tech.PORT_LOST, state == "lost", now))
        self.log_event(f"device_{event.kind}", "device", dict(event.detail), event.t)

    # -- inputs: time ---------------------------------------------------------------------

    def tick(
        self, now: float, store_ok: bool = True, speed: float = 1.0, device_due: float | None = None
    ) -> None:
        """Time-driven alarm work: a silent feed, a failing store (an input, never a call),
        delays, reminders, and the session's prompts (assessments, cuff, dose, Ce).

        `device_due` is when an in-process device's own thread is next due to step (None for
        a device across a wire). See `silence`."""
        self.speed = speed
        silent = self.silence(now, device_due)
        lost = self.alarms.set_condition(
            tech.NO_DATA,
            silent > self.stale_after_s,
            now,
            round(silent, 1),
            limit=self.stale_after_s,
            steps=tech.no_data_steps(self.infusing),
        )
        if any(tr.state is AlarmPhase.ACTIVE for tr in lost):  # only the technical alarm
            watched = self._ever_valid | self.alarms.restored_signals
            lost += self.alarms.invalidate(sorted(watched), now, "no data")
        self._emit(lost)
        self._emit(self.alarms.set_condition(tech.STORE_WRITE, not store_ok, now))
        self._check_assessments(now)
        self._check_infusion(now)
        self._emit(self.alarms.tick(now))

    def _check_infusion(self, now: float) -> None:
        """Cuff overdue, planned dose reached and predicted Ce: only while infusing."""
        st, cfg, alarms = self.state, self.session_config, self.alarms
        infusing = self.infusing
        if infusing != self._steps_infusing:  # sensor alarms escalate further in infusion
            self._steps_infusing = infusing
            for name, tracker in alarms.trackers().items():
                if tracker.technical and name.endswith("_INVALID"):
                    tracker.steps = tech.sensor_steps(name, infusing)
        cycle = self.expected_interval_s.get("NIBP_SYS")
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
        out += self._check_pump(now)
        if (st.infusions or st.boluses) and now - self._pk_checked >= PK_CHECK_S:
            self._pk_checked = now
            ce = self.predict(now)[1]
            guard = cfg.dose
            for name, limit, priority in (
                (CE_MEDIUM, guard.ce_medium_ng_ml, Priority.MEDIUM),
                (CE_HIGH, guard.ce_high_ng_ml, Priority.HIGH),
            ):
                out += alarms.set_condition(
                    name, ce > limit, now, round(ce, 1), priority, limit,
                    technical=False, signal="DOSE",
                )  # fmt: skip
        self._emit(out)

    def pump_rate_now(self, now: float) -> float | None:
        """The pump's own rate (mL/h) if it reported within PUMP_FRESH_S."""
        report = self._pump_report
        return report[1] if report is not None and now - report[0] <= PUMP_FRESH_S else None

    def _pump_mg_kg_h(self, rate_ml_h: float) -> float | None:
        st = self.state
        if st.concentration_mg_ml > 0 and st.weight_kg > 0:
            return rate_ml_h * st.concentration_mg_ml / st.weight_kg
        return None

    def _follow_pump(self, now: float) -> None:
        """With the dose taken from the pump, a new pump rate during the infusion is charted
        as a rate change by "pump" (never gated: it is what runs, not a request)."""
        pump = self.pump_rate_now(now)
        if self.session_config.pump.dose_from != "pump" or not self.infusing or pump is None:
            return
        rate, charted = self._pump_mg_kg_h(pump), self.state.rate_mg_kg_h
        if rate is None or abs(rate - charted) <= PUMP_FOLLOW_FRACTION * max(charted, 0.01):
            return
        self._record(
            "rate_change", "pump", now, {"rate_mg_kg_h": round(rate, 4), "rate_ml_h": pump}
        )

    def _check_pump(self, now: float) -> list[AlarmTransition]:
        """The pump's reported rate against the charted one (0 while paused or stopped)."""
        rules = self.session_config.pump
        charted = self.state.rate_ml_h if self.infusing else 0.0
        pump = self.pump_rate_now(now)
        differs = (
            self.session is not None
            and pump is not None
            and math.isfinite(charted)
            and abs(pump - charted) > rules.mismatch_pct / 100 * max(charted, 0.1)
        )
        if not differs:
            self._pump_differs_since = None
        elif self._pump_differs_since is None:
            self._pump_differs_since = now
        lasting = differs and now - (self._pump_differs_since or now) >= rules.mismatch_s
        out = self.alarms.set_condition(
            PUMP_MISMATCH, lasting, now, pump, Priority.MEDIUM,
            round(charted, 2), technical=False, signal="DOSE",
        )  # fmt: skip
        if rules.dose_from == "pump":
            guard = self.session_config.dose.max_rate_mg_kg_h
            rate = self._pump_mg_kg_h(pump) if pump is not None else None
            above = self.session is not None and rate is not None and rate > guard + 1e-9
            out += self.alarms.set_condition(
                PUMP_ABOVE_MAX, above, now, None if rate is None else round(rate, 3),
                Priority.MEDIUM, guard, technical=False, signal="DOSE",
            )  # fmt: skip
            # the dose rests on the pump's word: its silence is a technical alarm, not a pass
            heard = max(self._pump_report[0] if self._pump_report else 0.0,
                        self.state.infusion_started_at or now)  # fmt: skip
            silent = self.infusing and pump is None and now - heard > PUMP_FRESH_S
            out += self.alarms.set_condition(PUMP_SILENT, silent, now, signal="PUMP")
        return out

    def _check_assessments(self, now: float) -> None:
        cfg = self.session_config.assessments
        due = self.next_due(now)
        overdue = due is not None and now >= due + cfg.overdue_after_min * 60
        self._emit(
            self.alarms.set_condition(
                ASSESSMENT_OVERDUE,
                overdue,
                now,
                priority=Priority.LOW,
                escalate_after_s=cfg.overdue_after_min * 60,
                technical=False,
                signal="ASSESSMENT",
            )
        )

    # -- restart ----------------------------------------------------------------------------

    def resume(
        self,
        session: SessionInfo | None,
        logged: list[SessionEvent],
        recent: list[Reading],
        alarms: RestoredAlarms,
        now: float,
    ) -> None:
        """After a restart: the open session from its logged steps, the live window from the
        log, and the alarms as they stood (active, acknowledged, latched, audio pause)."""
        for reading in recent:  # already logged: the runtime puts them in the journal
            self.latest[reading.signal] = reading
            if reading.signal in BASELINE_SIGNALS:
                self._resting.append(reading)
        if session is not None:
            self.open_session(session, logged, now, resumed=True)
        self._emit(self.alarms.restore(alarms, now))

    def open_session(
        self, info: SessionInfo, logged: list[SessionEvent], now: float, resumed: bool = False
    ) -> None:
        """Make `info` this bed's session, its state the fold of its logged steps."""
        self.session = info
        self.session_events = [e for e in logged if e.kind in SESSION_EVENTS]
        self.state = fold(self.session_events)
        self.alarms.set_baseline(self.state.baseline)
        for e in logged:  # limit changes last for the session
            if e.kind == "limit_change":
                self.alarms.restore_limit(e.payload["alarm"], float(e.payload["new"]))
        self.pk = self.session_config.pk_simulator(info.weight_kg or 1.0)
        self._out.append(SessionOpened(info, resumed))
        if self.state.running:
            self._out.append(PumpRate(now, self.state.rate_mg_kg_h * self.state.weight_kg))

    # -- alarm commands -------------------------------------------------------------------

    def acknowledge(self, user: str, now: float) -> int:
        """Silence every sounding alarm's current condition. Returns how many."""
        done = self.alarms.acknowledge(now, user)
        self._emit(done)
        if done:
            self._trainee(now, "acknowledge", ", ".join(tr.name for tr in done))
        return len(done)

    def reset_alarms(self, user: str, now: float) -> int:
        """End latched alarms whose cause has gone. Returns how many."""
        done = self.alarms.reset(now, user)
        self._emit(done)
        return len(done)

    def pause_audio(self, user: str, now: float) -> float:
        """Pause this bed's alarm sound (at most 2 min). Returns the seconds of pause."""
        until = self.alarms.pause_audio(now)
        self.log_event("audio_pause", user, {"until": until, "seconds": until - now}, now)
        self._trainee(now, "audio_pause")
        return until - now

    def change_limit(self, name: str, limit: float, user: str, reason: str, now: float) -> float:
        """Change one alarm's limit for this bed; a reason is required. Returns the old one."""
        reason = reason.strip()
        if not reason:
            raise CommandError("a limit change needs a reason")
        try:
            old = self.alarms.change_limit(name, limit)
        except KeyError:
            raise CommandError(f"no alarm {name!r} on {self.name}") from None
        except ValueError as err:
            raise CommandError(str(err)) from None
        payload = {"alarm": name, "old": old, "new": limit, "reason": reason}
        self.log_event("limit_change", user, payload, now)
        self._trainee(now, "limit_change", f"{name} {old} → {limit:g}")
        return float(old) if old is not None else math.nan

    def _trainee(self, now: float, action: str, detail: str = "") -> None:
        self._out.append(TraineeAction(now, action, detail))

    # -- what the screen shows --------------------------------------------------------------

    def active_alarms(self) -> list[ActiveAlarm]:
        return self.alarms.active()

    def resting(self, since: float) -> list[tuple[str, float]]:
        """(signal, value) of the baseline signals read since `since`."""
        return [(r.signal, r.value) for r in self._resting if r.t >= since]
