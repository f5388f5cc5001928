"""Physician review: stateless downsampled windows and the session summary.

Downsampling uses MinMaxLTTB (tsdownsample), which keeps every bin's extremes, so spikes and
desaturations are never lost. Any worker can answer any zoom: a window is a query plus a
downsample, with no per-viewer state (dash.md §2.2).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import numpy as np
from tsdownsample import MinMaxLTTBDownsampler

from monitor.alarms.rules import breaches
from monitor.config import AlarmRule
from monitor.session import SessionEvent, fold
from monitor.store import SessionStore

DEFAULT_POINTS = 2000
NUISANCE_S = 10.0  # alarms shorter than this are counted as likely nuisance (Görges 2009)


def downsample(
    t: np.ndarray,
    v: np.ndarray,
    n_out: int = DEFAULT_POINTS,
) -> tuple[np.ndarray, np.ndarray]:
    """At most `n_out` points: MinMaxLTTB, plus the window's own minimum and maximum, which
    LTTB's selection step could otherwise drop (a desaturation's nadir must always show)."""
    if len(t) <= n_out:
        return t, v
    idx = MinMaxLTTBDownsampler().downsample(t, v, n_out=n_out - 2)
    idx = np.union1d(idx, np.array([np.argmin(v), np.argmax(v)], dtype=idx.dtype))
    return t[idx], v[idx]


@dataclass(frozen=True, slots=True)
class Window:
    signal: str
    t: np.ndarray
    v: np.ndarray
    raw_points: int

    @property
    def resolution_s(self) -> float:
        """Seconds of data per shown point (1 point per reading when not downsampled)."""
        if len(self.t) < 2:
            return 0.0
        return float(self.t[-1] - self.t[0]) / max(1, len(self.t) - 1)


def window(
    store: SessionStore,
    session_id: int,
    signal: str,
    start: float | None = None,
    end: float | None = None,
    n_out: int = DEFAULT_POINTS,
) -> Window:
    rows = [
        (t, v)
        for t, s, v in store.readings(session_id, since=start, signals=[signal])
        if end is None or t <= end
    ]
    t = np.array([r[0] for r in rows], dtype=np.float64)
    v = np.array([r[1] for r in rows], dtype=np.float64)
    ts, vs = downsample(t, v, n_out)
    return Window(signal, ts, vs, len(rows))


@dataclass
class SignalSummary:
    minimum: float
    maximum: float
    seconds_outside_limits: float


@dataclass
class SessionSummary:
    baseline: dict[str, float]
    signals: dict[str, SignalSummary]
    peak_delta_sbp: float | None
    dose_mg: float
    dose_mg_kg: float
    infusion_minutes: float
    peak_cadss6: int | None
    worst_rass: int | None
    alarms_by_priority: dict[str, int]
    alarms_per_hour: float
    ack_median_s: float | None
    ack_max_s: float | None
    nuisance_alarms: int
    hours: float
    notes: list[str] = field(default_factory=list)


def _seconds_outside(t: list[float], v: list[float], rules: list[AlarmRule]) -> float:
    """Time during which any absolute limit of the signal was breached: each reading holds
    until the next one (the last one for the median interval)."""
    if not t:
        return 0.0
    gaps = [b - a for a, b in zip(t, t[1:], strict=False)]
    last = statistics.median(gaps) if gaps else 0.0
    total = 0.0
    for i, value in enumerate(v):
        if any(breaches(value, r.op, r.limit) for r in rules if r.op and r.limit is not None):
            total += gaps[i] if i < len(gaps) else last
    return total


def summarize(store: SessionStore, session_id: int, rules: list[AlarmRule]) -> SessionSummary:
    info = store.session(session_id)
    events = store.events(session_id)
    state = fold(SessionEvent(e.t, e.kind, e.user, e.payload) for e in events)
    end = info.ended_at or max((e.t for e in events), default=info.started_at)
    readings = store.readings(session_id)
    by_signal: dict[str, tuple[list[float], list[float]]] = {}
    for t, s, v in readings:
        ts, vs = by_signal.setdefault(s, ([], []))
        ts.append(t)
        vs.append(v)
    absolute = [r for r in rules if r.op and r.relative is None and r.limit is not None]
    signals = {
        s: SignalSummary(
            min(vs), max(vs), _seconds_outside(ts, vs, [r for r in absolute if r.signal == s])
        )
        for s, (ts, vs) in sorted(by_signal.items())
    }
    base_sbp = state.baseline.get("NIBP_SYS")
    sbp = by_signal.get("NIBP_SYS", ([], []))[1]
    peak_delta = max(v - base_sbp for v in sbp) if base_sbp is not None and sbp else None
    infusion_s = sum(((e or end) - s) for s, e, _ in state.infusions)
    cadss = [a.scores["CADSS6"] for a in state.assessments if "CADSS6" in a.scores]
    rass = [a.scores["RASS"] for a in state.assessments if "RASS" in a.scores]
    alarms = [
        row
        for row in store.alarms(info.bed)
        if row["session_id"] == session_id and not row["technical"]
    ]
    hours = max((end - info.started_at) / 3600, 1e-9)
    acks = [row["acked_at"] - row["onset_t"] for row in alarms if row["acked_at"] is not None]
    by_priority = {
        p: sum(1 for row in alarms if row["priority"] == p) for p in ("HIGH", "MEDIUM", "LOW")
    }
    nuisance = sum(
        1
        for row in alarms
        if row["end_t"] is not None and row["end_t"] - row["onset_t"] < NUISANCE_S
    )
    return SessionSummary(
        baseline=dict(state.baseline),
        signals=signals,
        peak_delta_sbp=peak_delta,
        dose_mg=round(state.dose_mg(end), 3),
        dose_mg_kg=round(state.dose_mg_kg(end), 4),
        infusion_minutes=round(infusion_s / 60, 2),
        peak_cadss6=max(cadss) if cadss else None,
        worst_rass=max(rass, key=abs) if rass else None,
        alarms_by_priority=by_priority,
        alarms_per_hour=round(len(alarms) / hours, 2),
        ack_median_s=statistics.median(acks) if acks else None,
        ack_max_s=max(acks) if acks else None,
        nuisance_alarms=nuisance,
        hours=round(hours, 4),
    )
