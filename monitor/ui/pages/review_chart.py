"""The session record's chart: signal panels, rate and events, Cp/Ce, and an alarm lane.

SVG traces, not WebGL: WebGL's shader code generation needs `unsafe-eval`, which the page's
CSP forbids, and the server-side downsampling keeps each trace to about a thousand points,
which SVG draws quickly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monitor.pk import ANALGESIC_BAND, DISSOCIATIVE_BAND
from monitor.ports import ReviewSource
from monitor.review import DEFAULT_POINTS, SessionRecord, pk_curve, window, with_breaks
from monitor.session import SESSION_EVENTS, SessionEvent, rate_steps
from monitor.session_config import SessionConfig
from monitor.ui.live import TRACES

SIGNAL_TRACES = [tr for tr in TRACES if tr.signal not in ("RATE", "EVENT")]
ROW_UNITS = {1: "/min", 2: "%", 3: "mmHg", 4: "", 5: "mg/kg/h", 6: "ng/mL"}
WAVE_ROW, WAVE_UNIT = 7, "pleth %"
BAND_COLOURS = {"HIGH": "#ff1744", "MEDIUM": "#ffd600", "LOW": "#00e5ff"}


def signal_traces(
    store: ReviewSource, session_id: int, start: float | None = None, end: float | None = None
) -> tuple[list[dict[str, Any]], str, dict[int, str]]:
    """Every signal's trace for a time window, downsampled from the store, the resolution
    line, and the panels (row: unit) they need. The only part of the figure a zoom changes."""
    data, resolution = [], []
    rows = dict(ROW_UNITS)
    waves = store.signals(session_id, wave=True)
    if waves:
        rows[WAVE_ROW] = WAVE_UNIT
    specs = [(tr.signal, tr.name, tr.row, tr.color, tr.markers) for tr in SIGNAL_TRACES]
    specs += [(code, code.title(), WAVE_ROW, "#00e5ff", False) for code in waves]
    for signal, name, row, colour, markers in specs:
        w = window(store, session_id, signal, start, end, DEFAULT_POINTS)
        t, v = with_breaks(w.t, w.v, w.breaks)
        suffix = "" if row == 1 else str(row)
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers" if markers else "lines",
                "name": name,
                "x": _nullable(np.round(t * 1000), whole=True),
                "y": _nullable(np.round(v.astype(np.float64), 2)),
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "line": {"color": colour, "width": 1},
                "marker": {"size": 4},
            }
        )
        if w.raw_points:
            resolution.append(f"{name} {len(w.t)}/{w.raw_points} pts")
    return data, "Resolution: " + "; ".join(resolution), rows


def _nullable(values: np.ndarray, whole: bool = False) -> list[Any]:
    """JSON numbers, with None (a break in the line) for NaN; `whole` as ints (epoch ms)."""
    gaps = np.isnan(values)
    if not gaps.any():  # the usual case: numpy's own tolist
        return (values.astype(np.int64) if whole else values).tolist()  # type: ignore[no-any-return]
    out = (np.where(gaps, 0, values).astype(np.int64) if whole else values).astype(object)
    out[gaps] = None
    return out.tolist()  # type: ignore[no-any-return]


def review_figure(
    store: ReviewSource, record: SessionRecord, session: SessionConfig
) -> tuple[dict[str, Any], str]:
    """The whole-session figure: signal panels, then rate and events, then Cp/Ce, and the
    alarm lane at the bottom, on one shared clock-time axis."""
    data, resolution, rows = signal_traces(store, record.info.id)
    data += _session_traces(record, session)
    lane = str(max(rows) + 1)
    bars, onsets = _alarm_lane(record, lane)
    data.append(onsets)  # after the signals: a zoom patches those by position
    n = len(rows)
    lane_h = 0.45 / (n + 0.45)  # the lane is under half a panel high
    panel_h = (1 - lane_h) / n
    layout: dict[str, Any] = {
        "template": "plotly_dark",
        "height": 120 * n + 100,
        "hovermode": "closest",
        "margin": {"l": 52, "r": 12, "t": 8, "b": 28},
        "paper_bgcolor": "#000",
        "plot_bgcolor": "#050505",
        "shapes": bars + _reference_bands(),
    }
    for row, unit in rows.items():
        top = 1 - (row - 1) * panel_h
        layout["yaxis" if row == 1 else f"yaxis{row}"] = {
            "domain": [top - 0.8 * panel_h, top],
            "title": {"text": unit},
        }
        x = {"type": "date", "anchor": "y" if row == 1 else f"y{row}", "showticklabels": False}
        if row > 1:
            x["matches"] = "x"
        layout["xaxis" if row == 1 else f"xaxis{row}"] = x
    layout[f"yaxis{lane}"] = {
        "domain": [0, lane_h * 0.9],
        "range": [0, len(LANES)],
        "tickvals": [i + 0.5 for i in range(len(LANES))],
        "ticktext": ["Low", "Med", "High"],
        "showgrid": False,
        "zeroline": False,
        "fixedrange": True,
        "title": {"text": "alarms"},
    }
    layout[f"xaxis{lane}"] = {"type": "date", "anchor": f"y{lane}", "matches": "x"}
    return {"data": data, "layout": layout}, resolution


def _session_traces(record: SessionRecord, session: SessionConfig) -> list[dict[str, Any]]:
    """Infusion rate (step line) with event markers, and the Cp/Ce model estimate from the
    configured PK model, as on the bed page."""
    info = record.info
    events = [
        SessionEvent(e.t, e.kind, e.user, e.payload)
        for e in record.events
        if e.kind in SESSION_EVENTS
    ]
    steps = rate_steps(events)
    if not steps:
        return []
    end = info.ended_at or steps[-1][0]
    xs = [t * 1000 for t, _, _ in steps] + [end * 1000]
    ys = [r for _, r, _ in steps] + [steps[-1][1]]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Rate",
            "x": xs,
            "y": ys,
            "line": {"shape": "hv", "color": "#b39ddb"},
            "xaxis": "x5",
            "yaxis": "y5",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Events",
            "x": xs[:-1],
            "y": ys[:-1],
            "text": [k for _, _, k in steps],
            "marker": {"size": 8, "color": "#fff"},
            "xaxis": "x5",
            "yaxis": "y5",
        },
    ]
    curve = pk_curve(events, info.weight_kg, end, session)
    if curve:
        px = [t * 1000 for t, _, _ in curve]
        for name, ys_, colour in (
            ("Cp (model)", [cp for _, cp, _ in curve], "#ce93d8"),
            ("Ce (model)", [ce for _, _, ce in curve], "#80cbc4"),
        ):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": name,
                    "x": px,
                    "y": ys_,
                    "line": {"color": colour},
                    "xaxis": "x6",
                    "yaxis": "y6",
                }
            )
    return traces


LANES = ("LOW", "MEDIUM", "HIGH")  # bottom to top in the alarm lane


def _alarm_lane(record: SessionRecord, axis: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each alarm as a thin bar in its priority's row of the lane under the traces, and a
    marker at its onset that names it on hover."""
    bars, xs, ys, names = [], [], [], []
    for a in record.alarms:
        end = a.end_t or record.info.ended_at or a.onset_t + 1
        row = LANES.index(a.priority) if a.priority in LANES else 0
        bars.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": f"y{axis}",
                "x0": a.onset_t * 1000,
                "x1": end * 1000,
                "y0": row + 0.2,
                "y1": row + 0.8,
                "line": {"width": 0},
                "fillcolor": BAND_COLOURS.get(a.priority, BAND_COLOURS["LOW"]),
            }
        )
        xs.append(int(a.onset_t * 1000))
        ys.append(row + 0.5)
        names.append(f"{a.name} ({a.priority})")
    marker = {
        "type": "scatter",
        "mode": "markers",
        "name": "Alarms",
        "x": xs,
        "y": ys,
        "hovertext": names,
        "hoverinfo": "text+x",
        "marker": {"size": 5, "color": "#fff", "symbol": "line-ns-open"},
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
        "showlegend": False,
    }
    return bars, marker


def _reference_bands() -> list[dict[str, Any]]:
    """The analgesic and dissociative concentration ranges behind Cp/Ce (clinical.md §5.2)."""
    return [
        {
            "type": "rect",
            "xref": "x6 domain",
            "yref": "y6",
            "x0": 0,
            "x1": 1,
            "y0": lo,
            "y1": hi,
            "fillcolor": colour,
            "line": {"width": 0},
            "layer": "below",
        }
        for (lo, hi), colour in (
            (ANALGESIC_BAND, "rgba(129,199,132,0.12)"),
            (DISSOCIATIVE_BAND, "rgba(186,104,200,0.12)"),
        )
    ]
