"""Ketamine pharmacokinetics: predicted plasma (Cp) and effect-site (Ce) concentrations.

Mammillary compartment models with an effect-site link, solved exactly for piecewise-constant
infusions with the matrix exponential (no fixed-step integration). Parameters from
../shared/design/clinical.md §5 (as implemented in the opentiva library; verify against the
original papers before clinical claims). These are model estimates for display and training,
not measurements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

DEFAULT_KE0_PER_MIN = 0.114  # t1/2 ke0 about 6 min: dissociation / "drug high" (Olofsen 2012)


@dataclass(frozen=True, slots=True)
class PkModel:
    """Per-kg central volume and micro rate constants (/min) of a mammillary model."""

    name: str
    v1_l_per_kg: float
    k10: float
    k12: float
    k21: float
    k13: float = 0.0
    k31: float = 0.0
    citation: str = ""

    @property
    def compartments(self) -> int:
        return 3 if self.k13 else 2


CLEMENTS = PkModel(
    "clements",
    1.7522,
    k10=0.0109,
    k12=0.0186,
    k21=0.0137,
    citation="Clements & Nimmo 1981, Br J Anaesth 53:27",
)
DOMINO = PkModel(
    "domino",
    0.063,
    k10=0.4381,
    k12=0.5921,
    k21=0.2470,
    k13=0.5900,
    k31=0.0146,
    citation="Domino et al. (opentiva cites PMID 7198883)",
)
MODELS = {m.name: m for m in (CLEMENTS, DOMINO)}

# Reference bands for the bed page (clinical.md §5.2), ng/mL, racemic, venous.
ANALGESIC_BAND = (70.0, 160.0)
DISSOCIATIVE_BAND = (100.0, 250.0)


@dataclass(frozen=True, slots=True)
class Infusion:
    rate_mg_kg_h: float
    start_min: float
    end_min: float


@dataclass(frozen=True, slots=True)
class Bolus:
    mg_per_kg: float
    at_min: float


@dataclass(frozen=True, slots=True)
class Prediction:
    minute: float
    cp_ng_ml: float
    ce_ng_ml: float
    amount_in_body_mg: float = field(repr=False)
    eliminated_mg: float = field(repr=False)


class PkSimulator:
    """State: amounts (mg) in each compartment, Ce (mg/L), and the amount eliminated."""

    def __init__(
        self, model: PkModel, weight_kg: float, ke0_per_min: float = DEFAULT_KE0_PER_MIN
    ) -> None:
        if weight_kg <= 0:
            raise ValueError("weight must be positive")
        self.model, self.weight_kg, self.ke0 = model, weight_kg, ke0_per_min
        self.v1 = model.v1_l_per_kg * weight_kg
        n = model.compartments
        # columns/rows: A1..An, Ce, eliminated
        size = n + 2
        a = np.zeros((size, size))
        a[0, 0] = -(model.k10 + model.k12 + model.k13)
        a[0, 1], a[1, 0], a[1, 1] = model.k21, model.k12, -model.k21
        if n == 3:
            a[0, 2], a[2, 0], a[2, 2] = model.k31, model.k13, -model.k31
        ce = n
        a[ce, 0], a[ce, ce] = self.ke0 / self.v1, -self.ke0  # dCe = ke0 (A1/V1 - Ce)
        a[n + 1, 0] = model.k10
        self._a = a
        self._ce = ce
        self._cache: dict[float, np.ndarray] = {}

    def _step_matrix(self, minutes: float) -> np.ndarray:
        """expm of the system augmented with a constant input, for a step of `minutes`."""
        m = self._cache.get(minutes)
        if m is None:
            size = self._a.shape[0]
            aug = np.zeros((size + 1, size + 1))
            aug[:size, :size] = self._a
            aug[0, size] = 1.0  # unit input rate (mg/min) into the central compartment
            from scipy.linalg import expm  # about 0.6 s to import: on first use, not at start-up

            m = expm(aug * minutes)
            if len(self._cache) < 256:
                self._cache[minutes] = m
        return m

    def advance(self, state: np.ndarray, minutes: float, rate_mg_min: float) -> np.ndarray:
        if minutes <= 0:
            return state
        m = self._step_matrix(minutes)
        size = self._a.shape[0]
        return m[:size, :size] @ state + m[:size, size] * rate_mg_min

    def predict(
        self,
        infusions: Iterable[Infusion],
        times_min: Iterable[float],
        boluses: Iterable[Bolus] = (),
    ) -> list[Prediction]:
        """Cp and Ce at each requested minute (from 0), exact between every change."""
        infusions, boluses = list(infusions), list(boluses)
        times = sorted(set(times_min))
        points = sorted(
            {
                0.0,
                *times,
                *(i.start_min for i in infusions),
                *(i.end_min for i in infusions),
                *(b.at_min for b in boluses),
            }
        )
        state = np.zeros(self._a.shape[0])
        out: dict[float, Prediction] = {}
        given: set[int] = set()
        prev = 0.0
        for t in points:
            if t < 0:
                continue
            rate = sum(i.rate_mg_kg_h for i in infusions if i.start_min <= prev < i.end_min)
            state = self.advance(state, t - prev, rate * self.weight_kg / 60)
            prev = t
            for k, b in enumerate(boluses):
                if k not in given and b.at_min <= t:
                    state[0] += b.mg_per_kg * self.weight_kg
                    given.add(k)
            if t in times:
                out[t] = self._prediction(t, state)
        return [out[t] for t in times]

    def _prediction(self, t: float, state: np.ndarray) -> Prediction:
        n = self.model.compartments
        return Prediction(
            t,
            float(state[0] / self.v1 * 1000),
            float(state[self._ce] * 1000),
            float(state[:n].sum()),
            float(state[n + 1]),
        )


def dose_mg(
    infusions: Iterable[Infusion],
    boluses: Iterable[Bolus],
    weight_kg: float,
    until_min: float | None = None,
) -> float:
    """Total drug given (mg) by `until_min` (default: all of it)."""
    total = 0.0
    for i in infusions:
        end = i.end_min if until_min is None else min(i.end_min, until_min)
        total += max(0.0, end - i.start_min) / 60 * i.rate_mg_kg_h * weight_kg
    for b in boluses:
        if until_min is None or b.at_min <= until_min:
            total += b.mg_per_kg * weight_kg
    return total
