"""Pure builders for the live pages: initial figures and the per-tick payload.

Figures are plain dicts (graph-object validation costs ~60x more per tick; dash.md §1.1).
After the first render only new points travel, as `extendData` with `maxPoints`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from monitor.feed import BedInfo
from monitor.model import ActiveAlarm, Reading
from monitor.signals import colour
from monitor.ui import alarm_words
from monitor.ui.tiles import TileSpec, format_sub, format_tile

LIVE_WINDOW_S = 15 * 60
MIN_STALE_S = 3.0


@dataclass(frozen=True, slots=True)
class Trace:
    signal: str
    name: str
    color: str
    row: int
    markers: bool = False


TRACES: tuple[Trace, ...] = (
    Trace("HR", "HR", colour("HR"), 1),
    Trace("PR", "PR", colour("PR"), 1),
    Trace("SPO2", "SpO₂", colour("SPO2"), 2),
    Trace("NIBP_SYS", "Sys", colour("NIBP_SYS"), 3, markers=True),
    Trace("NIBP_MEAN", "Mean", colour("NIBP_MEAN"), 3, markers=True),
    Trace("NIBP_DIA", "Dia", colour("NIBP_DIA"), 3, markers=True),
    Trace("RR", "RR", colour("RR"), 4),
    Trace("ETCO2", "EtCO₂", colour("ETCO2"), 4),
    Trace("RATE", "Rate mg/kg/h", "#b39ddb", 5),
    Trace("EVENT", "Events", "#ffffff", 5, markers=True),
)
TRACE_INDEX = {tr.signal: i for i, tr in enumerate(TRACES)}
# Normal span each panel always shows; the axis grows if values leave it.
ROWS = {
    1: ("/min", (40, 140)),
    2: ("%", (88, 100)),
    3: ("mmHg", (50, 180)),
    4: ("", (0, 50)),
    5: ("mg/kg/h", (0, 1)),
}
# Points per tick for the session rows: one rate point, and the odd event marker.
SESSION_TRACE_POINTS = {"RATE": LIVE_WINDOW_S + 2, "EVENT": 100}
Point = tuple[float, str, float]  # (t, trace code, value): session rows of the trend


def stale_after_s(interval_s: float) -> float:
    """A value is shown as NO DATA once older than twice its expected interval (at least 3 s)."""
    return max(MIN_STALE_S, 2 * interval_s)


def max_points(bed: BedInfo) -> list[int]:
    """Points per trace that cover the live window at the signal's expected rate."""
    return [
        SESSION_TRACE_POINTS.get(tr.signal)
        or math.ceil(LIVE_WINDOW_S / bed.expected_interval_s.get(tr.signal, 1.0)) + 2
        for tr in TRACES
    ]


def _ms(t: float) -> int:
    return int(round(t * 1000))


def _points(readings: list[Reading], extra: list[Point]) -> list[Point]:
    return [(r.t, r.signal, r.value) for r in readings] + extra


def trend_figure(readings: list[Reading], extra: list[Point] | None = None) -> dict[str, Any]:
    """The initial 15-minute trend figure: vitals in four stacked panels and the infusion rate
    (a step line, with session events as markers) under them, sharing one time axis."""
    xs: list[list[int]] = [[] for _ in TRACES]
    ys: list[list[float]] = [[] for _ in TRACES]
    for t, code, value in _points(readings, extra or []):
        i = TRACE_INDEX.get(code)
        if i is not None:
            xs[i].append(_ms(t))
            ys[i].append(value)
    n_rows = len(ROWS)
    gap = 0.04
    height = (1 - gap * (n_rows - 1)) / n_rows
    layout: dict[str, Any] = {
        "template": None,
        "paper_bgcolor": "#000",
        "plot_bgcolor": "#050505",
        "font": {"color": "#cfd8dc", "size": 11},
        "margin": {"l": 48, "r": 12, "t": 8, "b": 28},
        "height": 500,
        "showlegend": True,
        "legend": {"orientation": "h", "y": 1.04, "x": 0, "font": {"size": 11}},
        "uirevision": "live",
        "hovermode": False,
    }
    for row, (unit, span) in ROWS.items():
        axis = "yaxis" if row == 1 else f"yaxis{row}"
        top = 1 - (row - 1) * (height + gap)
        layout[axis] = {
            "domain": [top - height, top],
            "title": {"text": unit, "font": {"size": 10}},
            "autorangeoptions": {"include": list(span)},
            "gridcolor": "#1e272c",
            "zeroline": False,
            "fixedrange": True,
        }
        xaxis: dict[str, Any] = {
            "type": "date",
            "anchor": "y" if row == 1 else f"y{row}",
            "showticklabels": row == n_rows,
            "gridcolor": "#1e272c",
        }
        if row > 1:
            xaxis["matches"] = "x"
        layout["xaxis" if row == 1 else f"xaxis{row}"] = xaxis
    data = []
    for i, tr in enumerate(TRACES):
        suffix = "" if tr.row == 1 else str(tr.row)
        data.append(
            {
                "type": "scatter",
                "mode": "markers"
                if tr.signal == "EVENT"
                else ("lines+markers" if tr.markers else "lines"),
                "name": tr.name,
                "x": xs[i],
                "y": ys[i],
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "line": {
                    "color": tr.color,
                    "width": 1.5,
                    "shape": "hv" if tr.signal == "RATE" else "linear",
                },
                "marker": {"size": 6, "color": tr.color},
                "hoverinfo": "skip",
            }
        )
    return {"data": data, "layout": layout}


def extend_data(
    readings: list[Reading], bed: BedInfo, extra: list[Point] | None = None
) -> list[Any] | None:
    """`[update, trace_indices, maxPoints]` for dcc.Graph.extendData, or None if nothing new."""
    xs: dict[int, list[int]] = {}
    ys: dict[int, list[float]] = {}
    for t, code, value in _points(readings, extra or []):
        i = TRACE_INDEX.get(code)
        if i is None:
            continue
        xs.setdefault(i, []).append(_ms(t))
        ys.setdefault(i, []).append(value)
    if not xs:
        return None
    indices = sorted(xs)
    caps = max_points(bed)
    per_trace = [caps[i] for i in indices]
    return [
        {"x": [xs[i] for i in indices], "y": [ys[i] for i in indices]},
        indices,
        {"x": per_trace, "y": per_trace},
    ]


def measured_at(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def tile_texts(specs: tuple[TileSpec, ...], latest: dict[str, Reading]) -> list[str]:
    return [format_tile(s, latest) for s in specs]


def tile_subs(
    specs: tuple[TileSpec, ...], latest: dict[str, Reading], status: dict[str, str]
) -> list[str]:
    return [format_sub(s, latest, status) for s in specs]


def tile_titles(specs: tuple[TileSpec, ...], latest: dict[str, Reading]) -> list[str]:
    """Hover text naming when each value was measured."""
    out = []
    for s in specs:
        r = latest.get(s.primary)
        out.append(f"{s.label} measured {measured_at(r.t)}" if r else f"{s.label}: no value yet")
    return out


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


def alarm_text(a: ActiveAlarm, latest: dict[str, Reading] | None = None) -> str:
    """The alarm in clinical words (monitor.ui.alarm_words)."""
    return alarm_words.alarm_line(a, latest)


def banner(
    alarms: list[ActiveAlarm], latest: dict[str, Reading] | None = None
) -> tuple[list[str], str]:
    """Banner lines (most urgent first, one a signal and tier) and its class: the colour of
    the highest priority."""
    if not alarms:
        return [], "banner banner-none"
    lines = [alarm_text(a, latest) for a in alarm_words.one_per_tier(alarms)]
    return lines, f"banner banner-{alarms[0].priority.name.lower()}"


def alarm_signature(alarms: list[ActiveAlarm], latest: dict[str, Reading] | None = None) -> str:
    """Changes whenever anything the banner or the alarm list shows changes (the value now of
    an alarmed signal included)."""
    now = latest or {}
    return ";".join(
        f"{a.name}@{a.onset_t:.3f}:{a.priority.name}:{a.display}:{a.acked_by}:{a.worst_value}"
        f":{now[a.signal].value if a.signal in now else ''}"
        for a in alarms
    )


def alarm_rows(alarms: list[ActiveAlarm]) -> list[dict[str, str]]:
    """The bed's alarm list, one row per alarm on the screen."""
    return [
        {
            "priority": a.priority.name,
            "alarm": a.name,
            "state": str(a.display),
            "since": measured_at(a.onset_t),
            "onset": _num(a.onset_value),
            "worst": _num(a.worst_value),
            "limit": f"{a.op} {_num(a.limit)}" if a.limit is not None else "",
            "acknowledged by": a.acked_by or "",
        }
        for a in alarms
    ]


def session_points(
    steps: list[tuple[float, float, str]],
    since: float,
    now: float | None,
    current_rate: float | None = None,
) -> list[Point]:
    """Rate steps and event markers after `since`; with `now`, the current rate carried on to
    now so the step line reaches the right edge."""
    out: list[Point] = []
    for t, rate, _kind in steps:
        if t > since:
            out += [(t, "RATE", rate), (t, "EVENT", rate)]
    if now is not None and current_rate is not None:
        out.append((now, "RATE", current_rate))
    return out
