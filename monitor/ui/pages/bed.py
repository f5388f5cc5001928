"""Bed page: large numerics, wave strips, 15-minute trends, the alarm banner and the session
controls.

The live parts are painted by live.js from the bed's stream (monitor.ui.stream); a server
callback redraws only the alarm list, the limit lines and the session form when they change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html

from monitor.feed import CommandError, LiveFeed
from monitor.session import rate_steps
from monitor.ui import live, session_panel, session_text
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


def _strip(signal: str, label: str, hidden: bool) -> html.Div:
    """A sweeping wave strip; live.js draws into the canvas (25 mm/s, gaps as gaps)."""
    return html.Div(
        [html.Span(label, className="strip-label"), html.Canvas(className="sweep")],
        id=f"bed-strip-{signal}",
        className=f"strip strip-{signal.lower()}",
        hidden=hidden,
        **{"data-signal": signal},
    )


def infusion_strip(items: list[tuple[str, str, str]]) -> html.Div:
    """The infusion at a glance, above the fold; live.js repaints it from the pushed state."""
    return html.Div(
        [
            html.Span(
                [html.Span(label, className="strip-key"), html.Span(value, className="strip-val")],
                className=f"strip-item {cls}".strip(),
            )
            for label, value, cls in items
        ],
        id="bed-infusion",
        className="infusion-strip",
        role="status",
    )


def layout(feed: LiveFeed, bed_id: str, pseudonym: Callable[[str], str] = str) -> Any:
    snap = feed.snapshot(bed_id)
    readings, seq = feed.window(bed_id, live.LIVE_WINDOW_S)
    lines, banner_class = live.banner(snap.alarms, snap.latest)
    sim = snap.bed.source == "simulated"
    view = feed.session_view(bed_id)
    checklist = feed.checklist(bed_id)  # its manual items are always in the form
    events = feed.session_events(bed_id)
    rate_points = live.session_points(
        rate_steps(events), snap.now - live.LIVE_WINDOW_S, snap.now if view else None
    )
    marks = feed.limit_marks(bed_id)
    return html.Div(
        [
            simulation_banner() if sim else None,
            html.Div(
                [
                    html.H2(snap.bed.name, className="bed-title"),
                    dmc.Badge("SIMULATED", color="grape", variant="filled") if sim else None,
                    html.Div(
                        session_text.header_text(snap.session, view),
                        id="bed-session",
                        className="session-line",
                    ),
                ],
                className="bed-header",
            ),
            infusion_strip(session_text.infusion_strip(view, snap.now)),
            html.Div(
                "\n".join(lines),
                id="bed-banner",
                className=banner_class,
                role="alert",
                **{"aria-live": "assertive"},
            ),
            alarm_controls(),
            html.Div(
                numeric_tiles(
                    BED_TILES, snap.latest, snap.status, bed=bed_id, size="big", marks=marks
                ),
                className="tile-grid",
            ),
            _strip("ECG1", "ECG", hidden=True),  # shown once the monitor sends ECG
            _strip("PLETH", "Pleth", hidden=False),
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
            # where the page's trend ends: the stream sends what came after
            html.Div(
                id="bed-live",
                hidden=True,
                **{"data-bed": bed_id, "data-seq": str(seq), "data-epoch": snap.bed.epoch},
            ),
            dcc.Store(id="bed-cursor", data={"bed": bed_id}),
            dcc.Store(id="bed-changes"),
            html.Span(id="bed-poll", hidden=True),
            dcc.Interval(id="bed-tick", interval=TICK_MS),
            disclaimer(),
        ],
        className="bed-page",
    )


def register(app: Dash, feed: LiveFeed, access: Access) -> None:
    session_panel.register(app, feed, access)

    # The pushed state names a change in the alarm list, the limits or the session's phase;
    # only then does the server redraw those parts (live.js paints everything else).
    @access.callback(
        app,
        "live",
        Output("bed-alarm-list", "children"),
        Output({"type": "bed-limits", "tile": ALL}, "children"),
        Output("session-panel", "className"),
        Input("bed-changes", "data"),
        State("bed-cursor", "data"),
        prevent_initial_call=True,
    )
    def changed(_changes: Any, cursor: dict[str, Any]) -> tuple[Any, ...]:
        bed_id = cursor["bed"]
        snap = feed.snapshot(bed_id)
        view = feed.session_view(bed_id)
        marks = feed.limit_marks(bed_id)
        return (
            alarm_table(live.alarm_rows(snap.alarms)),
            [limit_lines(s, marks) for s in BED_TILES],
            session_panel.panel_class(view.phase if view else None),
        )

    # The fallback: while the stream is down, the Interval polls for the same messages.
    access.clientside(
        app,
        "live",
        "function(n) { return window.monitorLive.poll(); }",
        Output("bed-poll", "children"),
        Input("bed-tick", "n_intervals"),
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
