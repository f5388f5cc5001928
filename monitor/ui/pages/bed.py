"""Bed page: large numerics, 15-minute trends, the alarm banner and the session controls.

One Interval drives one cursor-based server callback that returns only what is new.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from monitor.feed import CommandError, LiveFeed
from monitor.model import Reading, SessionInfo
from monitor.session import Phase, SessionView, rate_steps
from monitor.ui import live, session_panel, waveform
from monitor.ui.auth import Access
from monitor.ui.components import (
    alarm_controls,
    alarm_table,
    disclaimer,
    limit_form,
    limit_lines,
    numeric_tiles,
    simulation_banner,
)
from monitor.ui.session_panel import form_number
from monitor.ui.tiles import BED_TILES

TICK_MS = 1000


def session_text(session: SessionInfo | None, view: SessionView | None) -> str:
    if session is None or view is None:
        return "No session running: values are shown live but not recorded."
    started = live.measured_at(session.started_at)
    rate = (
        f"planned {view.rate_mg_kg_h:g}"
        if view.phase is Phase.PRE_INFUSION
        else f"{view.rate_mg_kg_h:g}"
    )
    return (
        f"Session {session.id} · {view.phase} {rate} mg/kg/h · "
        f"{session.weight_kg:g} kg · started {started}"
    )


def _cursor(
    bed: str,
    epoch: str,
    seq: int,
    readings: list[Reading],
    alarms: str,
    session: str | None,
    subs: list[str],
) -> dict[str, Any]:
    last_t = max((r.t for r in readings), default=0.0)
    return {
        "bed": bed,
        "epoch": epoch,
        "seq": seq,
        "t": last_t,
        "alarms": alarms,
        "session": session,
        "subs": subs,
    }


def layout(feed: LiveFeed, bed_id: str, pseudonym: Callable[[str], str] = str) -> Any:
    snap = feed.snapshot(bed_id)
    readings, seq = feed.window(bed_id, live.LIVE_WINDOW_S)
    lines, banner_class = live.banner(snap.alarms, snap.latest)
    subs = live.tile_subs(BED_TILES, snap.latest, snap.status)
    cursor = _cursor(
        bed_id,
        snap.bed.epoch,
        seq,
        readings,
        live.alarm_signature(snap.alarms, snap.latest),
        snap.session.id if snap.session else None,
        subs,
    )
    fresh = live.freshness(snap, BED_TILES, per_bed=False) | {"size": "big"}
    sim = snap.bed.source == "simulated"
    view = feed.session_view(bed_id)
    checklist = feed.checklist(bed_id)  # its manual items are always in the form
    events = feed.session_events(bed_id)
    cursor["ev"] = len(events)
    rate_points = live.session_points(
        rate_steps(events), snap.now - live.LIVE_WINDOW_S, snap.now if view else None
    )
    cursor["sview"] = session_panel.view_signature(view, snap.now, checklist)
    marks = feed.limit_marks(bed_id)
    cursor["limits"] = repr(sorted(marks.items()))
    cursor["session"] = session_text(snap.session, view)
    return html.Div(
        [
            simulation_banner() if sim else None,
            html.Div(
                [
                    html.H2(snap.bed.name, className="bed-title"),
                    dmc.Badge("SIMULATED", color="grape", variant="filled") if sim else None,
                    html.Div(cursor["session"], id="bed-session", className="session-line"),
                ],
                className="bed-header",
            ),
            html.Div(
                [html.Div(line) for line in lines],
                id="bed-banner",
                className=banner_class,
                role="alert",
                **{"aria-live": "assertive"},
            ),
            alarm_controls(),
            html.Div(
                numeric_tiles(
                    BED_TILES,
                    snap.latest,
                    snap.status,
                    bed=None,
                    size="big",
                    marks=marks,
                ),
                className="tile-grid",
            ),
            dcc.Graph(
                id="bed-wave",
                figure=waveform.strip_figure(),
                config={"displayModeBar": False, "responsive": True, "staticPlot": True},
                className="pleth-strip",
            ),
            dcc.Graph(
                id="bed-trend",
                figure=live.trend_figure(readings, rate_points),
                config={"displayModeBar": False, "responsive": True, "staticPlot": True},
            ),
            html.Div(
                [
                    html.H3("Alarms", className="section-title"),
                    html.Div(alarm_table(live.alarm_rows(snap.alarms)), id="bed-alarm-list"),
                    limit_form(feed.limits(bed_id)),
                ],
                className="alarm-panel",
            ),
            session_panel.panel(
                view,
                checklist,
                pseudonym(view.patient_ref) if view else "",
                feed.pre_infusion(bed_id),
            ),
            dcc.Store(id="bed-cursor", data=cursor),
            dcc.Store(id="bed-extend"),
            dcc.Store(id="bed-wave-data"),
            dcc.Store(id="bed-fresh", data=fresh),
            dcc.Interval(id="bed-tick", interval=TICK_MS),
            disclaimer(),
        ],
        className="bed-page",
    )


def register(app: Dash, feed: LiveFeed, access: Access) -> None:
    session_panel.register(app, feed, access)

    @access.callback(
        app,
        "live",
        Output("bed-extend", "data"),
        Output("bed-wave-data", "data"),
        Output("bed-cursor", "data"),
        Output({"type": "bed-value", "tile": ALL}, "children"),
        Output({"type": "bed-value", "tile": ALL}, "title"),
        Output({"type": "bed-sub", "tile": ALL}, "children"),
        Output({"type": "bed-limits", "tile": ALL}, "children"),
        Output("bed-fresh", "data"),
        Output("bed-banner", "children"),
        Output("bed-banner", "className"),
        Output("bed-session", "children"),
        Output("bed-alarm-list", "children"),
        Output("session-panel", "className"),
        Output("s-info", "children"),
        Output("s-due", "children"),
        Input("bed-tick", "n_intervals"),
        State("bed-cursor", "data"),
        prevent_initial_call=True,
    )
    def tick(_n: int, cursor: dict[str, Any]) -> tuple[Any, ...]:
        bed_id = cursor["bed"]
        snap = feed.snapshot(bed_id)
        waves: list[Any] = []
        if cursor.get("epoch") == snap.bed.epoch:
            delta = feed.delta(bed_id, int(cursor["seq"]))
            readings, seq, waves = delta.readings, delta.cursor, delta.waves
        else:  # the server restarted since this page loaded: continue by time instead
            window, seq = feed.window(bed_id, live.LIVE_WINDOW_S)
            readings = [r for r in window if r.t > float(cursor.get("t", 0.0))]
        wave_extend, wave_end = waveform.strip_extend(waves, float(cursor.get("wave_end", 0.0)))
        alarms_sig = live.alarm_signature(snap.alarms, snap.latest)
        subs = live.tile_subs(BED_TILES, snap.latest, snap.status)
        view = feed.session_view(bed_id)
        checklist = feed.checklist(bed_id) if view else []
        header = session_text(snap.session, view)
        sview = session_panel.view_signature(view, snap.now, checklist)
        new_cursor = _cursor(bed_id, snap.bed.epoch, seq, readings, alarms_sig, header, subs)
        new_cursor["sview"] = sview
        new_cursor["wave_end"] = wave_end
        marks = feed.limit_marks(bed_id)
        new_cursor["limits"] = repr(sorted(marks.items()))
        limits_changed = new_cursor["limits"] != cursor.get("limits")
        session_changed = sview != cursor.get("sview")
        events = feed.session_events(bed_id)
        seen = int(cursor.get("ev", 0))
        all_steps = rate_steps(events)
        steps = all_steps[seen if seen <= len(events) else 0 :]
        new_cursor["ev"] = len(events)
        extra = live.session_points(
            steps, -math.inf, snap.now if view else None, all_steps[-1][1] if all_steps else None
        )
        if not readings:
            new_cursor["t"] = cursor.get("t", 0.0)
        extend = live.extend_data(readings, snap.bed, extra)
        lines, banner_class = live.banner(snap.alarms, snap.latest)
        alarms_changed = alarms_sig != cursor.get("alarms")
        return (
            extend if extend is not None else no_update,
            wave_extend if wave_extend is not None else no_update,
            new_cursor,
            live.tile_texts(BED_TILES, snap.latest),
            live.tile_titles(BED_TILES, snap.latest),
            subs if subs != cursor.get("subs") else [no_update] * len(subs),
            [limit_lines(s, marks) for s in BED_TILES]
            if limits_changed
            else [no_update] * len(BED_TILES),
            live.freshness(snap, BED_TILES, per_bed=False) | {"size": "big"},
            [html.Div(line) for line in lines] if alarms_changed else no_update,
            banner_class if alarms_changed else no_update,
            header if header != cursor.get("session") else no_update,
            alarm_table(live.alarm_rows(snap.alarms)) if alarms_changed else no_update,
            session_panel.panel_class(view.phase if view else None)
            if session_changed
            else no_update,
            session_panel.info_lines(
                view, checklist, access.pseudonym(view.patient_ref) if view else ""
            )
            if session_changed
            else no_update,
            session_panel.due_text(view, snap.now) if session_changed else no_update,
        )

    @access.callback(
        app,
        "alarm",
        Output("bed-alarm-msg", "children"),
        Input("bed-ack", "n_clicks"),
        Input("bed-pause", "n_clicks"),
        Input("bed-reset", "n_clicks"),
        State("bed-cursor", "data"),
        prevent_initial_call=True,
    )
    def alarm_command(
        _a: int | None, _p: int | None, _r: int | None, cursor: dict[str, Any]
    ) -> str:
        bed_id = cursor["bed"]
        try:
            if ctx.triggered_id == "bed-ack":
                n = feed.acknowledge(bed_id, access.user())
                return f"Acknowledged {n} alarm(s)." if n else "Nothing to acknowledge."
            if ctx.triggered_id == "bed-pause":
                return f"Audio paused for {feed.pause_audio(bed_id, access.user()):.0f} s."
            n = feed.reset_alarms(bed_id, access.user())
            return f"Reset {n} latched alarm(s)." if n else "No latched alarm to reset."
        except CommandError as err:
            return str(err)

    @access.callback(
        app,
        "live",
        Output("limit-msg", "children"),
        Output("limit-msg", "className"),
        Input("limit-change", "n_clicks"),
        State("limit-alarm", "value"),
        State("limit-value", "value"),
        State("limit-reason", "value"),
        State("bed-cursor", "data"),
        prevent_initial_call=True,
    )
    def change_limit(
        _n: int | None, name: str | None, value: Any, reason: str | None, cursor: dict[str, Any]
    ) -> tuple[str, str]:
        try:
            if not name:
                raise CommandError("choose an alarm")
            limit = form_number(value, "new limit")
            access.require("limits")  # the form is on every bed page: refuse with a reason
            old = feed.change_limit(cursor["bed"], name, limit, access.user(), reason or "")
            return f"{name}: {old:g} → {limit:g}, logged.", "form-msg ok"
        except CommandError as err:
            return str(err), "form-msg error"

    # New trend points reach the graph one frame after the rest of the tick, so the numbers and
    # the alarm banner are painted before Plotly redraws (its redraw can take a few hundred ms
    # on a slow ward PC and would otherwise hold back the alarm).
    access.clientside(
        app,
        "live",
        """function(extend) {
            const fresh = window.monitorOnlyNew('trend' + location.pathname, extend);
            if (!fresh) { return window.dash_clientside.no_update; }
            return new Promise(resolve => requestAnimationFrame(() =>
                setTimeout(() => resolve(fresh), 0)));
        }""",
        Output("bed-trend", "extendData"),
        Input("bed-extend", "data"),
        prevent_initial_call=True,
    )

    access.clientside(
        app,
        "live",
        """function(extend) {
            const fresh = window.monitorOnlyNew('pleth' + location.pathname, extend);
            return fresh || window.dash_clientside.no_update;
        }""",
        Output("bed-wave", "extendData"),
        Input("bed-wave-data", "data"),
        prevent_initial_call=True,
    )

    access.clientside(
        app,
        "live",
        "function(n, fresh) { return window.monitorAudio.follow(fresh); }",
        Output("bed-pause-left", "children"),
        Input("bed-tick", "n_intervals"),
        Input("bed-fresh", "data"),
    )

    access.clientside(
        app,
        "live",
        "function(n, fresh, ids) { return window.monitorFreshness(fresh, ids, 'bed'); }",
        Output({"type": "bed-tile", "tile": ALL}, "className"),
        Output({"type": "bed-age", "tile": ALL}, "children"),
        Input("bed-tick", "n_intervals"),
        Input("bed-fresh", "data"),
        State({"type": "bed-tile", "tile": ALL}, "id"),
    )
