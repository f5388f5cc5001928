"""A seeded simulated patient: resting vitals, slow physiological drift, and a mild
ketamine-like pressor response while an infusion runs.

The drift is an Ornstein-Uhlenbeck process per signal (mean-reverting noise), which looks like
a resting patient on a bedside trend rather than white noise. The infusion response is a
first-order lag towards an effect proportional to the rate; at 0.75 mg/kg/h (0.5 mg/kg over
40 min) it settles near +14 mmHg systolic, +9 diastolic and +5 /min heart rate, in line with
the mean rises reported for 0.5 mg/kg/40 min (clinical.md §3.3: Yale 2024 +16/+11 mmHg,
Vankawala 2021 meta-analysis HR +4.1). The concentration-driven PK/PD model replaces this in
the training-mode work.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

REFERENCE_RATE_MG_KG_H = 0.75
EFFECT_TAU_S = 12 * 60.0
EFFECT_AT_REFERENCE = {"sbp": 14.0, "dbp": 9.0, "hr": 5.0}


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

    def __init__(self, seed: int, baseline: Baseline | None = None) -> None:
        self._rng = random.Random(seed)
        self.baseline = baseline or draw_baseline(self._rng)
        self._drift = dict.fromkeys(_DRIFT, 0.0)
        self.rate_mg_kg_h = 0.0
        self.effect = 0.0  # 1.0 = settled response at the reference rate
        self.overrides: dict[str, float] = {}

    def advance(self, dt: float) -> None:
        """Move the patient `dt` seconds on (exact OU and first-order updates for any dt)."""
        if dt <= 0:
            return
        for key, (tau, sd) in _DRIFT.items():
            a = math.exp(-dt / tau)
            self._drift[key] = a * self._drift[key] + sd * math.sqrt(1 - a * a) * self._rng.gauss()
        target = self.rate_mg_kg_h / REFERENCE_RATE_MG_KG_H
        self.effect = target + (self.effect - target) * math.exp(-dt / EFFECT_TAU_S)

    def _pressures(self) -> tuple[float, float]:
        sbp = self.baseline.sbp + self._drift["sbp"] + EFFECT_AT_REFERENCE["sbp"] * self.effect
        dbp = self.baseline.dbp + self._drift["dbp"] + EFFECT_AT_REFERENCE["dbp"] * self.effect
        return sbp, min(dbp, sbp - 20)

    def continuous(self) -> dict[str, float]:
        """The 1 Hz numerics as a monitor would display them (rounded to its resolution)."""
        b, d, g = self.baseline, self._drift, self._rng
        hr = b.hr + d["hr"] + EFFECT_AT_REFERENCE["hr"] * self.effect + g.gauss(0, 0.7)
        values = {
            "HR": round(hr),
            "PR": round(hr + g.gauss(0, 1.0)),
            "SPO2": min(100, round(b.spo2 + d["spo2"] + g.gauss(0, 0.3))),
            "RR": round(b.rr + d["rr"] + g.gauss(0, 0.5)),
            "ETCO2": round(b.etco2 + d["etco2"] + g.gauss(0, 0.4)),
            "TEMP": round(b.temp + d["temp"], 1),
        }
        for code in values:
            if code in self.overrides:
                values[code] = self.overrides[code]
        return {k: float(v) for k, v in values.items()}

    def cuff(self) -> dict[str, float]:
        """One NIBP measurement: systolic, diastolic and mean (oscillometric MAP estimate)."""
        sbp, dbp = self._pressures()
        sbp += self._rng.gauss(0, 3)
        dbp += self._rng.gauss(0, 2)
        sys_v = float(self.overrides.get("NIBP_SYS", round(sbp)))
        dia_v = float(self.overrides.get("NIBP_DIA", round(dbp)))
        mean_v = float(self.overrides.get("NIBP_MEAN", round(dia_v + (sys_v - dia_v) / 3)))
        return {"NIBP_SYS": sys_v, "NIBP_DIA": dia_v, "NIBP_MEAN": mean_v}
