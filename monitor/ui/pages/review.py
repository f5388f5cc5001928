"""Physician review: the session list and one session's full record.

Zoom and pan re-query and re-downsample on the server (stateless: any worker can answer), and
return a Patch of the trace data only.
"""

from __future__ import annotations

import calendar
import tempfile
import time
from pathlib import Path
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, Patch, State, dcc, html, no_update

from monitor.config import AlarmRule
from monitor.exports import ExportError, export_session, readings_csv
from monitor.model import AlarmRecord
from monitor.ports import ReviewSource
from monitor.record_review import record_line
from monitor.record_words import clock
from monitor.review import (
    ALARM_COLUMNS,
    SessionSummary,
    alarm_cells,
    load_record,
    summarize,
    summary_items,
)
from monitor.session_config import SessionConfig
from monitor.ui.auth import Access
from monitor.ui.pages.follow_up import follow_up_panel
from monitor.ui.pages.review_chart import review_figure, signal_traces
from monitor.ui.pages.review_signoff import signoff_panel
from monitor.ui.pages.review_tables import record_tables

SESSION_COLUMNS = (
    "session",
    "bed",
    "patient",
    "source",
    "start",
    "duration",
    "outcome",
    "weight",
    "dose",
    "alarms (H/M/L)",
    "review",
)
EXPORT_LABELS = {
    "csv": "CSV readings",
    "parquet": "Parquet readings",
    "vital": "VitalDB .vital",
    "hl7": "HL7 v2.6 ORU^R01",
    "pdf": "PDF session record",
}


def sessions_layout(store: ReviewSource) -> Any:
    beds = sorted({s.bed for s in store.sessions()})
    return html.Div(
        [
            html.H2("Sessions"),
            dmc.Group(
                [
                    dmc.Select(id="sl-bed", label="Bed", data=beds, clearable=True, w=180),
                    dmc.TextInput(id="sl-patient", label="Patient", w=180),
                    dmc.Select(
                        id="sl-source",
                        label="Source",
                        data=["live", "simulated"],
                        clearable=True,
                        w=160,
                    ),
                    dmc.DatePickerInput(
                        id="sl-from", label="From", valueFormat="YYYY-MM-DD", clearable=True, w=160
                    ),
                    dmc.DatePickerInput(
                        id="sl-to", label="To", valueFormat="YYYY-MM-DD", clearable=True, w=160
                    ),
                    dmc.Checkbox(id="sl-high", label="Has HIGH alarms", mt="lg"),
                    dmc.Select(
                        id="sl-sort",
                        label="Sort",
                        value="newest",
                        w=180,
                        data=[
                            {"value": "newest", "label": "Newest first"},
                            {"value": "oldest", "label": "Oldest first"},
                            {"value": "longest", "label": "Longest first"},
                        ],
                    ),
                ],
                align="flex-end",
            ),
            html.Div(id="sl-table", className="session-list"),
        ],
        className="sessions-page",
    )


def _summary_block(summary: SessionSummary) -> html.Table:
    rows = [html.Tr([html.Th(k), html.Td(v)]) for k, v in summary_items(summary)]
    return html.Table(rows, className="summary-table")


def review_layout(
    store: ReviewSource,
    session_id: int,
    rules: list[AlarmRule],
    session: SessionConfig,
    access: Access | None = None,
) -> Any:
    record = load_record(store, session_id)
    info = record.info
    figure, resolution = review_figure(store, record, session)
    alarm_rows = [html.Tr([html.Td(c) for c in alarm_cells(r)]) for r in record.alarms]
    return html.Div(
        [
            html.H2(
                f"Session {session_id} · {info.bed} · {info.source} · {clock(info.started_at)}"
                f" – {clock(info.ended_at)}"
                + (f" · patient {access.pseudonym(info.patient_ref)}" if access else "")
            ),
            html.Div(
                _summary_block(summarize(store, session_id, rules, record)), className="summary"
            ),
            html.Div(resolution, id="rv-resolution", className="resolution"),
            dcc.Graph(id="rv-trend", figure=figure, config={"displaylogo": False}),
            signoff_panel(record),
            follow_up_panel(record, _series_href(info.patient_ref, access)),
            *record_tables(record),
            html.H3("Alarm history"),
            html.Table(
                [html.Tr([html.Th(h) for h in ALARM_COLUMNS])] + alarm_rows,
                id="rv-alarms",
                className="alarm-list",
            ),
            html.H3("Export"),
            dmc.Group(
                [
                    dmc.Select(
                        id="rv-format",
                        label="Format",
                        value="csv",
                        w=240,
                        allowDeselect=False,
                        data=[{"value": f, "label": label} for f, label in EXPORT_LABELS.items()],
                    ),
                    dmc.Checkbox(
                        id="rv-include-sim",
                        label="Include this simulated session in a clinical export",
                        display="flex" if info.source == "simulated" else "none",
                        mb=8,
                    ),
                    dmc.Button("Export", id="rv-export"),
                ],
                align="flex-end",
            ),
            dcc.Loading(
                html.Div(id="rv-export-status", className="form-status"),
                type="dot",
                color="#00e5ff",
            ),
            dcc.Download(id="rv-download"),
            dcc.Store(id="rv-session", data=session_id),
        ],
        className="review-page",
    )


def _series_href(patient_ref: str, access: Access | None) -> str | None:
    return f"/patients/{access.pseudonym(patient_ref)}" if access and patient_ref else None


def register(app: Dash, store: ReviewSource, rules: list[AlarmRule], access: Access) -> None:
    @access.callback(
        app,
        "review",
        Output("sl-table", "children"),
        Input("sl-bed", "value"),
        Input("sl-patient", "value"),
        Input("sl-source", "value"),
        Input("sl-high", "checked"),
        Input("sl-sort", "value"),
        Input("sl-from", "value"),
        Input("sl-to", "value"),
    )
    def session_list(
        bed: str | None,
        patient: str | None,
        source: str | None,
        high: bool | None,
        sort: str | None,
        day_from: str | None,
        day_to: str | None,
    ) -> Any:
        rows = store.sessions(bed)
        try:
            lo, hi = _day(day_from), _day(day_to)
        except ValueError:
            return html.Div("Dates are YYYY-MM-DD, e.g. 2026-11-22.", className="form-msg error")
        if lo is not None:
            rows = [s for s in rows if s.started_at >= lo]
        if hi is not None:
            rows = [s for s in rows if s.started_at < hi + 86400]
        if patient:
            rows = [
                s
                for s in rows
                if s.patient_ref
                and (
                    patient.lower() in s.patient_ref.lower()
                    or patient.strip().upper() == access.pseudonym(s.patient_ref)
                )
            ]
        if source:
            rows = [s for s in rows if s.source == source]
        if high:
            with_high = {a.session_id for a in store.alarms(priority="HIGH")}
            rows = [s for s in rows if s.id in with_high]
        now = time.time()
        key = {
            "oldest": lambda s: s.started_at,
            "longest": lambda s: -((s.ended_at or now) - s.started_at),
        }.get(sort or "newest", lambda s: -s.started_at)
        rows.sort(key=key)
        by_session: dict[int | None, list[AlarmRecord]] = {}
        for a in store.alarms():
            by_session.setdefault(a.session_id, []).append(a)
        head = html.Tr([html.Th(h) for h in SESSION_COLUMNS])
        body = []
        for s in rows:
            line = record_line(s, store.events(s.id), by_session.get(s.id, []), now)
            cells = [
                dcc.Link(f"Session {s.id}", href=f"/review/{s.id}"),
                s.bed,
                dcc.Link(access.pseudonym(s.patient_ref), href=_series_href(s.patient_ref, access))
                if s.source == "live" and s.patient_ref
                else access.pseudonym(s.patient_ref),
                s.source,
                clock(s.started_at),
                line.duration,
                line.outcome,
                line.weight,
                line.dose,
                line.alarms,
                line.review,
            ]
            body.append(
                html.Tr([html.Td(c) for c in cells], className="in-error" if line.in_error else "")
            )
        return html.Table([head, *body], className="alarm-list")

    @access.callback(
        app,
        "review",
        Output("rv-trend", "figure"),
        Output("rv-resolution", "children"),
        Input("rv-trend", "relayoutData"),
        State("rv-session", "data"),
        prevent_initial_call=True,
    )
    def zoom(relayout: dict[str, Any] | None, session_id: int) -> tuple[Any, Any]:
        return zoom_patch(store, session_id, relayout)

    @access.callback(
        app,
        "export",
        Output("rv-download", "data"),
        Output("rv-export-status", "children"),
        Input("rv-export", "n_clicks"),
        State("rv-format", "value"),
        State("rv-include-sim", "checked"),
        State("rv-session", "data"),
        prevent_initial_call=True,
    )
    def export(_n: int, fmt: str, include_sim: bool | None, session_id: int) -> tuple[Any, str]:
        """The export runs in the request; dcc.Loading shows it is working meanwhile."""
        info = store.session(session_id)
        name = f"session-{session_id}{'-SIMULATED' if info.source == 'simulated' else ''}"
        store.audit(time.time(), access.user(), "export", {"session": session_id, "format": fmt})
        if fmt == "csv":  # the readings alone, straight from memory
            text = readings_csv(store, session_id)
            return dcc.send_string(text, f"{name}.csv"), f"Exported {name}.csv"
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f"{name}.{fmt}"
            try:
                export_session(
                    store, session_id, fmt, out, rules, include_simulated=bool(include_sim)
                )
            except ExportError as err:
                return no_update, str(err)
            return dcc.send_file(str(out)), f"Exported {out.name}"


def zoom_patch(
    store: ReviewSource, session_id: int, relayout: dict[str, Any] | None
) -> tuple[Any, Any]:
    """The trace data for a zoomed or panned time range, re-downsampled from the store."""
    if not relayout:
        return no_update, no_update
    start = relayout.get("xaxis.range[0]") or (relayout.get("xaxis.range") or [None])[0]
    end = relayout.get("xaxis.range[1]") or (relayout.get("xaxis.range") or [None, None])[1]
    if relayout.get("xaxis.autorange"):
        start = end = None
    elif start is None or end is None:
        return no_update, no_update
    t0 = None if start is None else _parse_time(start)
    t1 = None if end is None else _parse_time(end)
    traces, resolution, _ = signal_traces(store, session_id, t0, t1)
    patch = Patch()
    for i, trace in enumerate(traces):  # they come first in the figure, in this order
        patch["data"][i]["x"] = trace["x"]
        patch["data"][i]["y"] = trace["y"]
    return patch, resolution


def _day(text: str | None) -> float | None:
    """Local midnight of a YYYY-MM-DD date; raises ValueError for anything else."""
    if not text:
        return None
    return time.mktime(time.strptime(text.strip(), "%Y-%m-%d"))


def _parse_time(value: Any) -> float:
    """Plotly sends date-axis ranges as 'YYYY-MM-DD HH:MM:SS.fff' strings, in UTC for
    epoch-millisecond data."""
    if isinstance(value, (int, float)):
        return float(value) / 1000
    text = str(value).replace("T", " ")
    base, _, frac = text.partition(".")
    fmt = "%Y-%m-%d %H:%M:%S" if base.count(":") == 2 else "%Y-%m-%d %H:%M"
    return calendar.timegm(time.strptime(base, fmt)) + (float("0." + frac) if frac else 0.0)
