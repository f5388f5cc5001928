"""The central station: every chair in a fixed order, its main numerics and its highest alarm,
and a bar listing every active alarm on the ward, most urgent first."""

from __future__ import annotations

import math
import time
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html

from monitor.feed import BedSnapshot, LiveFeed
from monitor.model import Priority
from monitor.ui import live
from monitor.ui.auth import Access
from monitor.ui.components import disclaimer, numeric_tiles
from monitor.ui.tiles import OVERVIEW_TILES

TICK_MS = 1000


def _alarm(snap: BedSnapshot) -> tuple[str, str]:
    top = snap.highest_alarm
    if top is None:
        return "No active alarm", "bed-alarm bed-alarm-none"
    more = len(snap.alarms) - 1
    text = live.alarm_text(top, snap.latest) + (f"  +{more}" if more else "")
    return text, f"bed-alarm bed-alarm-{top.priority.name.lower()}"


def _session(snap: BedSnapshot) -> str:
    """The infusion at a glance: phase, the rate running now (not the plan) in mg/kg/h and
    mL/h, the dose so far, the time since the start and the next assessment."""
    s = snap.session
    if s is None:
        return "No session"
    parts = [f"Session {s.id} · {snap.phase}"]
    if snap.phase == "infusing":
        parts[0] += f" {snap.running_rate_mg_kg_h or 0:g} mg/kg/h"
        if snap.rate_ml_h is not None and math.isfinite(snap.rate_ml_h):
            parts[0] += f" ({snap.rate_ml_h:.1f} mL/h)"
    elif snap.phase == "paused":
        parts.append(f"pump stopped (set {snap.set_rate_mg_kg_h or 0:g} mg/kg/h)")
    if snap.dose_mg_kg:
        parts.append(f"{snap.dose_mg_kg:.2f} mg/kg given")
    if snap.infusion_started_at is not None:
        parts.append(f"{(snap.now - snap.infusion_started_at) / 60:.0f} min")
    if snap.assessment_due is not None:
        parts.append("assess " + time.strftime("%H:%M", time.localtime(snap.assessment_due)))
    return " · ".join(parts)


def _fresh(snaps: list[BedSnapshot]) -> dict[str, Any]:
    """Tile ages for every bed, and the loudest tone any bed wants (the central view sounds)."""
    out: dict[str, Any] = {
        "age": {},
        "limit": {},
        "alarm": {},
        "size": "small",
        "sounding": None,
        "pause": 0,
    }
    loudest = 0
    for snap in snaps:
        part = live.freshness(snap, OVERVIEW_TILES, per_bed=True)
        for key in ("age", "limit", "alarm"):
            out[key].update(part[key])
        if snap.sounding and Priority[snap.sounding] > loudest:
            loudest, out["sounding"] = Priority[snap.sounding], snap.sounding
    return out


def _card_class(snap: BedSnapshot) -> str:
    """The card carries its bed's highest alarm in border and background; its place on the
    screen never changes (a nurse's eyes keep their chair)."""
    top = snap.highest_alarm
    return f"bed-card card-alarm-{top.priority.name.lower()}" if top else "bed-card"


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
    text, cls = _alarm(snap)
    sim = snap.bed.source == "simulated"
    return html.Div(
        [
            dcc.Link(
                [
                    html.Span(snap.bed.name, className="card-title"),
                    html.Span("SIM", className="sim-chip") if sim else None,
                ],
                href=f"/bed/{snap.bed.id}",
                className="card-head",
            ),
            html.Div(text, id={"type": "ov-alarm", "bed": snap.bed.id}, className=cls),
            html.Div(
                numeric_tiles(
                    OVERVIEW_TILES, snap.latest, snap.status, bed=snap.bed.id, size="small"
                ),
                className="tile-row",
            ),
            html.Div(
                _session(snap),
                id={"type": "ov-session", "bed": snap.bed.id},
                className="card-session",
            ),
        ],
        id={"type": "ov-card", "bed": snap.bed.id},
        className=_card_class(snap),
    )


def layout(feed: LiveFeed) -> Any:
    snaps = [feed.snapshot(b.id) for b in feed.beds()]
    return html.Div(
        [
            html.Div(alarm_bar(snaps), id="ov-alarm-bar", className="ward-alarm-bar", role="alert"),
            html.Div([bed_card(s) for s in snaps], className="ward-grid"),
            dcc.Store(id="ov-fresh", data=_fresh(snaps)),
            html.Span(id="ov-sound-state", hidden=True),
            dcc.Interval(id="ov-tick", interval=TICK_MS),
            disclaimer(),
        ],
        className="overview-page",
    )


def register(app: Dash, feed: LiveFeed, access: Access) -> None:
    @access.callback(
        app,
        "live",
        Output({"type": "ov-value", "bed": ALL, "tile": ALL}, "children"),
        Output({"type": "ov-value", "bed": ALL, "tile": ALL}, "title"),
        Output({"type": "ov-sub", "bed": ALL, "tile": ALL}, "children"),
        Output({"type": "ov-alarm", "bed": ALL}, "children"),
        Output({"type": "ov-alarm", "bed": ALL}, "className"),
        Output({"type": "ov-session", "bed": ALL}, "children"),
        Output("ov-fresh", "data"),
        Output({"type": "ov-card", "bed": ALL}, "className"),
        Output("ov-alarm-bar", "children"),
        Input("ov-tick", "n_intervals"),
        prevent_initial_call=True,
    )
    def tick(_n: int) -> tuple[Any, ...]:
        value_ids = [o["id"] for o in ctx.outputs_list[0]]
        card_ids = [o["id"] for o in ctx.outputs_list[3]]
        snaps = {b: feed.snapshot(b) for b in {i["bed"] for i in card_ids}}
        by_key = {spec.key: spec for spec in OVERVIEW_TILES}
        values, titles, subs = [], [], []
        for ident in value_ids:
            spec, latest = (by_key[ident["tile"]],), snaps[ident["bed"]].latest
            values += live.tile_texts(spec, latest)
            titles += live.tile_titles(spec, latest)
            subs += live.tile_subs(spec, latest, snaps[ident["bed"]].status)
        alarms = [_alarm(snaps[i["bed"]]) for i in card_ids]
        return (
            values,
            titles,
            subs,
            [a[0] for a in alarms],
            [a[1] for a in alarms],
            [_session(snaps[i["bed"]]) for i in card_ids],
            _fresh(list(snaps.values())),
            [_card_class(snaps[i["bed"]]) for i in card_ids],
            alarm_bar([snaps[i["bed"]] for i in card_ids]),
        )

    access.clientside(
        app,
        "live",
        "function(n, fresh) { window.monitorAudio.follow(fresh); return ''; }",
        Output("ov-sound-state", "children"),
        Input("ov-tick", "n_intervals"),
        Input("ov-fresh", "data"),
    )

    access.clientside(
        app,
        "live",
        "function(n, fresh, ids) { return window.monitorFreshness(fresh, ids, 'ov'); }",
        Output({"type": "ov-tile", "bed": ALL, "tile": ALL}, "className"),
        Output({"type": "ov-age", "bed": ALL, "tile": ALL}, "children"),
        Input("ov-tick", "n_intervals"),
        Input("ov-fresh", "data"),
        State({"type": "ov-tile", "bed": ALL, "tile": ALL}, "id"),
    )
