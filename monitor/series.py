"""A patient's infusion series: follow-up contacts, the plan for the next infusion, and what
falls due. Pure: the logged steps in, a decision, a refusal or a list out.

A pain clinic gives a series (an induction course, then boosters every few weeks), and the
physician sets dose and interval from the relief the last infusions gave, how long it
lasted and the side effects. Follow-ups and the plan are steps of a closed session, kept and
audited like a sign-off; the series itself is the sessions that share a patient's keyed
pseudonym, never the reference (only real sessions: a simulated one never joins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.model import SessionInfo, StoredEvent
from monitor.record_review import review_status
from monitor.session import MAX_NOTE_CHARS, SessionError, int_in

FOLLOW_UP = "follow_up"
PLAN = "series_plan"
FOLLOW_UP_ROLES = ("nurse", "physician")
PLANNERS = ("physician",)
SIDE_EFFECTS = ("nausea", "dizziness", "dissociation", "headache", "other")
# Patient Global Impression of Change, 7 points (Guy 1976, ECDEU Assessment Manual)
PGIC = {
    1: "very much improved",
    2: "much improved",
    3: "minimally improved",
    4: "no change",
    5: "minimally worse",
    6: "much worse",
    7: "very much worse",
}
MAX_RELIEF_DAYS = 365
MAX_INTERVAL_DAYS = 365
DAY_S = 86_400.0


def _closed_real(info: SessionInfo, events: Sequence[StoredEvent], what: str) -> None:
    if info.ended_at is None:
        raise SessionError(f"session {info.id} is still open: {what} comes after discharge")
    if info.source != "live":
        raise SessionError(f"session {info.id} is simulated: it has no {what}")
    if review_status(events).in_error is not None:
        raise SessionError(f"session {info.id} is entered in error: no {what}")


def _text(value: Any, name: str) -> str:
    text = str(value or "").strip()
    if len(text) > MAX_NOTE_CHARS:
        raise SessionError(f"{name}: at most {MAX_NOTE_CHARS} characters (got {len(text)})")
    return text


def follow_up(
    info: SessionInfo, events: Sequence[StoredEvent], role: str | None, raw: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """A follow-up contact after discharge, validated; SessionError names the field."""
    if role not in FOLLOW_UP_ROLES:
        raise SessionError("only a nurse or a physician can record a follow-up")
    _closed_real(info, events, "follow-up")
    ticks = list(raw.get("side_effects") or [])
    unknown = [t for t in ticks if t not in SIDE_EFFECTS]
    if unknown:
        raise SessionError(f"side effects: {unknown[0]!r} is not one of {', '.join(SIDE_EFFECTS)}")
    return FOLLOW_UP, {
        "pain_nrs": int_in(raw.get("pain_nrs"), 0, 10, "pain NRS"),
        "relief_days": int_in(raw.get("relief_days"), 0, MAX_RELIEF_DAYS, "days of relief"),
        "pgic": int_in(raw.get("pgic"), 1, 7, "PGIC"),
        "side_effects": sorted(set(ticks), key=SIDE_EFFECTS.index),
        "note": _text(raw.get("note"), "side effects, in words"),
    }


def plan_next(
    info: SessionInfo, events: Sequence[StoredEvent], role: str | None, raw: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The physician's plan for the next infusion: an interval in days and a note (the
    dose). It is shown on the series and offered on the next session's form, never
    applied by itself."""
    if role not in PLANNERS:
        raise SessionError("only a physician can plan the next infusion")
    _closed_real(info, events, "plan")
    low = int_in(raw.get("interval_min_days"), 1, MAX_INTERVAL_DAYS, "interval from (days)")
    high = int_in(raw.get("interval_max_days"), low, MAX_INTERVAL_DAYS, "interval to (days)")
    return PLAN, {
        "interval_min_days": low,
        "interval_max_days": high,
        "note": _text(raw.get("note"), "plan"),
    }


@dataclass(frozen=True, slots=True)
class FollowUp:
    t: float
    user: str
    days_after: float  # from the end of the session
    pain_nrs: int
    relief_days: int
    pgic: int
    side_effects: list[str]
    note: str


def follow_ups(info: SessionInfo, events: Sequence[StoredEvent]) -> list[FollowUp]:
    end = info.ended_at or info.started_at
    return [
        FollowUp(
            e.t,
            e.user,
            round((e.t - end) / DAY_S, 1),
            int(e.payload["pain_nrs"]),
            int(e.payload["relief_days"]),
            int(e.payload["pgic"]),
            list(e.payload.get("side_effects", [])),
            str(e.payload.get("note", "")),
        )
        for e in events
        if e.kind == FOLLOW_UP
    ]


@dataclass(frozen=True, slots=True)
class DueFollowUp:
    session_id: int
    bed: str
    due_at: float
    label: str  # "24 h", "7 d"
    patient_ref: str


def _after(hours: float) -> str:
    return f"{hours / 24:g} d" if hours >= 48 else f"{hours:g} h"


def due_follow_ups(
    info: SessionInfo, events: Sequence[StoredEvent], due_after_h: Sequence[float], now: float
) -> list[DueFollowUp]:
    """The session's scheduled follow-ups that are due and not yet recorded: the n-th
    contact recorded answers the n-th due time. Only after an infusion was given."""
    if info.ended_at is None or info.source != "live" or not info.patient_ref:
        return []
    if review_status(events).in_error is not None:
        return []
    if not any(e.kind == "infusion_start" for e in events):  # cancelled: nothing to ask about
        return []
    done = sum(1 for e in events if e.kind == FOLLOW_UP)
    out = []
    for n, hours in enumerate(sorted(due_after_h)):
        due = info.ended_at + hours * 3600
        if n >= done and due <= now:
            out.append(DueFollowUp(info.id, info.bed, due, _after(hours), info.patient_ref))
    return out


@dataclass(frozen=True, slots=True)
class Plan:
    session_id: int
    t: float
    user: str
    interval_min_days: int
    interval_max_days: int
    note: str
    due_from: float
    due_by: float


def latest_plan(history: Sequence[tuple[SessionInfo, Sequence[StoredEvent]]]) -> Plan | None:
    """The last plan recorded in a series (sessions oldest first), timed from the end of the
    last session: a later infusion restarts the interval."""
    last_end = max((i.ended_at or i.started_at for i, _ in history), default=None)
    plans = [(i, e) for i, events in history for e in events if e.kind == PLAN]
    if not plans or last_end is None:
        return None
    info, e = max(plans, key=lambda p: p[1].t)
    low, high = int(e.payload["interval_min_days"]), int(e.payload["interval_max_days"])
    return Plan(
        info.id,
        e.t,
        e.user,
        low,
        high,
        str(e.payload.get("note", "")),
        last_end + low * DAY_S,
        last_end + high * DAY_S,
    )
