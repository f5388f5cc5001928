"""The alarm engine of one bed: rule-driven and technical alarms, plus the bed's audio pause.

Each alarm is a Tracker (monitor/alarms/tracker.py). Acknowledge silences only the current
condition; audio pause silences the bed for at most two minutes from the first press, and a
new HIGH alarm sounds through it for that alarm only. There is no "all alarms off".
A signal the monitor reports invalid (probe off, leads off) or a lost feed cancels what is
pending on it and ends its limit alarms: the technical alarm takes over, and a held value
never matures into a physiological alarm. Everything runs on the caller's time, so it runs
the same live and in replay (clinical.md §1, §6).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from monitor.alarms.restore import RestoredAlarms
from monitor.alarms.rules import Condition
from monitor.alarms.tracker import ACKED, ACTIVE, INACTIVE, LATCHED, Steps, Tracker
from monitor.config import MAX_AUDIO_PAUSE_S, AlarmRule
from monitor.model import ActiveAlarm, AlarmPhase, AlarmTransition, Priority, Reading
from monitor.signals import REGISTRY

# ECG heart rate older than this is "absent": the oximeter's pulse rate carries the HR alarms.
HR_FRESH_S = 10.0
_LOUD = (AlarmPhase.ACTIVE, AlarmPhase.ESCALATED)
_SOURCE_OF = {"ETCO2": ("RR", "co2")}  # a sensor whose loss ends one source of another signal


class BedAlarms:
    """All alarms of one bed: rule-driven and technical, plus the bed's audio pause."""

    def __init__(
        self, bed: str, rules: Iterable[AlarmRule], audio_pause_s: float = MAX_AUDIO_PAUSE_S
    ) -> None:
        self.bed = bed
        self.audio_pause_s = min(audio_pause_s, MAX_AUDIO_PAUSE_S)
        self._trackers: dict[str, Tracker] = {}
        self._by_signal: dict[str, list[Tracker]] = {}
        self._no_value: list[tuple[Tracker, float]] = []
        self._last_valid: dict[str, float] = {}
        # "no value" rules (apnoea): when each source last showed the thing present, e.g.
        # RR > 0 from CO2 and from impedance separately, so one never masks the other.
        self._present: dict[str, dict[str, float]] = {}
        self._invalid: set[str] = set()
        self._baseline: dict[str, float] = {}
        self.paused_until = 0.0
        self.restored_signals: set[str] = set()  # alarms restored after a restart watch these
        for rule in rules:
            tracker = Tracker.for_rule(bed, rule)
            self._trackers[rule.name] = tracker
            if rule.no_value_s is not None:
                self._no_value.append((tracker, rule.no_value_s))
            self._by_signal.setdefault(rule.signal, []).append(tracker)

    # -- inputs --------------------------------------------------------------------------

    def evaluate(self, reading: Reading, t: float | None = None) -> list[AlarmTransition]:
        """Run a reading through its rules at time `t` (default: the reading's own time).

        Live, the bed passes its own clock so delays never depend on a device's clock.
        """
        return self.evaluate_value(
            reading.signal, reading.t if t is None else t, reading.value, reading.source
        )

    def evaluate_value(
        self, signal: str, t: float, value: float, source: str = ""
    ) -> list[AlarmTransition]:
        """The hot path of `evaluate`, for callers holding plain values (the replay tool)."""
        self._last_valid[signal] = t
        self._invalid.discard(signal)
        sig = REGISTRY.get(signal)
        if sig is None or sig.absent_at is None or value > sig.absent_at:
            self._present.setdefault(signal, {})[source] = t
        else:  # RR 0: measured, and nothing there; arms the clock without resetting it
            self._present.setdefault(signal, {}).setdefault(source, t)
        out = self._run(signal, t, value)
        if signal == "PR" and not self._hr_fresh(t):
            out += self._run("HR", t, value)  # the oximeter's pulse carries the rate alarms
        return self._breakthrough(out)

    def _run(self, signal: str, t: float, value: float) -> list[AlarmTransition]:
        out: list[AlarmTransition] = []
        for tracker in self._by_signal.get(signal, ()):
            cond = tracker.condition
            assert cond is not None
            if cond.rule.no_value_s is not None:
                silent = self._silent_for(signal, t)
                if silent is not None:
                    out += tracker.update(t, silent >= cond.rule.no_value_s, round(silent, 3))
                continue
            if tracker.state in (ACTIVE, ACKED):
                present = cond.holds(t, value)
            else:
                present = cond.onset(t, value)
            out += tracker.update(t, present, value)
        return out

    def _silent_for(self, signal: str, t: float) -> float | None:
        """Seconds since the signal last showed something present (a breath), or None while
        it is unarmed. CO2 rules over impedance: impedance never masks a CO2 no-breath."""
        sources = self._present.get(signal)
        if not sources:
            return None
        last = sources["co2"] if "co2" in sources else max(sources.values())
        return t - last

    def _hr_fresh(self, t: float) -> bool:
        last = self._last_valid.get("HR")
        return "HR" not in self._invalid and last is not None and t - last <= HR_FRESH_S

    def invalidate(self, signals: Iterable[str], t: float, reason: str) -> list[AlarmTransition]:
        """The monitor says these signals are not measured now (sensor off, leads off), or
        the feed is lost. Pending alarms on them are cancelled and their limit alarms end
        with `reason`; latched ones stay for a reset. Apnoea clocks are disarmed until the
        signal is measured again."""
        out: list[AlarmTransition] = []
        for signal in signals:
            self._invalid.add(signal)
            self._last_valid.pop(signal, None)
            self._present.pop(signal, None)
            if signal in _SOURCE_OF:  # CO2 gone: RR from CO2 is no longer measured either
                code, source = _SOURCE_OF[signal]
                self._present.get(code, {}).pop(source, None)
            for tracker in self._by_signal.get(signal, ()):
                out += tracker.cancel_pending(t, reason)
                if tracker.state in (ACTIVE, ACKED):
                    out.append(tracker.end(t, "system", reason))
        return out

    def tick(self, t: float) -> list[AlarmTransition]:
        """Advance time with no new reading: delays, missing values, reminders, escalation."""
        out: list[AlarmTransition] = []
        for tracker, limit_s in self._no_value:
            silent = self._silent_for(tracker.signal, t)
            if silent is not None and silent >= limit_s:
                out += tracker.update(t, True, round(silent, 3))
        for tracker in self._trackers.values():
            if tracker.state != INACTIVE:
                out += tracker.tick(t)
        if self.paused_until and t >= self.paused_until:
            self.paused_until = 0.0
            for tracker in self._trackers.values():
                tracker.breaks_pause = False
        return self._breakthrough(out)

    def set_condition(
        self,
        name: str,
        present: bool,
        t: float,
        value: float | None = None,
        priority: Priority = Priority.MEDIUM,
        limit: float | None = None,
        escalate_after_s: float | None = None,
        technical: bool = True,
        signal: str = "DEVICE",
        steps: Steps = (),
    ) -> list[AlarmTransition]:
        """Raise or clear a non-latching alarm decided outside the rules (technical alarms,
        an overdue assessment, a dose prompt). `steps` raise its priority as it lasts."""
        tracker = self._trackers.get(name)
        if tracker is None:
            if not present:
                return []
            tracker = Tracker(
                self.bed,
                name,
                signal,
                priority,
                technical=technical,
                escalate_after_s=escalate_after_s,
                op="technical" if technical else "due",
            )
            self._trackers[name] = tracker
        tracker.fixed_limit = limit
        tracker.steps = steps
        return self._breakthrough(tracker.update(t, present, value))

    def set_baseline(self, baselines: dict[str, float]) -> None:
        """A confirmed baseline: relative limits apply from now on, and only with one."""
        self._baseline = {k: v for k, v in baselines.items() if math.isfinite(v)}
        for trackers in self._by_signal.values():
            for tr in trackers:
                if tr.condition is not None:
                    tr.condition.set_baseline(self._baseline.get(tr.signal))

    @property
    def baseline(self) -> dict[str, float]:
        return dict(self._baseline)

    # -- operator actions ----------------------------------------------------------------

    def acknowledge(self, t: float, user: str) -> list[AlarmTransition]:
        return [tr for trk in self._trackers.values() for tr in trk.acknowledge(t, user)]

    def reset(self, t: float, user: str) -> list[AlarmTransition]:
        return [tr for trk in self._trackers.values() for tr in trk.reset(t, user)]

    def pause_audio(self, t: float, seconds: float | None = None) -> float:
        """Silence the bed for at most two minutes from the first press; pressing again
        while paused silences what broke through but never extends the pause."""
        for tracker in self._trackers.values():
            tracker.breaks_pause = False
        if not (self.paused_until and t < self.paused_until):
            self.paused_until = t + min(seconds or self.audio_pause_s, self.audio_pause_s)
        return self.paused_until

    def _breakthrough(self, out: list[AlarmTransition]) -> list[AlarmTransition]:
        if self.paused_until:
            for tr in out:  # a new HIGH alarm is never held back by a pause; others are
                if tr.priority == Priority.HIGH and tr.state in _LOUD:
                    self._trackers[tr.name].breaks_pause = True
        return out

    def rule(self, name: str) -> Tracker:
        return self._trackers[name]

    def trackers(self) -> dict[str, Tracker]:
        return dict(self._trackers)

    def end_patient(self, t: float, signals: Iterable[str]) -> list[AlarmTransition]:
        """A session closed: end the alarms that belong to its patient (assessment scores,
        session prompts, baseline-relative limits), forget the baseline and restore the
        configured limits. Nothing carries over to the next patient."""
        codes = set(signals)
        out: list[AlarmTransition] = []
        for tracker in self._trackers.values():
            cond = tracker.condition
            relative = cond is not None and cond.rule.relative is not None
            if tracker.state and (tracker.signal in codes or relative):
                out.append(tracker.end(t, "system", "session closed"))
            if cond is not None and cond.rule.relative is None and cond.rule.op:
                cond.limit = cond.rule.limit
        self.set_baseline({})
        return out

    def change_limit(self, name: str, limit: float) -> float | None:
        """A physician's limit for this bed (KeyError: no such alarm; ValueError: it has no
        absolute limit, or the value is outside its allowed range). Returns the old limit."""
        cond = self._trackers[name].condition
        if cond is None or cond.rule.op is None or cond.rule.relative is not None:
            raise ValueError(f"{name} has no absolute limit to change")
        problem = cond.rule.limit_problem(limit)
        if problem:
            raise ValueError(problem)
        old, cond.limit = cond.limit, limit
        return old

    def limits(self) -> dict[str, str]:
        """Alarms with an absolute limit a physician may change, and their condition now."""
        out = {}
        for name, tracker in self._trackers.items():
            cond = tracker.condition
            if cond is not None and cond.rule.op and cond.rule.relative is None:
                out[name] = f"{cond.rule.signal} {cond.op} {cond.limit:g}"
        return out

    def limit_marks(self) -> dict[str, list[tuple[str, float, float]]]:
        """Per signal, its absolute limits now: (op, limit, the clinic's configured limit)."""
        out: dict[str, list[tuple[str, float, float]]] = {}
        for tracker in self._trackers.values():
            cond = tracker.condition
            if cond is None or not cond.rule.op or cond.rule.relative is not None:
                continue
            if cond.limit is not None and cond.rule.limit is not None:
                out.setdefault(cond.rule.signal, []).append((cond.op, cond.limit, cond.rule.limit))
        return out

    def restore(self, log: RestoredAlarms, t: float) -> list[AlarmTransition]:
        """After a restart: the alarms as the log last had them, and the audio pause with its
        time left. An alarm the config no longer has ends now, so no record stays open."""
        out: list[AlarmTransition] = []
        for rec in log.alarms.values():
            tracker = self._trackers.get(rec.name)
            if tracker is None and rec.condition_free:
                tracker = Tracker(
                    self.bed, rec.name, rec.signal, rec.priority,
                    technical=rec.technical, op=rec.op,
                )  # fmt: skip
                tracker.fixed_limit = rec.limit
                self._trackers[rec.name] = tracker
            if tracker is None:
                tracker = Tracker(self.bed, rec.name, rec.signal, rec.priority, op=rec.op)
                tracker.restore(rec)
                out.append(tracker.end(t, "system", "alarm no longer configured"))
                continue
            tracker.restore(rec)
            self.restored_signals.add(rec.signal)
        if log.paused_until > t:
            self.paused_until = log.paused_until
        return out

    def restore_limit(self, name: str, limit: float) -> None:
        """A limit changed earlier in this session (after a restart)."""
        tracker = self._trackers.get(name)
        if tracker is not None and tracker.condition is not None:
            tracker.condition.limit = limit

    # -- what the screen shows -----------------------------------------------------------

    def active(self) -> list[ActiveAlarm]:
        """Alarms on the screen, most urgent first, then oldest first."""
        shown = [t.view() for t in self._trackers.values() if t.shown]
        return sorted(shown, key=lambda a: (-a.priority, a.onset_t))

    def sounding(self, t: float) -> Priority | None:
        """The priority whose tone should play now, or None (nothing, or audio paused)."""
        paused = bool(self.paused_until) and t < self.paused_until
        loud = [
            trk.priority
            for trk in self._trackers.values()
            if trk.shown and trk.acked_by is None and (trk.breaks_pause or not paused)
        ]
        return max(loud) if loud else None

    def pause_remaining(self, t: float) -> float:
        return max(0.0, self.paused_until - t) if self.paused_until else 0.0


__all__ = ["BedAlarms", "Condition", "LATCHED", "Tracker"]
