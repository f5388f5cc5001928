"""The `session:` section of config.yaml: gates, dose guards, assessments, discharge.

Every default is an engineering proposal with its source in config.yaml and
../shared/design/clinical.md; the clinic reviews and signs off each one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from monitor.config_base import Strict, signal_or_score
from monitor.pk import MODELS, PkSimulator
from monitor.session import SCALES
from monitor.signals import is_known


class Criterion(Strict):
    """A hold-start criterion: holds when `signal op limit` for the latest value or score."""

    signal: str
    op: Literal[">", ">=", "<", "<=", "!=", "=="]
    limit: float

    @field_validator("signal")
    @classmethod
    def _known(cls, v: str) -> str:
        return signal_or_score(v)


DischargeCheck = Literal[
    "rass_zero",
    "cadss_settled",
    "sbp_settled",
    "hr_settled",
    "spo2_settled",
    "rr_settled",
    "no_alarms",
    "recovery_time",
]


class ChecklistItemConfig(Strict):
    key: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str = Field(min_length=1)
    check: DischargeCheck | None = None
    """Computed from the data; without it the nurse ticks the item."""


class DischargeCriteria(Strict):
    """The numbers behind the computed discharge checks (clinical.md §7 step 5, §6)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    spo2_min: float = Field(94, ge=80, le=100)
    rr_range: tuple[float, float] = (10, 24)
    hr_range: tuple[float, float] = (50, 100)
    sbp_below: float = Field(160, ge=90, le=220)
    sbp_within_pct: float = Field(20, gt=0, le=100)
    cuff_max_age_min: float = Field(10, gt=0, le=60)
    vitals_max_age_s: float = Field(60, gt=0, le=600)
    cadss_max: int = Field(2, ge=0, le=24)
    recovery_min: float = Field(30, ge=0, le=480)


class DoseGuards(Strict):
    """Ketamine dose guards. A command past a guard is refused unless a physician overrides
    it with a reason; the predicted effect-site concentration raises alarms (clinical.md §5.2)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    max_rate_mg_kg_h: float = Field(1.0, gt=0, le=2)
    max_session_mg_kg: float = Field(2.5, gt=0, le=10)
    max_bolus_mg_kg: float = Field(0.5, gt=0, le=2)
    ce_medium_ng_ml: float = Field(250, gt=0, le=5000)
    ce_high_ng_ml: float = Field(640, gt=0, le=5000)

    @model_validator(mode="after")
    def _ordered(self) -> DoseGuards:
        if self.ce_high_ng_ml <= self.ce_medium_ng_ml:
            raise ValueError("ce_high_ng_ml must be above ce_medium_ng_ml")
        return self


class PumpRules(Strict):
    """A networked pump's own rate (HL7 PCD-01) against the chart."""

    dose_from: Literal["chart", "pump"] = "chart"
    """`pump`: each change of the pump's rate is charted as a step by "pump", so the dose and
    the PK estimate rest on what the pump reports rather than on what was typed."""
    mismatch_pct: float = Field(10, gt=0, le=100)
    mismatch_s: float = Field(60, ge=1, le=600)
    """The pump's rate differs from the charted one by more than `mismatch_pct` for this
    long: a MEDIUM alarm."""


class BaselineRule(Strict):
    """What a confirmed baseline needs (clinical.md §7 step 1)."""

    min_cuffs: int = Field(2, ge=1, le=10)
    window_min: float = Field(10, gt=0, le=60)
    signals: tuple[str, ...] = ("HR", "SPO2", "RR")

    @field_validator("signals")
    @classmethod
    def _known_signals(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for code in v:
            if not is_known(code):
                raise ValueError(f"unknown signal {code!r}")
        return v


class AssessmentSchedule(Strict):
    every_min: float = Field(15, gt=0, le=240)
    peak_min: float | None = Field(40, gt=0, le=600)
    """One extra assessment at the expected peak, minutes after the infusion starts."""
    overdue_after_min: float = Field(5, gt=0, le=60)
    """Past due by this long: a LOW alarm, which escalates to MEDIUM after as long again."""


def _default_holds() -> list[Criterion]:
    return [
        Criterion(signal="NIBP_SYS", op=">=", limit=180),
        Criterion(signal="NIBP_DIA", op=">=", limit=110),
        Criterion(signal="SPO2", op="<", limit=94),
        Criterion(signal="RASS", op="!=", limit=0),
    ]


def _default_checklist() -> list[ChecklistItemConfig]:
    computed = [
        ("spo2", "SpO2 at least 94 %", "spo2_settled"),
        ("rr", "RR 10-24", "rr_settled"),
        ("hr", "HR 50-100", "hr_settled"),
        ("sbp", "SBP below 160 and within 20 % of baseline (cuff within 10 min)", "sbp_settled"),
        ("alarms", "No active MEDIUM or HIGH alarm", "no_alarms"),
        ("rass", "RASS 0 after the stop", "rass_zero"),
        ("cadss", "CADSS-6 at most 2 or back to its pre-infusion value", "cadss_settled"),
        ("recovery", "Minimum recovery time", "recovery_time"),
    ]
    return [ChecklistItemConfig(key=k, label=lbl, check=c) for k, lbl, c in computed] + [
        ChecklistItemConfig(key="ambulating", label="Walks steadily"),
        ChecklistItemConfig(key="nausea", label="No nausea needing treatment"),
        ChecklistItemConfig(key="escort", label="Responsible adult present; no driving today"),
    ]


def _default_pre_infusion() -> list[ChecklistItemConfig]:
    items = [
        ("identity", "Identity and weight checked"),
        ("consent", "Consent signed"),
        ("fasting", "Fasting per protocol"),
        ("iv", "IV line patent"),
        ("contraindications", "Contraindications screened"),
        ("escort", "Escort arranged; no driving today"),
    ]
    return [ChecklistItemConfig(key=k, label=lbl) for k, lbl in items]


class SessionConfig(Strict):
    hold_start: list[Criterion] = Field(default_factory=_default_holds)
    baseline: BaselineRule = Field(default_factory=BaselineRule)
    pre_infusion: list[ChecklistItemConfig] = Field(default_factory=_default_pre_infusion)
    """Ticked by the nurse before the start; every item is needed (computed checks: none)."""
    start_scores: tuple[str, ...] = ("RASS", "CADSS6", "PAIN_NRS")
    """Scores that must be entered before the start."""

    @field_validator("start_scores")
    @classmethod
    def _scales(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for code in v:
            if code not in SCALES:
                raise ValueError(f"unknown score {code!r} (one of {', '.join(SCALES)})")
        return v

    dose: DoseGuards = Field(default_factory=DoseGuards)
    pump: PumpRules = Field(default_factory=PumpRules)
    nibp_overdue_cycles: float = Field(2, gt=0, le=10)
    """During an infusion, no cuff reading for this many cycles raises a MEDIUM alarm."""
    assessments: AssessmentSchedule = Field(default_factory=AssessmentSchedule)
    discharge: list[ChecklistItemConfig] = Field(default_factory=_default_checklist)
    discharge_criteria: DischargeCriteria = Field(default_factory=DischargeCriteria)
    follow_up_after_h: tuple[float, ...] = (24.0, 168.0)
    """Follow-up contacts after discharge: due this many hours after the session ends."""

    @field_validator("follow_up_after_h")
    @classmethod
    def _follow_ups(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        for hours in v:
            if not 0 < hours <= 90 * 24:
                raise ValueError(f"{hours:g}: more than 0 and at most 2160 hours (90 days)")
        return tuple(sorted(v))

    ke0_per_min: float = Field(0.114, gt=0, le=10)
    pk_model: Literal["clements", "domino"] = "clements"

    def pk_simulator(self, weight_kg: float) -> PkSimulator:
        """The configured PK model for a patient (the bed page and the review use the same)."""
        return PkSimulator(MODELS[self.pk_model], weight_kg, self.ke0_per_min)
