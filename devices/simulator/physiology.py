"""A seeded simulated patient: resting vitals, slow physiological drift, the ketamine effect
driven by the effect-site concentration, and scripted targets for training scenarios.

The drift is an Ornstein-Uhlenbeck process per signal (mean-reverting noise), which looks like
a resting patient on a bedside trend rather than white noise. The infusion drives the Clements
PK model with an effect site (ke0 0.114/min); the PD functions are clinical.md §5.2's
engineering assumptions: ΔSBP 30 % × Ce/(Ce+300), ΔDBP 35 % × Ce/(Ce+300), ΔHR 25 % ×
Ce/(Ce+600), with log-normal inter-individual variability (CV 30 %) on each Emax and a
scenario's sensitivity on top. At 0.5 mg/kg over 40 min Ce peaks near 156 ng/mL, which gives
about +12 mmHg systolic and +4 /min, as reported (clinical.md §3.3: Vankawala 2021 +12.6/+8.5
mmHg, HR +4.1). The displayed SpO2 lags the true saturation like a monitor's averaging.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from monitor.pk import CLEMENTS, DEFAULT_KE0_PER_MIN, PkSimulator

# Emax (fraction of baseline) and EC50 (ng/mL) of each PD function (clinical.md §5.2)
PD = {"sbp": (0.30, 300.0), "dbp": (0.35, 300.0), "hr": (0.25, 600.0)}
PD_CV = 0.30  # inter-individual variability of each Emax
SPO2_AVERAGING_S = 8.0  # a monitor's SpO2 averaging time (first-order lag)


@dataclass(slots=True)
class Ramp:
    """A scripted offset moving linearly from `start` to `end` over `duration_s`."""

    start: float
    end: float
    t0: float
    duration_s: float

    def at(self, t: float) -> float:
        if self.duration_s <= 0 or t >= self.t0 + self.duration_s:
            return self.end
        return self.start + (self.end - self.start) * max(0.0, t - self.t0) / self.duration_s


@dataclass(frozen=True, slots=True)
class Baseline:
    hr: float
    spo2: float
    sbp: float
    dbp: float
    rr: float
    etco2: float
    temp: float


# (time constant s, stationary SD) of each signal's drift around its baseline
_DRIFT = {
    "hr": (90.0, 2.5),
    "spo2": (40.0, 0.6),
    "sbp": (300.0, 5.0),
    "dbp": (300.0, 3.5),
    "rr": (60.0, 1.2),
    "etco2": (120.0, 1.0),
    "temp": (1800.0, 0.05),
}


def draw_baseline(rng: random.Random) -> Baseline:
    """A plausible adult outpatient at rest."""
    return Baseline(
        hr=min(max(rng.gauss(74, 8), 55), 95),
        spo2=rng.choice((97.0, 98.0, 98.0, 99.0)),
        sbp=min(max(rng.gauss(124, 10), 102), 148),
        dbp=min(max(rng.gauss(78, 7), 62), 92),
        rr=min(max(rng.gauss(14, 2), 10), 20),
        etco2=min(max(rng.gauss(37, 2), 33), 42),
        temp=min(max(rng.gauss(36.8, 0.2), 36.3), 37.3),
    )


class SimplePatient:
    """Continuous physiology in canonical units. Not thread-safe: one emitter drives it."""

    def __init__(
        self,
        seed: int,
        baseline: Baseline | None = None,
        weight_kg: float = 70.0,
        sensitivity: float = 1.0,
    ) -> None:
        self._rng = random.Random(seed)
        self.baseline = baseline or draw_baseline(self._rng)
        self._drift = dict.fromkeys(_DRIFT, 0.0)
        self.mg_per_h = 0.0  # what the pump delivers
        self.weight_kg = weight_kg
        self.sensitivity = sensitivity
        self._emax = {
            k: emax * math.exp(self._rng.gauss(0, PD_CV) - PD_CV**2 / 2)
            for k, (emax, _) in PD.items()
        }
        self._pk = PkSimulator(CLEMENTS, weight_kg, DEFAULT_KE0_PER_MIN)
        self._pk_state = np.zeros(CLEMENTS.compartments + 2)
        self._pk_due = 0.0
        self.t = 0.0  # seconds this patient has lived
        self.overrides: dict[str, float] = {}  # instant values (instructor "set", tests)
        self.ramps: dict[str, Ramp] = {}  # scripted offsets from the physiological value
        self._spo2_shown: float | None = None

    # -- time ------------------------------------------------------------------------------

    def advance(self, dt: float) -> None:
        """Move the patient `dt` seconds on (exact OU and PK updates for any dt)."""
        if dt <= 0:
            return
        for key, (tau, sd) in _DRIFT.items():
            a = math.exp(-dt / tau)
            self._drift[key] = a * self._drift[key] + sd * math.sqrt(1 - a * a) * self._rng.gauss()
        # PK steps in whole 10 ms, so the simulator's step-matrix cache keeps hitting
        # whatever the tick jitter; the remainder carries into the next step.
        self._pk_due += dt
        step = round(self._pk_due, 2)
        self._pk_due -= step
        self._pk_state = self._pk.advance(self._pk_state, step / 60, self.mg_per_h / 60)
        self.t += dt
        true_spo2 = self._true("SPO2")
        if self._spo2_shown is None:
            self._spo2_shown = true_spo2
        a = math.exp(-dt / SPO2_AVERAGING_S)
        self._spo2_shown = a * self._spo2_shown + (1 - a) * true_spo2

    def bolus(self, mg: float) -> None:
        self._pk_state[0] += mg

    # -- ketamine --------------------------------------------------------------------------

    @property
    def ce_ng_ml(self) -> float:
        return float(self._pk_state[CLEMENTS.compartments] * 1000)

    @property
    def cp_ng_ml(self) -> float:
        return float(self._pk_state[0] / self._pk.v1 * 1000)

    def drug_effect(self, key: str) -> float:
        """The fractional rise of SBP, DBP or HR at the current Ce."""
        ce = self.ce_ng_ml
        return self.sensitivity * self._emax[key] * ce / (ce + PD[key][1])

    # -- scripted targets --------------------------------------------------------------------

    def physiological(self, code: str) -> float:
        """The value without scripted offsets or overrides (the instructor's hidden view)."""
        b, d = self.baseline, self._drift
        if code == "HR":
            return b.hr * (1 + self.drug_effect("hr")) + d["hr"]
        if code == "NIBP_SYS":
            return b.sbp * (1 + self.drug_effect("sbp")) + d["sbp"]
        if code == "NIBP_DIA":
            return b.dbp * (1 + self.drug_effect("dbp")) + d["dbp"]
        base = {"SPO2": b.spo2, "RR": b.rr, "ETCO2": b.etco2, "TEMP": b.temp}[code]
        return base + d[code.lower()]

    def _true(self, code: str) -> float:
        ramp = self.ramps.get(code)
        value = self.physiological(code) + (ramp.at(self.t) if ramp else 0.0)
        return min(100.0, value) if code == "SPO2" else value

    def ramp_to(self, code: str, target: float | None, duration_s: float) -> None:
        """Move `code` to `target` over `duration_s` (None: back to its physiology)."""
        current = self.ramps[code].at(self.t) if code in self.ramps else 0.0
        end = 0.0 if target is None else target - self.physiological(code)
        self.ramps[code] = Ramp(current, end, self.t, duration_s)

    def ramp_targets(self) -> dict[str, float]:
        """Where each scripted signal is heading (for the instructor)."""
        return {c: self.physiological(c) + r.end for c, r in self.ramps.items() if r.end != 0.0}

    # -- what the monitor shows ------------------------------------------------------------

    def continuous(self) -> dict[str, float]:
        """The 1 Hz numerics as a monitor would display them (rounded to its resolution)."""
        g = self._rng
        hr = self._true("HR") + g.gauss(0, 0.7)
        spo2 = self._spo2_shown if self._spo2_shown is not None else self._true("SPO2")
        values = {
            "HR": round(hr),
            "PR": round(hr + g.gauss(0, 1.0)),
            "SPO2": min(100, round(spo2 + g.gauss(0, 0.3))),
            "RR": max(0, round(self._true("RR") + g.gauss(0, 0.5))),
            "ETCO2": max(0, round(self._true("ETCO2") + g.gauss(0, 0.4))),
            "TEMP": round(self._true("TEMP"), 1),
        }
        for code in values:
            if code in self.overrides:
                values[code] = self.overrides[code]
        return {k: float(v) for k, v in values.items()}

    def cuff(self) -> dict[str, float]:
        """One NIBP measurement: systolic, diastolic and mean (oscillometric MAP estimate)."""
        sbp = self._true("NIBP_SYS") + self._rng.gauss(0, 3)
        dbp = min(self._true("NIBP_DIA"), sbp - 20) + self._rng.gauss(0, 2)
        sys_v = float(self.overrides.get("NIBP_SYS", round(sbp)))
        dia_v = float(self.overrides.get("NIBP_DIA", round(dbp)))
        mean_v = float(self.overrides.get("NIBP_MEAN", round(dia_v + (sys_v - dia_v) / 3)))
        return {"NIBP_SYS": sys_v, "NIBP_DIA": dia_v, "NIBP_MEAN": mean_v}
