"""The infusion session's commands, as the bed core decides them.

Each command checks its phase and its gate, then records one step: the step is emitted for the
log and applied to the session's state (the fold of its steps). A gate that refuses records the
hold or refusal and raises CommandError; a physician may override with a reason (audited).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from monitor.domain.events import BolusGiven, PhaseChanged, PumpRate, SessionClosed
from monitor.feed import CommandError
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
from monitor.session import (
    INTERVENTIONS,
    SCALES,
    TRANSITIONS,
    Phase,
    SessionError,
    SessionEvent,
    SessionState,
    SessionView,
    next_assessment_due,
    validate_assessment,
)

if TYPE_CHECKING:
    from monitor.domain.bed import BedCore

SESSION_ALARM_SIGNALS = (*SCALES, "ASSESSMENT", "DOSE", "NIBP")


def _refused(err: SessionError) -> CommandError:
    return CommandError(str(err))


class InfusionCommands:
    """The session half of BedCore (a mixin: it shares the core's state and outbox)."""

    # -- state ----------------------------------------------------------------------------

    @property
    def infusing(self: BedCore) -> bool:
        return self.state.phase is Phase.INFUSING

    @property
    def phase(self: BedCore) -> str:
        """The session's phase, or "no session"."""
        return str(self.state.phase) if self.session is not None else "no session"

    def predict(self: BedCore, now: float) -> tuple[float, float]:
        """(Cp, Ce) in ng/mL from the session's infusions and boluses, by the PK model."""
        origin, infs, bols = self.state.pk_inputs(now)
        pred = self.pk.predict(infs, [(now - origin) / 60], bols)[0]
        return pred.cp_ng_ml, pred.ce_ng_ml

    def next_due(self: BedCore, now: float) -> float | None:
        cfg = self.session_config.assessments
        return next_assessment_due(self.state, cfg.every_min, cfg.peak_min, now)

    def _record(
        self: BedCore, kind: str, user: str, now: float, payload: dict[str, Any] | None = None
    ) -> None:
        """One step of the session: emitted for the log, then applied to the state."""
        if self.session is None:
            raise CommandError(f"{self.name} has no session")
        ev = SessionEvent(now, kind, user, payload or {})
        self.session_events.append(ev)
        self._out.append(ev)
        before = self.state.phase
        self.state.apply(ev)
        if self.state.phase != before:
            self._out.append(PhaseChanged(now, str(self.state.phase)))

    def _require(self: BedCore, step: str) -> None:
        """The session's transition table says whether `step` may be taken now."""
        if self.session is None:
            raise CommandError(f"{self.name} has no session")
        phases = TRANSITIONS[step][0]
        if self.state.phase not in phases:
            wanted = " or ".join(str(p) for p in Phase if p in phases)
            raise CommandError(f"the session is {self.state.phase}, not {wanted}")

    def _pump(self: BedCore, now: float, rate_mg_kg_h: float) -> None:
        self._out.append(PumpRate(now, rate_mg_kg_h * self.state.weight_kg))

    def _gate(
        self: BedCore,
        what: str,
        reasons: list[str],
        user: str,
        role: str | None,
        override: str,
        now: float,
    ) -> None:
        """Refuse (and log the hold) unless a physician overrides with a reason (audited)."""
        message = refusal(reasons, role, override, what)
        if message is not None:
            kind = "hold_start" if what == "hold" else "refused"
            self._record(kind, user, now, {"reasons": reasons})
            raise CommandError(message)
        if reasons:
            payload = {"command": what, "reasons": reasons, "reason": override.strip()}
            self._record("override", user, now, dict(payload, role=role))

    # -- commands -------------------------------------------------------------------------

    def check_plan(self: BedCore, plan: dict[str, Any]) -> dict[str, Any]:
        """The plan of a new session, validated; the runtime then creates its record."""
        try:
            plan = validate_plan(plan)
        except SessionError as err:
            raise _refused(err) from None
        if self.session is not None:
            raise CommandError(f"{self.name} already has a session running")
        return plan

    def confirm_baseline(self: BedCore, user: str, now: float) -> dict[str, float]:
        """The mean of the resting readings in the window: at least 2 cuff readings, and HR,
        SpO2 and RR seen (config `session.baseline`)."""
        rule = self.session_config.baseline
        self._require("baseline_confirmed")
        resting = self.resting(now - rule.window_min * 60)
        try:
            values = baseline_from(resting, rule.min_cuffs, rule.signals)
        except SessionError as err:
            raise _refused(err) from None
        self._record("baseline_confirmed", user, now, {"values": values})
        self.alarms.set_baseline(values)
        return values

    def holds(self: BedCore, ticked: list[str], now: float) -> list[str]:
        """Why the start would be held now: every gate item, missing data included."""
        return start_reasons(self.session_config, self.state, self.latest, ticked, now)

    def start_infusion(
        self: BedCore, user: str, override: str, ticked: list[str], role: str | None, now: float
    ) -> None:
        """Start at the planned rate; the gate fails closed, a physician may override."""
        self._require("infusion_start")
        done = list(ticked)
        self._gate("hold", self.holds(done, now), user, role, override, now)
        rate = self.state.rate_mg_kg_h
        self._record("infusion_start", user, now, {"rate_mg_kg_h": rate, "ticked": done})
        self._pump(now, rate)
        self._trainee(now, "start_infusion")

    def change_rate(
        self: BedCore, rate: Any, user: str, override: str, role: str | None, now: float
    ) -> None:
        try:
            rate = number_in(rate, "rate", *RATE_MG_KG_H, "mg/kg/h")
        except SessionError as err:
            raise _refused(err) from None
        self._require("rate_change")
        before = self.state.rate_mg_kg_h
        reasons = dose_reasons(self.session_config, self.state, rate, now)
        self._gate("rate", reasons, user, role, override, now)
        self._record("rate_change", user, now, {"rate_mg_kg_h": rate})
        if self.state.phase is Phase.INFUSING:
            self._pump(now, rate)
        detail = f"{before:g} → {rate:g} mg/kg/h"
        direction = "rate_reduced" if rate < before else "rate_increased" if rate > before else ""
        self._trainee(now, direction or "rate_change", detail)

    def pause_infusion(self: BedCore, user: str, now: float) -> None:
        self._require("infusion_pause")
        self._record("infusion_pause", user, now)
        self._pump(now, 0.0)
        self._trainee(now, "pause_infusion")

    def resume_infusion(self: BedCore, user: str, now: float) -> None:
        self._require("infusion_resume")
        self._record("infusion_resume", user, now)
        self._pump(now, self.state.rate_mg_kg_h)
        self._trainee(now, "resume_infusion")

    def stop_infusion(self: BedCore, user: str, now: float) -> None:
        """Stop: the session goes into recovery."""
        self._require("infusion_stop")
        self._record("infusion_stop", user, now, {"dose_mg": round(self.state.dose_mg(now), 2)})
        self._pump(now, 0.0)
        self._trainee(now, "stop_infusion")

    def bolus(
        self: BedCore,
        mg_per_kg: Any,
        user: str,
        override: str,
        role: str | None,
        now: float,
    ) -> None:
        """A ketamine bolus in mg/kg: through the start's gate and the dose ceiling."""
        self._require("bolus")
        try:
            top = self.session_config.dose.max_bolus_mg_kg
            mg_per_kg = number_in(mg_per_kg, "bolus", 0.01, top, "mg/kg")
        except SessionError as err:
            raise _refused(err) from None
        reasons = bolus_reasons(self.session_config, self.state, self.latest, mg_per_kg, now)
        self._gate("bolus", reasons, user, role, override, now)
        self._record("bolus", user, now, {"mg_per_kg": mg_per_kg})
        self._out.append(BolusGiven(now, mg_per_kg * self.state.weight_kg))
        self._trainee(now, "give:ketamine", f"{mg_per_kg:g} mg/kg")

    def medication(self: BedCore, drug: str, dose: str, user: str, now: float) -> None:
        """Another medication (ondansetron, midazolam, ...), by name and dose as given."""
        self._require("medication")
        drug, dose = drug.strip(), dose.strip()
        if not drug or not dose or len(drug) > 60 or len(dose) > 60:
            raise CommandError("name the drug and its dose (up to 60 characters each)")
        self._record("medication", user, now, {"drug": drug, "dose": dose})
        self._trainee(now, f"give:{drug.lower()}", dose)

    def intervention(self: BedCore, what: str, user: str, now: float) -> None:
        """A rescue step that is not a drug: oxygen, airway support, calling for help."""
        if what not in INTERVENTIONS:
            raise CommandError(f"unknown intervention {what!r}: one of {', '.join(INTERVENTIONS)}")
        self._require("intervention")
        self._record("intervention", user, now, {"what": what})
        self._trainee(now, what)

    def assess(self: BedCore, raw: dict[str, Any], user: str, now: float) -> dict[str, int]:
        """A nurse assessment; score-based alarms go through the alarm engine."""
        try:
            scores, note = validate_assessment(raw)
        except SessionError as err:
            raise _refused(err) from None
        self._require("assessment")
        self._record("assessment", user, now, {"scores": scores, "note": note})
        for code, value in scores.items():
            self._emit(self.alarms.evaluate_value(code, now, float(value)))
        self._trainee(now, "assessment", ", ".join(f"{k} {v}" for k, v in scores.items()))
        return scores

    def checklist(self: BedCore, ticked: list[str], now: float) -> list[ChecklistItem]:
        cfg = self.session_config
        return discharge_checklist(
            cfg.discharge,
            cfg.discharge_criteria,
            self.latest,
            self.state,
            self.alarms.active(),
            now,
            ticked,
        )

    def discharge(
        self: BedCore, ticked: list[str], user: str, override: str, role: str | None, now: float
    ) -> None:
        self._require("discharged")
        items = self.checklist(ticked, now)
        missing = [f"{i.label} ({i.detail})" if i.detail else i.label for i in items if not i.ok]
        self._gate("not yet", missing, user, role, override, now)
        checklist = {i.key: {"ok": i.ok, "computed": i.computed, "detail": i.detail} for i in items}
        payload = {"checklist": checklist, "override": override.strip() if missing else ""}
        self._record("discharged", user, now, payload)

    def close_session(self: BedCore, user: str, reason: str, now: float) -> Any:
        """Close the record. Before discharge it needs a reason (e.g. cancelled)."""
        if self.session is None:
            raise CommandError(f"{self.name} has no session running")
        early = self.state.phase is not Phase.DISCHARGED
        if early and not reason.strip():
            raise CommandError("closing before discharge needs a reason")
        if self.state.running:
            self._record("infusion_stop", user, now, {"dose_mg": round(self.state.dose_mg(now), 2)})
        self._emit(self.alarms.end_patient(now, SESSION_ALARM_SIGNALS))
        closed = dataclasses.replace(self.session, ended_at=now, state="closed")
        payload = {"reason": reason.strip()} if early else {}
        self._out.append(SessionClosed(closed, user, payload))
        self._pump(now, 0.0)
        self.session, self.state, self.session_events = None, SessionState(), []
        return closed

    # -- what the bed page shows --------------------------------------------------------------

    def session_view(self: BedCore, now: float) -> SessionView | None:
        if self.session is None:
            return None
        st, cfg = self.state, self.session_config
        cp = ce = None
        if st.infusions or st.boluses:
            cp, ce = (round(x, 1) for x in self.predict(now))
        last = {code: v for code in SCALES if (v := st.last_score(code)) is not None}
        return SessionView(
            st.phase,
            self.session.patient_ref,
            st.rate_mg_kg_h,
            round(st.rate_ml_h, 2),
            round(st.dose_mg(now), 2),
            round(st.dose_mg_kg(now), 3),
            dict(st.baseline),
            self.holds([i.key for i in cfg.pre_infusion], now)  # the boxes show the rest
            if st.phase is Phase.PRE_INFUSION
            else [],
            self.next_due(now),
            cp,
            ce,
            last,
            len(st.assessments),
            st.infusion_started_at,
            st.infusion_stopped_at,
            self.pump_rate_now(now),
            cfg.pump.mismatch_pct,
        )
