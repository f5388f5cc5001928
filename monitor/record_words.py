"""The session record in clinical words: clock times with the date, durations as m:ss,
signal labels from the registry, and each logged step as a sentence with labelled fields.

One place for the review page, the audit page and the printed record, so a physician reads
the same words on screen and on paper. Nothing here shows a Python dict, a `None` or an
epoch number.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime

import dateutil.tz

from monitor.session import INTERVENTIONS
from monitor.signals import REGISTRY, label

OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "rise": "rise >", "no value": "no value for"}
# Keys of a step's fields that hold an epoch time.
TIME_KEYS = frozenset({"until", "at", "t", "due", "since"})
# Keys that hold seconds of duration.
SECONDS_KEYS = frozenset({"seconds", "idle_s", "delay_s", "duration_s"})
TITLES = {
    "session_created": "Session created",
    "baseline_confirmed": "Baseline confirmed",
    "hold_start": "Start held",
    "refused": "Refused",
    "override": "Override",
    "infusion_start": "Infusion started",
    "infusion_pause": "Infusion paused",
    "infusion_resume": "Infusion resumed",
    "rate_change": "Rate changed",
    "infusion_stop": "Infusion stopped",
    "bolus": "Bolus",
    "medication": "Medication",
    "intervention": "Intervention",
    "assessment": "Assessment",
    "discharged": "Discharged",
    "alarm_acknowledged": "Alarm acknowledged",
    "alarm_reset": "Alarm reset",
    "audio_pause": "Alarm sound paused",
    "limit_change": "Alarm limit changed",
    "instructor": "Instructor",
    "review_signed": "Reviewed and signed",
    "addendum": "Addendum",
    "entered_in_error": "Entered in error",
    "session_closed": "Session closed",
    "export": "Export",
    "login": "Logged in",
    "logout": "Logged out",
    "logout_idle": "Logged out when idle",
    "login_failed": "Login failed",
    "login_rate_limited": "Login attempts limited",
    "user_added": "User added",
    "user_disabled": "User disabled",
    "password_reset": "Password reset",
    "login_locked": "Name locked after wrong passwords",
    "login_refused_locked": "Login refused while locked",
    "login_unlocked": "Name unlocked",
    "logins_ended": "Logins ended everywhere",
    "follow_up": "Follow-up contact",
    "series_plan": "Next infusion planned",
}


def clock(t: float | None) -> str:
    """Local date and time to the second; empty when there is none."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else ""


def clock_time(t: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t)) if t else ""


def duration(seconds: float | None) -> str:
    """`m:ss`, or `h:mm:ss` from an hour; empty when there is none."""
    if seconds is None:
        return ""
    total = round(max(seconds, 0.0))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def number(value: float | int | None) -> str:
    """A value as the record shows it: at most one decimal (vital signs, scores, limits)."""
    if value is None:
        return ""
    return f"{round(value, 1):g}" if isinstance(value, float) else str(value)


def with_unit(signal: str, value: float | None) -> str:
    """`SpO₂ 88 %`, in the registry's unit."""
    unit = REGISTRY[signal].unit if signal in REGISTRY else ""
    return f"{label(signal)} {number(value)} {unit}".strip()


def limit_text(op: str | None, limit: float | None) -> str:
    """`< 85`, or the rule's words when it has no number (an overdue assessment)."""
    if limit is None:
        return "" if not op or op in OPS else op
    return f"{OPS.get(op or '', op or '')} {number(limit)}".strip()


def _value(key: str, value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and key in TIME_KEYS:
        return clock(float(value))
    if isinstance(value, (int, float)) and key in SECONDS_KEYS:
        return duration(float(value))
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{label(str(k))} {_value(str(k), v)}" for k, v in value.items())
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "; ".join(_value(key, v) for v in value) or "none"
    return str(value)


def fields(payload: Mapping[str, object], skip: Sequence[str] = ()) -> str:
    """Any step's details as `Label: value · Label: value`."""
    return " · ".join(
        f"{k.replace('_', ' ').capitalize()}: {_value(k, v)}"
        for k, v in payload.items()
        if k not in skip
    )


def _scores(scores: object) -> str:
    if not isinstance(scores, Mapping):
        return ""
    return ", ".join(f"{label(str(k))} {number(_num(scores, k))}" for k in scores)


def _num(payload: Mapping[str, object], key: str) -> float | None:
    value = payload.get(key)
    return float(value) if isinstance(value, (int, float)) else None


def step_words(kind: str, payload: Mapping[str, object]) -> str:
    """What a logged step did, as a line of the record."""
    p = payload
    if kind in ("alarm_acknowledged", "alarm_reset"):
        signal = str(p.get("signal", ""))
        value = _num(p, "value")
        limit = limit_text(str(p.get("op", "")), _num(p, "limit"))
        now = label(signal) if value is None else with_unit(signal, value)
        return f"{p.get('alarm', '')} ({p.get('priority', '')}): {now} {limit}".strip()
    if kind == "audio_pause":
        return f"for {_value('seconds', p.get('seconds'))}, until {_value('until', p.get('until'))}"
    if kind == "limit_change":
        old = "not set" if p.get("old") is None else number(_num(p, "old"))
        new = number(_num(p, "new"))
        return f"{p.get('alarm', '')}: {old} → {new}. Reason: {p.get('reason', '')}"
    if kind in ("rate_change", "infusion_start"):
        rate = f"{number(_num(p, 'rate_mg_kg_h'))} mg/kg/h"
        ticked = p.get("ticked")
        return rate + (f" · checklist: {_value('ticked', ticked)}" if ticked else "")
    if kind == "infusion_stop":
        return f"{number(_num(p, 'dose_mg'))} mg given"
    if kind == "bolus":
        return f"{number(_num(p, 'mg_per_kg'))} mg/kg"
    if kind == "medication":
        return f"{p.get('drug', '')} {p.get('dose', '')}".strip()
    if kind == "intervention":
        return INTERVENTIONS.get(str(p.get("what")), str(p.get("what", "")))
    if kind == "assessment":
        note = str(p.get("note") or "")
        return _scores(p.get("scores")) + (f" · note: {note}" if note else "")
    if kind == "baseline_confirmed":
        values = p.get("values")
        if isinstance(values, Mapping):
            return ", ".join(with_unit(str(k), _num(values, k)) for k in values)
    if kind == "discharged":
        return _discharge(p)
    if kind == "follow_up":
        effects = ", ".join(str(e) for e in p.get("side_effects") or []) or "none"
        note = str(p.get("note") or "")
        return (
            f"pain NRS {p.get('pain_nrs')} · {p.get('relief_days')} days of relief · PGIC "
            f"{p.get('pgic')} · side effects: {effects}" + (f" · {note}" if note else "")
        )
    if kind == "series_plan":
        note = str(p.get("note") or "")
        every = f"every {p.get('interval_min_days')}-{p.get('interval_max_days')} days"
        return every + (f" · {note}" if note else "")
    if kind in ("hold_start", "refused", "override"):
        head = []
        if p.get("command"):
            head.append(f"{p['command']}")
        if p.get("role"):
            head.append(f"by a {p['role']}")
        if p.get("reason"):
            head.append(f"reason: {p['reason']}")
        reasons = p.get("reasons")
        held = f"held for: {_value('reasons', reasons)}" if reasons else ""
        return " · ".join(x for x in (" ".join(head[:2]), *head[2:], held) if x)
    return fields(p)


def _discharge(p: Mapping[str, object]) -> str:
    checklist = p.get("checklist")
    met, unmet = [], []
    if isinstance(checklist, Mapping):
        for key, item in checklist.items():
            ok = isinstance(item, Mapping) and bool(item.get("ok"))
            (met if ok else unmet).append(str(key).replace("_", " "))
    text = f"criteria met: {', '.join(met) or 'none'}"
    if unmet:
        text += f" · not met: {', '.join(unmet)}"
    if p.get("override"):
        text += f" · override: {p['override']}"
    return text


def step_title(kind: str) -> str:
    return TITLES.get(kind, kind.replace("_", " ").capitalize())


def iso_time(t: float) -> str:
    """Local ISO 8601 time with its UTC offset, to the millisecond (the exports' time)."""
    # tzlocal: the station's zone with its daylight-saving rules, as its clock times show
    return datetime.fromtimestamp(t, dateutil.tz.tzlocal()).isoformat(timespec="milliseconds")
