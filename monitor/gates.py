"""The safety gates of an infusion session: pure decisions, no I/O, no clock.

Every gate fails closed: a value that is missing or too old is a reason to hold, never a
pass. Each reason is one line naming what failed. A physician may override a gate with a
reason; typed values outside their allowed range are refused outright (never clamped).
Refusals are SessionError, one line naming what failed.
Defaults and their sources: config.yaml, clinical.md §3, §5.2, §6, §7.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.alarms.rules import breaches
from monitor.model import ActiveAlarm, Priority, Reading
from monitor.session import INDICATIONS, SCALES, Phase, SessionError, SessionState
from monitor.session_config import (
    ChecklistItemConfig,
    Criterion,
    DischargeCriteria,
    SessionConfig,
)
from monitor.signals import REGISTRY

WEIGHT_KG = (20.0, 300.0)
RATE_MG_KG_H = (0.01, 2.0)  # what may be typed at all; the configured maximum is a guard
CONCENTRATION_MG_ML = (0.1, 100.0)
DURATION_MIN = (5.0, 720.0)
TOTAL_MG_KG = (0.05, 10.0)
OVERRIDE_ROLES = ("physician",)


# -- typed values --------------------------------------------------------------------------


def number_in(raw: Any, name: str, lo: float, hi: float, unit: str = "") -> float:
    """A typed number within [lo, hi], or SessionError naming the field and its range."""
    span = f"{lo:g} to {hi:g}{' ' + unit if unit else ''}"
    if raw is None or raw == "":
        raise SessionError(f"{name}: required ({span})")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SessionError(f"{name}: not a number ({span})") from None
    if not (math.isfinite(value) and lo <= value <= hi):
        raise SessionError(f"{name}: {value:g} is outside {span}")
    return value


def validate_plan(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The creation form. The concentration has no default, and the plan needs a duration
    or a total dose, so the rate cannot run on without a prompt."""
    weight = number_in(plan.get("weight_kg"), "weight", *WEIGHT_KG, "kg")
    rate = number_in(plan.get("planned_rate_mg_kg_h"), "rate", *RATE_MG_KG_H, "mg/kg/h")
    conc = number_in(
        plan.get("concentration_mg_ml"), "concentration", *CONCENTRATION_MG_ML, "mg/mL"
    )
    duration = total = None
    if plan.get("planned_duration_min") not in (None, ""):
        duration = number_in(plan["planned_duration_min"], "duration", *DURATION_MIN, "min")
    if plan.get("planned_total_mg_kg") not in (None, ""):
        total = number_in(plan["planned_total_mg_kg"], "planned dose", *TOTAL_MG_KG, "mg/kg")
    if duration is None and total is None:
        raise SessionError("plan: give a duration (min) or a total dose (mg/kg)")
    ref = str(plan.get("patient_ref") or "").strip()
    if len(ref) > 40:
        raise SessionError("patient reference: at most 40 characters")
    indication = str(plan.get("indication") or "")
    if indication and indication not in INDICATIONS:
        raise SessionError(f"indication must be one of: {', '.join(INDICATIONS)}")
    return {
        "weight_kg": weight,
        "planned_rate_mg_kg_h": rate,
        "concentration_mg_ml": conc,
        "planned_duration_min": duration,
        "planned_total_mg_kg": total,
        "patient_ref": ref,
        "indication": indication,
        "regimen": str(plan.get("regimen") or "")[:80],
    }


def may_override(role: str | None, reason: str) -> bool:
    """An override needs a physician and a reason."""
    return role in OVERRIDE_ROLES and bool(reason.strip())


def refusal(reasons: list[str], role: str | None, reason: str, what: str) -> str | None:
    """The one-line refusal for `reasons`, or None when there are none or they are overridden."""
    if not reasons or may_override(role, reason):
        return None
    tail = "a physician may override with a reason"
    if reason.strip() and role not in OVERRIDE_ROLES:
        tail = f"only a physician may override (role: {role or 'none'})"
    return f"{what}: " + "; ".join(reasons) + f" ({tail})"


# -- fresh data ----------------------------------------------------------------------------


def fresh(
    latest: Mapping[str, Reading], code: str, now: float, crit: DischargeCriteria
) -> float | None:
    """The latest value if it is recent enough to decide on (cuff: minutes; others: seconds)."""
    reading = latest.get(code)
    if reading is None:
        return None
    sig = REGISTRY.get(code)
    max_age = crit.cuff_max_age_min * 60 if sig and sig.intermittent else crit.vitals_max_age_s
    return reading.value if now - reading.t <= max_age else None


def hold_reasons(
    criteria: Iterable[Criterion],
    latest: Mapping[str, Reading],
    state: SessionState,
    now: float,
    crit: DischargeCriteria,
) -> list[str]:
    """Hold criteria that hold now ('NIBP_SYS 182 >= 180'), and any without a current value."""
    out = []
    for c in criteria:
        if c.signal in SCALES:
            value: float | None = state.last_score(c.signal)
        else:
            value = fresh(latest, c.signal, now, crit)
        if value is None:
            out.append(f"no current {c.signal}")
        elif breaches(value, c.op, c.limit):
            out.append(f"{c.signal} {value:g} {c.op} {c.limit:g}")
    return list(dict.fromkeys(out))


# -- the start, a bolus, a rate -------------------------------------------------------------


def readiness(cfg: SessionConfig, state: SessionState, ticked: Iterable[str]) -> list[str]:
    """What the start needs besides the vitals: baseline, scores, the pre-infusion checklist."""
    out = []
    needed = ("NIBP_SYS", *cfg.baseline.signals)
    if not state.baseline:
        out.append("no confirmed baseline")
    else:
        out += [f"baseline has no {code}" for code in needed if code not in state.baseline]
    out += [f"no pre-infusion {code} score" for code in cfg.start_scores if not state.scored(code)]
    done = set(ticked)
    out += [f"not ticked: {item.label}" for item in cfg.pre_infusion if item.key not in done]
    return out


def dose_reasons(cfg: SessionConfig, state: SessionState, rate: float, now: float) -> list[str]:
    """A rate past the maximum, or a plan that would take the session past its ceiling."""
    guard, out = cfg.dose, []
    if rate > guard.max_rate_mg_kg_h:
        out.append(f"rate {rate:g} mg/kg/h is above the maximum {guard.max_rate_mg_kg_h:g}")
    projected = state.dose_mg_kg(now) + rate * state.remaining_plan_h(now)
    if projected > guard.max_session_mg_kg + 1e-9:
        out.append(
            f"the plan would give {projected:.2f} mg/kg, above the session ceiling"
            f" {guard.max_session_mg_kg:g} mg/kg"
        )
    return out


def start_reasons(
    cfg: SessionConfig,
    state: SessionState,
    latest: Mapping[str, Reading],
    ticked: Iterable[str],
    now: float,
) -> list[str]:
    crit = cfg.discharge_criteria
    return (
        readiness(cfg, state, ticked)
        + hold_reasons(cfg.hold_start, latest, state, now, crit)
        + dose_reasons(cfg, state, state.rate_mg_kg_h, now)
    )


def bolus_reasons(
    cfg: SessionConfig,
    state: SessionState,
    latest: Mapping[str, Reading],
    mg_per_kg: float,
    now: float,
) -> list[str]:
    """A bolus passes the start's gate, is given during an infusion, and keeps the ceiling."""
    out = []
    if state.phase is not Phase.INFUSING:
        out.append(f"no infusion running (the session is {state.phase})")
    if state.phase is Phase.PRE_INFUSION:
        out += readiness(cfg, state, state.pre_infusion_ticked)
    out += hold_reasons(cfg.hold_start, latest, state, now, cfg.discharge_criteria)
    total = state.dose_mg_kg(now) + mg_per_kg
    ceiling = cfg.dose.max_session_mg_kg
    if total > ceiling + 1e-9:
        out.append(f"the bolus would bring the session to {total:.2f} mg/kg, above {ceiling:g}")
    return out


# -- discharge -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    key: str
    label: str
    computed: bool
    ok: bool | None  # None: the nurse decides
    detail: str = ""


def discharge_checklist(
    items: Iterable[ChecklistItemConfig],
    crit: DischargeCriteria,
    latest: Mapping[str, Reading],
    state: SessionState,
    alarms: Iterable[ActiveAlarm],
    now: float,
    ticked: Iterable[str] = (),
) -> list[ChecklistItem]:
    """Items computed from fresh data where the config names a check, else ticked."""
    done = set(ticked)
    loud = [a.name for a in alarms if a.priority >= Priority.MEDIUM]
    out = []
    for item in items:
        if item.check is None:
            out.append(ChecklistItem(item.key, item.label, False, item.key in done))
            continue
        ok, detail = _computed(item.check, crit, latest, state, loud, now)
        out.append(ChecklistItem(item.key, item.label, True, ok, detail))
    return out


def _in(value: float | None, lo: float, hi: float, name: str) -> tuple[bool, str]:
    if value is None:
        return False, f"no current {name}"
    return lo <= value <= hi, f"{name} {value:g}"


def _computed(
    check: str,
    crit: DischargeCriteria,
    latest: Mapping[str, Reading],
    state: SessionState,
    loud: list[str],
    now: float,
) -> tuple[bool, str]:
    stopped = state.infusion_stopped_at
    if check == "spo2_settled":
        return _in(fresh(latest, "SPO2", now, crit), crit.spo2_min, 100, "SpO2")
    if check == "rr_settled":
        return _in(fresh(latest, "RR", now, crit), *crit.rr_range, "RR")
    if check == "hr_settled":
        hr = fresh(latest, "HR", now, crit)
        return _in(hr if hr is not None else fresh(latest, "PR", now, crit), *crit.hr_range, "HR")
    if check == "sbp_settled":
        sbp, base = fresh(latest, "NIBP_SYS", now, crit), state.baseline.get("NIBP_SYS")
        if sbp is None:
            return False, f"no cuff pressure in the last {crit.cuff_max_age_min:g} min"
        if base is None:
            return False, f"SBP {sbp:g}, no baseline"
        within = abs(sbp - base) <= crit.sbp_within_pct / 100 * base
        return sbp < crit.sbp_below and within, f"SBP {sbp:g}, baseline {base:g}"
    if check == "no_alarms":
        return not loud, ("active: " + ", ".join(loud)) if loud else "none"
    if check == "rass_zero":
        rass = state.score_since("RASS", stopped)
        if rass is None:
            return False, "no RASS since the stop"
        return rass == 0, f"RASS {rass} since the stop"
    if check == "cadss_settled":
        cadss, before = state.score_since("CADSS6", stopped), state.pre_infusion_score("CADSS6")
        if cadss is None:
            return False, "no CADSS-6 since the stop"
        ok = cadss <= crit.cadss_max or (before is not None and cadss <= before)
        return ok, f"CADSS-6 {cadss}" + (
            f", before the infusion {before}" if before is not None else ""
        )
    if check == "recovery_time":
        if stopped is None:
            return False, "the infusion has not stopped"
        minutes = (now - stopped) / 60
        return minutes >= crit.recovery_min, f"{minutes:.0f} of {crit.recovery_min:g} min"
    raise ValueError(f"unknown discharge check {check!r}")


def baseline_from(
    readings: Iterable[tuple[str, float]], min_cuffs: int, needed: Iterable[str]
) -> dict[str, float]:
    """Mean of the resting readings per signal: at least `min_cuffs` cuff measurements and
    every needed signal seen; raises SessionError naming what is missing."""
    sums: dict[str, list[float]] = {}
    for signal, value in readings:
        sums.setdefault(signal, []).append(value)
    cuffs = len(sums.get("NIBP_SYS", []))
    if cuffs < min_cuffs:
        raise SessionError(
            f"a baseline needs at least {min_cuffs} resting cuff readings; {cuffs} so far"
        )
    missing = [code for code in needed if code not in sums]
    if missing:
        raise SessionError(f"a baseline needs {', '.join(missing)} seen in the window")
    return {k: round(math.fsum(v) / len(v), 1) for k, v in sums.items()}
