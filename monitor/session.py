"""The infusion session: lifecycle, dose, assessments and the start and discharge gates.

The session is event-sourced: its state (phase, rate, dose, baseline, assessments) is a fold
over its logged events, so the record and the screen can never disagree, and a restarted
station rebuilds the same state from the session log.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.pk import Bolus, Infusion

# Assessment scales (clinical.md §4): code -> (low, high), all integers.
SCALES: dict[str, tuple[int, int]] = {
    "RASS": (-5, 4),
    "MOAA_S": (0, 5),
    "CADSS6": (0, 24),
    "NAUSEA": (0, 3),
    "PAIN_NRS": (0, 10),
}
INDICATIONS = ("depression", "CRPS", "fibromyalgia", "other chronic pain", "other")
# The kinds of logged event that make up the session's own story (its state is their fold).
SESSION_EVENTS = {
    "session_created",
    "baseline_confirmed",
    "hold_start",
    "refused",
    "override",
    "infusion_start",
    "infusion_pause",
    "infusion_resume",
    "rate_change",
    "infusion_stop",
    "bolus",
    "medication",
    "intervention",
    "assessment",
    "discharged",
}
# Rescue steps that are not drugs (clinical.md §3.1: oxygen and an airway-capable clinician
# at hand; §3.3: airway events with benzodiazepines), in the words the record uses.
INTERVENTIONS = {
    "oxygen": "Oxygen given",
    "airway_support": "Airway supported",
    "call_for_help": "Help called",
    "reassure": "Patient reassured",
}
CADSS6_ITEMS = 6  # items 1, 2, 6, 7, 15 and 22 of the full CADSS, each 0-4
MAX_NOTE_CHARS = 2000


class Phase(enum.StrEnum):
    PRE_INFUSION = "pre-infusion"
    INFUSING = "infusing"
    PAUSED = "paused"
    RECOVERY = "recovery"
    DISCHARGED = "discharged"
    CLOSED = "closed"


_OPEN = frozenset({Phase.PRE_INFUSION, Phase.INFUSING, Phase.PAUSED, Phase.RECOVERY})
# step -> (the phases it may be taken in, the phase after it; None: unchanged). The one
# table of the session's phases: the core's guards and the fold both read it.
TRANSITIONS: dict[str, tuple[frozenset[Phase], Phase | None]] = {
    "baseline_confirmed": (frozenset({Phase.PRE_INFUSION}), None),
    "infusion_start": (frozenset({Phase.PRE_INFUSION}), Phase.INFUSING),
    "infusion_pause": (frozenset({Phase.INFUSING}), Phase.PAUSED),
    "infusion_resume": (frozenset({Phase.PAUSED}), Phase.INFUSING),
    "rate_change": (frozenset({Phase.INFUSING, Phase.PAUSED}), None),
    "infusion_stop": (frozenset({Phase.INFUSING, Phase.PAUSED}), Phase.RECOVERY),
    "bolus": (_OPEN, None),
    "medication": (_OPEN, None),
    "intervention": (_OPEN, None),
    "assessment": (_OPEN, None),
    "discharged": (frozenset({Phase.RECOVERY}), Phase.DISCHARGED),
    "session_closed": (frozenset(Phase), Phase.CLOSED),
}


class SessionError(ValueError):
    """A session command that does not fit the session's state; one line for the screen."""


@dataclass(frozen=True, slots=True)
class SessionEvent:
    t: float
    kind: str
    user: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Assessment:
    t: float
    user: str
    scores: dict[str, int]
    note: str


def validate_assessment(raw: Mapping[str, Any]) -> tuple[dict[str, int], str]:
    """Scores within their scales (CADSS-6 from its six items) and a plain-text note.

    Raises SessionError naming the field. At least one score is needed.
    """
    scores: dict[str, int] = {}
    for code, (lo, hi) in SCALES.items():
        if code == "CADSS6":
            continue
        value = raw.get(code)
        if value is None or value == "":
            continue
        scores[code] = int_in(value, lo, hi, code)
    items = raw.get("CADSS6_ITEMS")
    if items is not None and any(v not in (None, "") for v in items):
        if len(items) != CADSS6_ITEMS or any(v in (None, "") for v in items):
            raise SessionError("CADSS6: score all six items (0-4 each)")
        scores["CADSS6"] = sum(int_in(v, 0, 4, f"CADSS6 item {i + 1}") for i, v in enumerate(items))
    elif raw.get("CADSS6") not in (None, ""):
        scores["CADSS6"] = int_in(raw["CADSS6"], 0, 24, "CADSS6")
    note = str(raw.get("note") or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise SessionError(f"note: at most {MAX_NOTE_CHARS} characters")
    if not scores:
        raise SessionError("enter at least one score")
    return scores, note


def int_in(value: Any, lo: int, hi: int, name: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SessionError(f"{name}: not a number") from None
    if not number.is_integer() or not lo <= number <= hi:
        raise SessionError(f"{name}: a whole number from {lo} to {hi}")
    return int(number)


@dataclass
class SessionState:
    """Everything derived from a session's events."""

    weight_kg: float = 0.0
    concentration_mg_ml: float = 0.0  # required at creation: no default
    planned_duration_min: float | None = None
    planned_total_mg_kg: float | None = None
    pre_infusion_ticked: tuple[str, ...] = ()
    phase: Phase = Phase.PRE_INFUSION
    rate_mg_kg_h: float = 0.0  # the set rate (kept while paused)
    infusions: list[tuple[float, float | None, float]] = field(default_factory=list)
    """(start, end or None while running, rate mg/kg/h), epoch seconds."""
    boluses: list[tuple[float, float]] = field(default_factory=list)  # (t, mg/kg)
    baseline: dict[str, float] = field(default_factory=dict)
    assessments: list[Assessment] = field(default_factory=list)
    infusion_started_at: float | None = None
    infusion_stopped_at: float | None = None
    overrides: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return bool(self.infusions) and self.infusions[-1][1] is None

    @property
    def running_rate_mg_kg_h(self) -> float:
        """The rate the pump delivers now: 0 unless infusing."""
        return self.rate_mg_kg_h if self.phase is Phase.INFUSING else 0.0

    @property
    def rate_ml_h(self) -> float:
        if not self.concentration_mg_ml:
            return math.nan
        return self.rate_mg_kg_h * self.weight_kg / self.concentration_mg_ml

    def infused_h(self, now: float) -> float:
        """Hours the pump has run, pauses excluded."""
        return sum(((end or now) - start) / 3600 for start, end, _ in self.infusions)

    def remaining_plan_h(self, now: float) -> float:
        """Planned infusion hours still to run (0 without a planned duration)."""
        if self.planned_duration_min is None:
            return 0.0
        return max(0.0, self.planned_duration_min / 60 - self.infused_h(now))

    def plan_reached(self, now: float) -> bool:
        """The planned duration or total dose has been given."""
        if self.planned_duration_min is not None and self.remaining_plan_h(now) <= 0:
            return True
        total = self.planned_total_mg_kg
        return total is not None and self.dose_mg_kg(now) >= total - 1e-9

    def dose_mg(self, now: float) -> float:
        """Cumulative dose from the events: infusion time at each rate, pauses excluded."""
        total = sum(
            (((end or now) - start) / 3600) * rate * self.weight_kg
            for start, end, rate in self.infusions
        )
        return total + sum(mg_kg * self.weight_kg for _, mg_kg in self.boluses)

    def dose_mg_kg(self, now: float) -> float:
        return self.dose_mg(now) / self.weight_kg if self.weight_kg else 0.0

    def pk_inputs(self, now: float) -> tuple[float, list[Infusion], list[Bolus]]:
        """(time origin, infusions, boluses) in minutes from the first drug given."""
        given = [start for start, _, _ in self.infusions] + [t for t, _ in self.boluses]
        origin = min(given) if given else now
        infs = [
            Infusion(rate, (start - origin) / 60, ((end or now) - origin) / 60)
            for start, end, rate in self.infusions
            if (end or now) > start
        ]
        bols = [Bolus(mg_kg, (t - origin) / 60) for t, mg_kg in self.boluses]
        return origin, infs, bols

    def last_score(self, code: str) -> int | None:
        return self.score_since(code, None)

    def score_since(self, code: str, since: float | None) -> int | None:
        """The last score for `code` entered at or after `since` (None: any time)."""
        for a in reversed(self.assessments):
            if since is not None and a.t < since:
                return None
            if code in a.scores:
                return a.scores[code]
        return None

    def scored(self, code: str) -> bool:
        return any(code in a.scores for a in self.assessments)

    def pre_infusion_score(self, code: str) -> int | None:
        """The last score for `code` entered before the infusion started."""
        start = self.infusion_started_at
        for a in reversed(self.assessments):
            if (start is None or a.t <= start) and code in a.scores:  # entered before it
                return a.scores[code]
        return None

    def apply(self, ev: SessionEvent) -> None:
        p, t = ev.payload, ev.t
        if ev.kind == "session_created":
            self.weight_kg = float(p["weight_kg"])
            self.concentration_mg_ml = float(p.get("concentration_mg_ml") or 0.0)
            self.rate_mg_kg_h = float(p.get("planned_rate_mg_kg_h") or 0.0)
            duration, total = p.get("planned_duration_min"), p.get("planned_total_mg_kg")
            self.planned_duration_min = None if duration is None else float(duration)
            self.planned_total_mg_kg = None if total is None else float(total)
        elif ev.kind == "baseline_confirmed":
            self.baseline = {k: float(v) for k, v in p["values"].items()}
        elif ev.kind == "override":
            self.overrides.append(str(p.get("reason", "")))
        elif ev.kind == "infusion_start":
            self.rate_mg_kg_h = float(p["rate_mg_kg_h"])
            self.infusions.append((t, None, self.rate_mg_kg_h))
            self.infusion_started_at = self.infusion_started_at or t
            self.pre_infusion_ticked = tuple(p.get("ticked", ()))
        elif ev.kind in ("infusion_pause", "infusion_stop", "rate_change"):
            if self.running:
                start, _, rate = self.infusions[-1]
                self.infusions[-1] = (start, t, rate)
            if ev.kind == "rate_change":
                self.rate_mg_kg_h = float(p["rate_mg_kg_h"])
                if self.phase is Phase.INFUSING:
                    self.infusions.append((t, None, self.rate_mg_kg_h))
            elif ev.kind == "infusion_stop":
                self.infusion_stopped_at = t
        elif ev.kind == "infusion_resume":
            self.infusions.append((t, None, self.rate_mg_kg_h))
        elif ev.kind == "bolus":
            self.boluses.append((t, float(p["mg_per_kg"])))
        elif ev.kind == "assessment":
            self.assessments.append(
                Assessment(t, ev.user, dict(p["scores"]), str(p.get("note", "")))
            )
        after = TRANSITIONS.get(ev.kind, (None, None))[1]
        if after is not None:
            self.phase = after


def fold(events: Iterable[SessionEvent]) -> SessionState:
    state = SessionState()
    for ev in events:
        state.apply(ev)
    return state


def next_assessment_due(
    state: SessionState, every_min: float, peak_min: float | None, now: float
) -> float | None:
    """When the next nurse assessment is due (epoch s), or None outside infusion and recovery.

    Due every `every_min` from the infusion start (and from the stop, in recovery), plus once
    at the expected peak. An assessment entered at or after a due time satisfies it.
    """
    if state.phase in (Phase.INFUSING, Phase.PAUSED) and state.infusion_started_at:
        anchor = state.infusion_started_at
        extra = [anchor + peak_min * 60] if peak_min else []
    elif state.phase is Phase.RECOVERY and state.infusion_stopped_at:
        anchor, extra = state.infusion_stopped_at, []
    else:
        return None
    last = state.assessments[-1].t if state.assessments else -math.inf
    step = every_min * 60
    k = max(1, math.floor((max(last, anchor) - anchor) / step) + 1)
    candidates = [anchor + k * step] + [t for t in extra if t > last]
    # the earliest due time not yet answered by an assessment
    pending = [t for t in candidates if t > last]
    due_past = [anchor + j * step for j in range(1, k) if anchor + j * step > last]
    return min(pending + due_past) if pending or due_past else None


@dataclass(frozen=True, slots=True)
class SessionView:
    """What the bed page shows of a session (computed on the server)."""

    phase: Phase
    patient_ref: str
    rate_mg_kg_h: float
    rate_ml_h: float
    dose_mg: float
    dose_mg_kg: float
    baseline: dict[str, float]
    holds: list[str]
    assessment_due: float | None
    cp_ng_ml: float | None
    ce_ng_ml: float | None
    last_scores: dict[str, int]
    assessments: int
    infusion_started_at: float | None = None
    infusion_stopped_at: float | None = None
    pump_rate_ml_h: float | None = None
    """What the infusion pump itself reports now (a networked pump), if it reports."""
    pump_mismatch_pct: float = 10.0
    """How far the pump may differ from the charted rate before it is flagged."""


def rate_steps(events: Iterable[SessionEvent]) -> list[tuple[float, float, str]]:
    """(t, running rate in mg/kg/h, event kind) after each step: 0 while paused or stopped."""
    state = SessionState()
    out = []
    for ev in events:
        state.apply(ev)
        running = state.rate_mg_kg_h if state.phase is Phase.INFUSING else 0.0
        out.append((ev.t, running, ev.kind))
    return out
