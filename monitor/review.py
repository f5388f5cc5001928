"""Physician review: stateless downsampled windows and the session summary.

Downsampling uses MinMaxLTTB (tsdownsample), which keeps every bin's extremes, so spikes and
desaturations are never lost. Any worker can answer any zoom: a window is a query plus a
downsample, with no per-viewer state (dash.md §2.2).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from tsdownsample import MinMaxLTTBDownsampler

from monitor.alarms.rules import breaches
from monitor.config import AlarmRule
from monitor.model import AlarmRecord, SessionInfo, StoredEvent
from monitor.ports import ReviewSource, WaveSamples
from monitor.record_words import clock, duration, limit_text, number, with_unit
from monitor.session import SessionEvent, SessionState, fold
from monitor.session_config import SessionConfig
from monitor.signals import REGISTRY, WAVEFORMS, label

DEFAULT_POINTS = 1000  # per trace: about one per pixel column of a wide screen
NONE = "not recorded"
NUISANCE_S = 10.0  # alarms shorter than this are counted as likely nuisance (Görges 2009)
GAP_MIN_S = 10.0  # a pause in a signal's readings this long (or 5 usual intervals) is a gap


def keep_index(v: np.ndarray, n_out: int, t: np.ndarray | None = None) -> np.ndarray:
    """Indices of at most `n_out` points: MinMaxLTTB (over `t`, or the sample index), plus
    the window's own minimum and maximum, which LTTB's selection step could otherwise drop
    (a desaturation's nadir must always show)."""
    if len(v) <= n_out:
        return np.arange(len(v))
    args = (v,) if t is None else (t, v)
    idx = MinMaxLTTBDownsampler().downsample(*args, n_out=n_out - 2)
    return np.union1d(idx, np.array([np.argmin(v), np.argmax(v)], dtype=idx.dtype))


def downsample(
    t: np.ndarray, v: np.ndarray, n_out: int = DEFAULT_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    idx = keep_index(v, n_out, t)
    return t[idx], v[idx]


def gap_mask(t: np.ndarray) -> np.ndarray:
    """For each interval between consecutive readings, whether it is a gap in the data (no
    line is drawn across it and no time is counted in it)."""
    gaps = np.diff(t)
    if len(gaps) == 0:
        return np.zeros(0, dtype=bool)
    return gaps > max(GAP_MIN_S, 5 * float(np.median(gaps)))


def with_breaks(t: np.ndarray, v: np.ndarray, breaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shown points with a NaN before the first point after each gap: a chart draws
    no line across it."""
    at = np.searchsorted(t, breaks)
    at = np.unique(at[(at > 0) & (at < len(t))])
    if len(at) == 0:
        return t, v
    return np.insert(t.astype(np.float64), at, np.nan), np.insert(v.astype(np.float64), at, np.nan)


@dataclass(frozen=True, slots=True)
class Window:
    signal: str
    t: np.ndarray
    v: np.ndarray
    raw_points: int
    breaks: np.ndarray = field(default_factory=lambda: np.empty(0))
    """Times of the first reading after each gap in the window."""

    @property
    def resolution_s(self) -> float:
        """Seconds of data per shown point (1 point per reading when not downsampled)."""
        if len(self.t) < 2:
            return 0.0
        return float(self.t[-1] - self.t[0]) / max(1, len(self.t) - 1)


def window(
    store: ReviewSource,
    session_id: int,
    signal: str,
    start: float | None = None,
    end: float | None = None,
    n_out: int = DEFAULT_POINTS,
) -> Window:
    if signal in WAVEFORMS:
        return _wave_window(store.wave(session_id, signal), signal, start, end, n_out)
    t, v = store.track(session_id, signal)
    lo = 0 if start is None else int(np.searchsorted(t, start, side="left"))
    hi = len(t) if end is None else int(np.searchsorted(t, end, side="right"))
    t, v = t[lo:hi], v[lo:hi]
    ts, vs = downsample(t, v, n_out)
    return Window(signal, ts, vs, hi - lo, t[1:][gap_mask(t)])


def _wave_window(
    wave: WaveSamples, signal: str, start: float | None, end: float | None, n_out: int
) -> Window:
    """Downsample by sample index, then look up the chosen samples' times: a waveform's
    per-sample times are never built."""
    lo = 0 if start is None else wave.index(start)
    hi = len(wave.v) if end is None else wave.index(end, after=True)
    v = wave.v[lo:hi]
    invalid = np.isnan(v)
    finite = np.where(invalid, np.nanmedian(v), v) if invalid.any() else v
    idx = keep_index(finite, n_out)
    keep = idx[~invalid[idx]]  # samples the device marked invalid are not drawn
    return Window(signal, wave.times(keep + lo), v[keep].astype(np.float64), hi - lo)


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
    # the course of the session, for the patient's series as for the record
    planned_mg_kg: float | None = None
    peak_delta_hr: float | None = None
    pain_before: int | None = None
    pain_end: int | None = None
    worst_nausea: int | None = None
    medications: list[tuple[str, str]] = field(default_factory=list)  # (drug, dose)
    overrides: int = 0


@dataclass(frozen=True)
class SessionRecord:
    """What a review or a report shows besides the tracks, read once per page or file."""

    info: SessionInfo
    events: list[StoredEvent]
    alarms: list[AlarmRecord]  # this session's alarms, in onset order

    @property
    def end(self) -> float:
        """The close, or the last event of a session still open."""
        return self.info.ended_at or max((e.t for e in self.events), default=self.info.started_at)

    def state(self) -> SessionState:
        return fold(SessionEvent(e.t, e.kind, e.user, e.payload) for e in self.events)


def pk_curve(
    events: list[SessionEvent], weight_kg: float, end: float, session: SessionConfig
) -> list[tuple[float, float, float]]:
    """(epoch s, Cp, Ce in ng/mL) each minute from the first dose to an hour after `end`, by
    the configured PK model: the same estimate the bed page shows live. Empty with no dose."""
    state = fold(events)
    if weight_kg <= 0 or not (state.infusions or state.boluses):
        return []
    origin, infs, bols = state.pk_inputs(end)
    minutes = list(range(0, int((end - origin) / 60) + 60))
    pred = session.pk_simulator(weight_kg).predict(infs, minutes, bols)
    return [(origin + p.minute * 60, p.cp_ng_ml, p.ce_ng_ml) for p in pred]


def load_record(store: ReviewSource, session_id: int) -> SessionRecord:
    return SessionRecord(
        store.session(session_id),
        store.events(session_id),
        store.alarms(session_id=session_id),
    )


def _seconds_outside(t: np.ndarray, v: np.ndarray, rules: list[AlarmRule]) -> float:
    """Time during which any absolute limit of the signal was breached: each reading holds
    until the next one (the last one, and one before a gap, for the median interval), so
    time without data is never counted."""
    if len(t) == 0:
        return 0.0
    gaps = np.diff(t)
    usual = float(np.median(gaps)) if len(gaps) else 0.0
    held = np.append(np.where(gap_mask(t), usual, gaps), usual)
    outside = np.zeros(len(v), dtype=bool)
    for r in rules:  # absolute limits only (the caller's choice)
        outside |= breaches(v, str(r.op), float(r.limit or 0))  # elementwise on arrays
    return float(held[outside].sum())


def summarize(
    store: ReviewSource,
    session_id: int,
    rules: list[AlarmRule],
    record: SessionRecord | None = None,
    signals: tuple[str, ...] | None = None,
) -> SessionSummary:
    """The session's figures. `signals` limits the per-signal lines to those (the series
    needs HR and SBP only); every other figure is the same whatever it says."""
    record = record or load_record(store, session_id)
    info, state, end = record.info, record.state(), record.end
    stored = store.signals(session_id)
    wanted = stored if signals is None else [s for s in stored if s in signals]
    by_signal = {s: store.track(session_id, s) for s in wanted}
    absolute = [r for r in rules if r.op and r.relative is None and r.limit is not None]
    signals = {
        s: SignalSummary(
            float(vs.min()),
            float(vs.max()),
            _seconds_outside(ts, vs, [r for r in absolute if r.signal == s]),
        )
        for s, (ts, vs) in sorted(by_signal.items())
    }
    peak_delta, peak_delta_hr = (_peak_above(state, by_signal, s) for s in ("NIBP_SYS", "HR"))
    infusion_s = sum(((e or end) - s) for s, e, _ in state.infusions)
    cadss, rass = _scores(state, "CADSS6"), _scores(state, "RASS")
    alarms = [a for a in record.alarms if not a.technical]
    hours = max((end - info.started_at) / 3600, 1e-9)
    acks = [a.acked_at - a.onset_t for a in alarms if a.acked_at is not None]
    by_priority = {p: sum(1 for a in alarms if a.priority == p) for p in ("HIGH", "MEDIUM", "LOW")}
    nuisance = sum(1 for a in alarms if a.end_t is not None and a.end_t - a.onset_t < NUISANCE_S)
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
        planned_mg_kg=_planned_mg_kg(record.events),
        peak_delta_hr=peak_delta_hr,
        pain_before=state.pre_infusion_score("PAIN_NRS"),
        pain_end=state.last_score("PAIN_NRS") if state.infusion_started_at else None,
        worst_nausea=max(nausea) if (nausea := _scores(state, "NAUSEA")) else None,
        medications=[
            (str(e.payload.get("drug", "")), str(e.payload.get("dose", "")))
            for e in record.events
            if e.kind == "medication"
        ],
        overrides=len(state.overrides),
    )


def _scores(state: SessionState, code: str) -> list[int]:
    return [a.scores[code] for a in state.assessments if code in a.scores]


def _peak_above(
    state: SessionState, by_signal: dict[str, tuple[np.ndarray, np.ndarray]], signal: str
) -> float | None:
    """The highest reading above the confirmed baseline (None without either)."""
    base = state.baseline.get(signal)
    values = by_signal.get(signal, (np.empty(0), np.empty(0)))[1]
    return float(values.max() - base) if base is not None and len(values) else None


def _planned_mg_kg(events: list[StoredEvent]) -> float | None:
    """The plan at creation: its total, or its rate over its duration."""
    plan = next((e.payload for e in events if e.kind == "session_created"), {})
    if plan.get("planned_total_mg_kg") is not None:
        return float(plan["planned_total_mg_kg"])
    rate, minutes = plan.get("planned_rate_mg_kg_h"), plan.get("planned_duration_min")
    return round(float(rate) * float(minutes) / 60, 4) if rate and minutes else None


def _or_none(score: int | None) -> str:
    return NONE if score is None else str(score)


def summary_items(summary: SessionSummary) -> list[tuple[str, str]]:
    """The summary as labelled lines, for the review page and the printed record alike."""
    s = summary
    items = [
        ("Dose", f"{s.dose_mg:.1f} mg ({s.dose_mg_kg:.2f} mg/kg)"),
        ("Planned", NONE if s.planned_mg_kg is None else f"{s.planned_mg_kg:.2f} mg/kg"),
        ("Infusion", duration(s.infusion_minutes * 60)),
        (
            "Baseline",
            ", ".join(with_unit(k, v) for k, v in sorted(s.baseline.items())) or "not confirmed",
        ),
        ("Peak ΔSBP", NONE if s.peak_delta_sbp is None else f"{s.peak_delta_sbp:+.0f} mmHg"),
        ("Peak ΔHR", NONE if s.peak_delta_hr is None else f"{s.peak_delta_hr:+.0f} /min"),
        ("Pain NRS", f"before {_or_none(s.pain_before)}, at the end {_or_none(s.pain_end)}"),
        ("Peak CADSS-6", NONE if s.peak_cadss6 is None else str(s.peak_cadss6)),
        ("Worst nausea (0-3)", _or_none(s.worst_nausea)),
        ("Worst RASS", NONE if s.worst_rass is None else f"{s.worst_rass:+d}"),
        (
            "Alarms",
            ", ".join(f"{k} {v}" for k, v in s.alarms_by_priority.items())
            + f" ({s.alarms_per_hour:g}/h)",
        ),
        (
            "Time to acknowledge",
            "none acknowledged"
            if s.ack_median_s is None
            else f"median {duration(s.ack_median_s)}, longest {duration(s.ack_max_s)}",
        ),
        ("Shorter than 10 s", f"{s.nuisance_alarms} (likely nuisance)"),
    ]
    for code, x in s.signals.items():
        unit = REGISTRY[code].unit if code in REGISTRY else ""
        outside = f"{duration(x.seconds_outside_limits)} outside limits"
        low, high = number(x.minimum), number(x.maximum)
        items.append((label(code), f"min {low}, max {high} {unit}, {outside}"))
    return items


ALARM_COLUMNS = (
    "onset",
    "alarm",
    "signal",
    "priority",
    "value",
    "worst",
    "limit",
    "acknowledged",
    "ended",
)


def alarm_cells(alarm: AlarmRecord, fmt: Callable[[float | None], str] = clock) -> list[str]:
    """One alarm history line, in ALARM_COLUMNS order."""
    a = alarm
    unit = REGISTRY[a.signal].unit if a.signal in REGISTRY else ""
    acked = (
        f"{a.acked_by or ''} after {duration(a.acked_at - a.onset_t)}"
        if a.acked_at is not None
        else "not acknowledged"
    )
    lasted = f" (lasted {duration(a.end_t - a.onset_t)})" if a.end_t is not None else ""
    return [
        fmt(a.onset_t),
        a.name,
        label(a.signal),
        a.priority if a.priority_now in (None, a.priority) else f"{a.priority} → {a.priority_now}",
        "" if a.onset_value is None else f"{a.onset_value:g} {unit}".strip(),
        "" if a.worst_value is None else f"{a.worst_value:g} {unit}".strip(),
        limit_text(a.op, a.limit_value),
        acked,
        (fmt(a.end_t) + lasted) if a.end_t is not None else "still active",
    ]
