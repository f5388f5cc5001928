"""The central station: every chair in a fixed order with its numerics, a 15-minute trend, a
pleth strip, the infusion at a glance and its highest alarm, under a bar listing every active
alarm on the ward, most urgent first.

The page is drawn once; live.js keeps it current from the ward's stream (monitor.ui.stream),
so no server callback runs per viewer per second.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, dcc, html

from monitor.feed import BedSnapshot, LiveFeed
from monitor.ui import frames, live
from monitor.ui.auth import Access
from monitor.ui.components import disclaimer, numeric_tiles
from monitor.ui.tiles import OVERVIEW_TILES

TICK_MS = 1000


def alarm_bar(snaps: list[BedSnapshot]) -> list[Any]:
    """Every active alarm on the ward, by priority then onset; technical alarms marked."""
    rows = sorted(
        ((snap.bed.name, a, snap.latest) for snap in snaps for a in snap.alarms),
        key=lambda row: (-row[1].priority, row[1].onset_t),
    )
    if not rows:
        return [html.Span("No active alarm on the ward", className="ward-alarm-none")]
    return [
        html.Span(
            f"{bed} · {live.alarm_text(a, latest)}",
            className=f"ward-alarm ward-alarm-{a.priority.name.lower()}"
            + (" ward-alarm-tech" if a.technical else ""),
        )
        for bed, a, latest in rows
    ]


def bed_card(snap: BedSnapshot) -> html.Div:
    text, cls = frames.card_alarm(snap)
    sim = snap.bed.source == "simulated"
    return html.Div(
        [
            html.Div(
                [
                    dcc.Link(
                        [
                            html.Span(snap.bed.name, className="card-title"),
                            html.Span("SIM", className="sim-chip") if sim else None,
                        ],
                        href=f"/bed/{snap.bed.id}",
                        className="card-head",
                    ),
                    html.Div(text, className=cls),
                ],
                className="card-top",
            ),
            html.Div(
                numeric_tiles(
                    OVERVIEW_TILES, snap.latest, snap.status, bed=snap.bed.id, size="small"
                ),
                className="tile-row",
            ),
            html.Div(
                [
                    html.Canvas(className="card-spark", title="HR and SpO₂, last 15 min"),
                    html.Canvas(className="sweep card-pleth", title="Pleth"),
                ],
                className="card-charts",
            ),
            html.Div(frames.infusion_glance(snap), className="card-session"),
        ],
        className=frames.card_class(snap),
        **{"data-bed": snap.bed.id},
    )


def layout(feed: LiveFeed) -> Any:
    snaps = [feed.snapshot(b.id) for b in feed.beds()]
    return html.Div(
        [
            html.Div(alarm_bar(snaps), id="ov-alarm-bar", className="ward-alarm-bar", role="alert"),
            html.Div([bed_card(s) for s in snaps], className="ward-grid"),
            html.Div(id="ward-live", hidden=True),
            html.Span(id="ov-poll", hidden=True),
            dcc.Interval(id="ov-tick", interval=TICK_MS),
            disclaimer(),
        ],
        className="overview-page",
    )


def register(app: Dash, feed: LiveFeed, access: Access) -> None:
    # The fallback: while the stream is down, the Interval polls for the same messages.
    access.clientside(
        app,
        "live",
        "function(n) { return window.monitorLive.poll(); }",
        Output("ov-poll", "children"),
        Input("ov-tick", "n_intervals"),
    )
