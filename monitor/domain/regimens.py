"""The planned regimens a clinic starts from (clinical.md §3.1-3.2), and how one fills a plan.

A regimen only fills what the nurse left empty; what was typed is never replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Regimen:
    label: str
    rate_mg_kg_h: float
    duration_min: float


REGIMENS: dict[str, Regimen] = {
    "depression": Regimen("0.5 mg/kg over 40 min", 0.75, 40),
    "crps": Regimen("0.35 mg/kg/h for 4 h", 0.35, 240),
    "pain-2h": Regimen("about 80 mg over 2 h (0.57 mg/kg/h at 70 kg)", 0.57, 120),
}


def plan_with_regimen(plan: dict[str, Any], key: str | None) -> dict[str, Any]:
    """`plan` with the regimen's label, and its rate and duration where none was given."""
    regimen = REGIMENS.get(key or "")
    if regimen is None:
        return dict(plan, regimen="")
    out = dict(plan, regimen=regimen.label)
    if out.get("planned_rate_mg_kg_h") in (None, ""):
        out["planned_rate_mg_kg_h"] = regimen.rate_mg_kg_h
    if out.get("planned_duration_min") in (None, ""):
        out["planned_duration_min"] = regimen.duration_min
    return out
