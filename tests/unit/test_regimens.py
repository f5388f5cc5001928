"""A planned regimen fills only what the nurse left empty."""

from __future__ import annotations

from monitor.domain.regimens import REGIMENS, plan_with_regimen


def test_the_regimen_fills_the_empty_fields_only() -> None:
    typed = {"weight_kg": 70, "planned_rate_mg_kg_h": "", "planned_duration_min": 180}
    plan = plan_with_regimen(typed, "crps")
    assert plan["regimen"] == REGIMENS["crps"].label
    assert plan["planned_rate_mg_kg_h"] == 0.35  # filled
    assert plan["planned_duration_min"] == 180  # typed: kept


def test_no_regimen_fills_nothing() -> None:
    typed = {"weight_kg": 70, "planned_rate_mg_kg_h": None}
    assert plan_with_regimen(typed, None) == typed | {"regimen": ""}
