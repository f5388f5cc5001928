"""A patient's series (/patients/<pseudonym>): one row per infusion, pain and dose across
the series, the plan for the next infusion, and the series CSV and PDF.

The page names the patient by pseudonym only; the rows come from monitor/series_rows.py
(the record's own summary). The chart is SVG (no WebGL: the CSP forbids `unsafe-eval`).
"""

from __future__ import annotations

import re
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from monitor.config import AlarmRule
from monitor.ports import ReviewSource, ReviewSteps
from monitor.record_words import clock
from monitor.series import Plan, plan_next
from monitor.series_rows import (
    SeriesRow,
    plan_of,
    series_csv,
    series_plan,
    series_rows,
    series_sessions,
)
from monitor.session import SessionError
from monitor.signals import colour
from monitor.ui.auth import Access

PATIENT_PATH = re.compile(r"^/patients/(P-[0-9A-F]{6})$")
HEAD = (
    "date", "indication", "regimen", "planned mg/kg", "given mg/kg", "infusion", "pain before",
    "pain end",
    "pain at follow-up", "ΔSBP", "ΔHR", "CADSS-6", "RASS", "nausea", "antiemetics",
    "other medications", "H/M alarms", "overrides", "days since last",
)  # fmt: skip


def _opt(value: float | int | None, fmt: str = "{}") -> str:
    return "–" if value is None else fmt.format(value)


def row_cells(row: SeriesRow) -> list[Any]:
    s = row.summary
    alarms = s.alarms_by_priority
    return [
        dcc.Link(clock(row.info.started_at)[:10], href=f"/review/{row.info.id}"),
        row.info.indication,
        row.info.regimen,
        _opt(s.planned_mg_kg, "{:.2f}"),
        f"{s.dose_mg_kg:.2f}",
        f"{s.infusion_minutes:.0f} min",
        _opt(s.pain_before),
        _opt(s.pain_end),
        ", ".join(f"{f.pain_nrs} ({f.days_after:g} d)" for f in row.follow_ups) or "–",
        _opt(s.peak_delta_sbp, "{:+.0f} mmHg"),
        _opt(s.peak_delta_hr, "{:+.0f} /min"),
        _opt(s.peak_cadss6),
        _opt(s.worst_rass, "{:+d}"),
        _opt(s.worst_nausea),
        "; ".join(row.antiemetics) or "–",
        "; ".join(row.other_medications) or "–",
        f"{alarms.get('HIGH', 0)}/{alarms.get('MEDIUM', 0)}",
        str(s.overrides),
        _opt(row.days_since_previous, "{:g}"),
    ]


def series_figure(rows: list[SeriesRow]) -> dict[str, Any]:
    """Pain before, at the end and at follow-up (left axis), dose given (right axis); a thin
    line marks each session."""
    red, purple = colour("PAIN_NRS"), colour("DOSE")
    ms = [row.info.started_at * 1000 for row in rows]

    follow = [(f.t * 1000, f.pain_nrs) for r in rows for f in r.follow_ups]
    data = [
        {"type": "bar", "name": "dose given (mg/kg)", "x": ms, "yaxis": "y2",
         "y": [r.summary.dose_mg_kg for r in rows], "marker": {"color": purple},
         "opacity": 0.45, "width": 86_400_000 * 1.5},
        {"type": "scatter", "mode": "lines+markers", "name": "pain before", "x": ms,
         "y": [r.summary.pain_before for r in rows], "line": {"color": red}},
        {"type": "scatter", "mode": "markers", "name": "pain at the end", "x": ms,
         "y": [r.summary.pain_end for r in rows],
         "marker": {"color": red, "symbol": "square-open", "size": 9}},
        {"type": "scatter", "mode": "markers", "name": "pain at follow-up",
         "x": [t for t, _ in follow], "y": [v for _, v in follow],
         "marker": {"color": red, "symbol": "x", "size": 9}},
    ]  # fmt: skip
    shapes = [
        {"type": "line", "xref": "x", "yref": "paper", "x0": t, "x1": t, "y0": 0, "y1": 1,
         "line": {"color": "#616161", "width": 1, "dash": "dot"}}
        for t in ms
    ]  # fmt: skip
    layout = {
        "template": "plotly_dark",
        "height": 320,
        "margin": {"l": 50, "r": 50, "t": 20, "b": 40},
        "xaxis": {"type": "date"},
        "yaxis": {"title": {"text": "pain NRS"}, "range": [-0.5, 10.5]},
        "yaxis2": {"title": {"text": "mg/kg"}, "overlaying": "y", "side": "right",
                   "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.2},
        "shapes": shapes,
        "paper_bgcolor": "#000000",
        "plot_bgcolor": "#000000",
    }  # fmt: skip
    return {"data": data, "layout": layout}


def plan_words(plan: Plan | None, now: float) -> str:
    if plan is None:
        return "No plan for the next infusion yet."
    window = f"{clock(plan.due_from)[:10]} to {clock(plan.due_by)[:10]}"
    state = (
        "overdue"
        if now > plan.due_by
        else "due now"
        if now >= plan.due_from
        else f"in {int((plan.due_from - now) // 86400) + 1} days"
    )
    return (
        f"Next infusion {window} ({state}); every {plan.interval_min_days}-"
        f"{plan.interval_max_days} days. Plan by {plan.user} {clock(plan.t)}: "
        f"{plan.note or 'no note'}"
    )


def series_layout(
    store: ReviewSource, rules: list[AlarmRule], access: Access, pseudonym: str
) -> Any:
    sessions = series_sessions(store, access.pseudonym, pseudonym)
    if not sessions:
        return html.Div([html.H2(f"Patient {pseudonym}"), html.P("No infusions recorded.")])
    rows = series_rows(store, sessions, rules)
    indications = sorted({r.info.indication for r in rows if r.info.indication})
    closed = [r for r in rows if r.info.ended_at is not None]
    table = html.Table(
        [
            html.Tr([html.Th(h) for h in HEAD]),
            *(
                html.Tr([html.Td(c) for c in row_cells(r)], className="in-error" * r.in_error)
                for r in rows
            ),
        ],
        className="alarm-list",
        id="pt-table",
    )
    return html.Div(
        [
            html.H2(f"Patient {pseudonym} · {len(rows)} infusions · {', '.join(indications)}"),
            html.P(plan_words(plan_of(rows), time.time()), id="pt-plan"),
            dcc.Graph(id="pt-chart", figure=series_figure(rows), config={"displaylogo": False}),
            table,
            html.H3("Plan the next infusion"),
            dmc.Group(
                [
                    dmc.NumberInput(id="pt-from", label="Every (days) from", w=150),
                    dmc.NumberInput(id="pt-to", label="to", w=110),
                    dmc.TextInput(id="pt-note", label="Plan (dose, changes)", w=420),
                    dmc.Button("Save plan", id="pt-save"),
                ],
                align="flex-end",
            ),
            html.Div(id="pt-msg", role="status", className="form-status"),
            html.H3("Export"),
            dmc.Group(
                [
                    dmc.Button("Series CSV", id="pt-csv", variant="outline"),
                    dmc.Button("Series PDF", id="pt-pdf", variant="outline"),
                ]
            ),
            dcc.Loading(html.Div(id="pt-export-msg", className="form-status"), type="dot"),
            dcc.Download(id="pt-download"),
            dcc.Store(id="pt-key", data=pseudonym),
            dcc.Store(id="pt-last", data=closed[-1].info.id if closed else None),
        ],
        className="series-page",
    )


def register(
    app: Dash, store: ReviewSource, steps: ReviewSteps, rules: list[AlarmRule], access: Access
) -> None:
    @access.callback(
        app,
        "review",
        Output("pt-msg", "children"),
        Output("pt-plan", "children"),
        Input("pt-save", "n_clicks"),
        State("pt-from", "value"),
        State("pt-to", "value"),
        State("pt-note", "value"),
        State("pt-key", "data"),
        State("pt-last", "data"),
        prevent_initial_call=True,
    )
    def save_plan(_n: int, low: Any, high: Any, note: Any, key: str, last: int | None) -> Any:
        if last is None:
            return "The plan follows a closed infusion; none yet.", no_update
        info, events = store.session(last), store.events(last)
        raw = {"interval_min_days": low, "interval_max_days": high, "note": note}
        try:
            kind, payload = plan_next(info, events, access.acting_role(), raw)
        except SessionError as err:
            return str(err), no_update
        steps.add_event(last, info.bed, time.time(), kind, access.user(), payload)
        plan = series_plan(store, series_sessions(store, access.pseudonym, key))
        return "Plan saved.", plan_words(plan, time.time())

    @access.callback(
        app,
        "export",
        Output("pt-download", "data"),
        Output("pt-export-msg", "children"),
        Input("pt-csv", "n_clicks"),
        Input("pt-pdf", "n_clicks"),
        State("pt-key", "data"),
        prevent_initial_call=True,
    )
    def export(_csv: int | None, _pdf: int | None, key: str) -> tuple[Any, str]:
        sessions = series_sessions(store, access.pseudonym, key)
        rows = series_rows(store, sessions, rules)
        fmt = "pdf" if ctx.triggered_id == "pt-pdf" else "csv"
        store.audit(time.time(), access.user(), "export", {"series": key, "format": fmt})
        name = f"series-{key}-{datetime.now():%Y%m%d}"
        if fmt == "csv":
            return dcc.send_string(series_csv(rows), f"{name}.csv"), f"Exported {name}.csv"
        from monitor.report import ReportError
        from monitor.series_report import write_series_pdf  # matplotlib: on first use

        reference = sessions[-1].patient_ref if sessions else key
        with tempfile.TemporaryDirectory() as tmp:
            try:
                out = write_series_pdf(rows, plan_of(rows), reference, Path(tmp) / f"{name}.pdf")
            except ReportError as err:
                return no_update, str(err)
            return dcc.send_file(str(out)), f"Exported {name}.pdf"


def plan_hint(store: ReviewSource, access: Access, patient_ref: str | None) -> str:
    """The last plan of this patient's series, offered beside the new session's form: a
    suggestion to read, never filled in or applied by itself."""
    ref = (patient_ref or "").strip()
    if not ref:
        return ""
    sessions = series_sessions(store, access.pseudonym, access.pseudonym(ref))
    plan = series_plan(store, sessions)
    if plan is None:
        return ""
    return (
        f"Plan from the last infusion ({plan.user}, {clock(plan.t)[:10]}): every "
        f"{plan.interval_min_days}-{plan.interval_max_days} days; {plan.note or 'no note'}. "
        "A suggestion: enter the plan yourself."
    )


def register_plan_hint(app: Dash, store: ReviewSource, access: Access) -> None:
    @access.callback(
        app,
        "session",
        Output("s-plan-hint", "children"),
        Input("s-patient", "value"),
        prevent_initial_call=True,
    )
    def hint(patient_ref: str | None) -> str:
        return plan_hint(store, access, patient_ref)
