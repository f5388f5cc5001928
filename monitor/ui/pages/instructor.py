"""Instructor console and debrief: scenarios on simulated beds, time control, the hidden state.

The trainee watches the ordinary bed page (with its SIMULATION banner); only this page shows
what the scenario will do next. Every command goes to the bed, which logs it and hands it to
the simulated device.
"""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from monitor.feed import CommandError, LiveFeed
from monitor.training import (
    ARTIFACTS,
    SCRIPTED,
    SPEEDS,
    TrainingView,
    mmss,
)
from monitor.ui.auth import Access
from monitor.ui.components import simulation_banner

TICK_MS = 1000


def training_beds(feed: LiveFeed) -> list[str]:
    return [b.id for b in feed.beds() if b.source == "simulated" and feed.scenarios(b.id)]


def layout(feed: LiveFeed) -> Any:
    beds = training_beds(feed)
    if not beds:
        return html.Div(
            [html.H2("Instructor console"), html.P("No simulated bed has training scenarios.")]
        )
    bed = beds[0]
    clock = feed.clock_state()
    speed = f"{clock[0]:g}" if clock else "1"
    return html.Div(
        [
            simulation_banner(),
            html.H2("Instructor console"),
            dmc.Group(
                [
                    dmc.Select(id="in-bed", label="Bed", data=beds, value=bed, w=160),
                    dmc.Select(
                        id="in-scenario",
                        label="Scenario",
                        data=[{"value": i, "label": t} for i, t in feed.scenarios(bed)],
                        w=380,
                    ),
                    dmc.Button("Start scenario", id="in-start"),
                    dmc.TextInput(id="in-replay-session", label="Stored session", w=130),
                    dmc.Button("Replay session", id="in-replay", variant="outline"),
                ],
                align="flex-end",
            ),
            dmc.Group(
                [
                    dmc.Text("Time", fw=700),
                    dmc.SegmentedControl(
                        id="in-speed",
                        data=[{"value": f"{s:g}", "label": f"{s:g}×"} for s in SPEEDS],
                        value=speed,
                        disabled=clock is None,
                    ),
                    dmc.Button("Pause", id="in-pause", variant="outline", disabled=clock is None),
                    dmc.Button("Resume", id="in-resume", variant="outline", disabled=clock is None),
                    dcc.Link("Trainee view", id="in-trainee-link", href=f"/bed/{bed}"),
                    dcc.Link("Debrief", id="in-debrief-link", href=f"/debrief/{bed}"),
                ],
                mt="md",
            ),
            html.Div(id="in-status", className="form-status", role="status"),
            html.Div(id="in-panel", className="instructor-panel"),
            html.Div(id="in-controls", className="instructor-controls"),
            dmc.Group(
                [
                    dmc.Select(id="in-goto-state", label="Jump to state", data=[], w=200),
                    dmc.Button("Jump", id="in-goto", variant="outline"),
                    dmc.Select(
                        id="in-vital", label="Vital", data=list(SCRIPTED), value="NIBP_SYS", w=140
                    ),
                    dmc.NumberInput(id="in-level", label="Target", w=110),
                    dmc.Button("Set now", id="in-set", variant="outline"),
                    dmc.Button("Ramp over 60 s", id="in-ramp", variant="outline"),
                    dmc.Button("Release", id="in-release", variant="outline"),
                ],
                align="flex-end",
                mt="md",
            ),
            dcc.Store(id="in-signature"),
            dcc.Interval(id="in-tick", interval=TICK_MS),
        ],
        className="instructor-page",
    )


def _panel(view: TrainingView) -> Any:
    hidden = [html.Tr([html.Th(k), html.Td(f"{v:g}")]) for k, v in view.hidden.items()]
    targets = ", ".join(f"{k} → {v:g}" for k, v in view.targets.items()) or "none"
    findings = ", ".join(
        f"{k} {v:+d}" if k == "RASS" else f"{k} {v}" for k, v in view.findings.items()
    )
    return html.Div(
        [
            html.H3(f"{view.title} · state {view.state} · {mmss(view.elapsed_s)}"),
            html.P(view.state_note or "", className="state-note"),
            html.P(f"An assessment now would find: {findings}" if findings else ""),
            html.P(f"Scripted targets: {targets}"),
            html.P("Designed to raise: " + (", ".join(view.expected_alarms) or "no alarms")),
            html.H4("Next"),
            html.Ul([html.Li(u) for u in view.upcoming] or [html.Li("no scripted transition")]),
            html.H4("Hidden physiology"),
            html.Table(hidden, className="summary-table", id="in-hidden"),
        ]
    )


def _controls(view: TrainingView) -> Any:
    def button(kind: str, value: str, label: str, colour: str = "blue") -> Any:
        return dmc.Button(
            label, id={"type": kind, "value": value}, size="compact-sm", color=colour, mr="xs"
        )

    return html.Div(
        [
            html.H4("Instructor triggers"),
            html.Div([button("in-trigger", t, t) for t in view.instructor_triggers] or "none"),
            html.H4("Events"),
            html.Div([button("in-event", i, label, "grape") for i, label in view.events] or "none"),
            html.H4("Artifacts"),
            html.Div(
                [
                    button(
                        "in-artifact",
                        a,
                        f"{a.replace('_', ' ')}: {'ON' if view.artifacts.get(a) else 'off'}",
                        "orange" if view.artifacts.get(a) else "gray",
                    )
                    for a in ARTIFACTS
                ]
            ),
        ]
    )


def register(app: Dash, feed: LiveFeed, access: Access) -> None:
    @access.callback(
        app,
        "training",
        Output("in-scenario", "data"),
        Output("in-trainee-link", "href"),
        Output("in-debrief-link", "href"),
        Input("in-bed", "value"),
        prevent_initial_call=True,
    )
    def choose_bed(bed: str) -> tuple[Any, str, str]:
        data = [{"value": i, "label": t} for i, t in feed.scenarios(bed)]
        return data, f"/bed/{bed}", f"/debrief/{bed}"

    @access.callback(
        app,
        "training",
        Output("in-panel", "children"),
        Output("in-controls", "children"),
        Output("in-goto-state", "data"),
        Output("in-signature", "data"),
        Input("in-tick", "n_intervals"),
        State("in-bed", "value"),
        State("in-signature", "data"),
    )
    def tick(_n: int | None, bed: str, signature: str | None) -> tuple[Any, Any, Any, Any]:
        view = feed.training_view(bed)
        if view is None:
            return html.P("No scenario running on this bed."), None, [], None
        new = f"{view.scenario_id}|{view.state}|{sorted(view.artifacts.items())}"
        if new == signature:  # the buttons stay put between state changes
            return _panel(view), no_update, no_update, no_update
        return _panel(view), _controls(view), view.states, new

    @access.callback(
        app,
        "training",
        Output("in-status", "children"),
        Input("in-start", "n_clicks"),
        Input("in-replay", "n_clicks"),
        Input("in-speed", "value"),
        Input("in-pause", "n_clicks"),
        Input("in-resume", "n_clicks"),
        Input("in-goto", "n_clicks"),
        Input("in-set", "n_clicks"),
        Input("in-ramp", "n_clicks"),
        Input("in-release", "n_clicks"),
        Input({"type": "in-trigger", "value": ALL}, "n_clicks"),
        Input({"type": "in-event", "value": ALL}, "n_clicks"),
        Input({"type": "in-artifact", "value": ALL}, "n_clicks"),
        State("in-bed", "value"),
        State("in-scenario", "value"),
        State("in-replay-session", "value"),
        State("in-goto-state", "value"),
        State("in-vital", "value"),
        State("in-level", "value"),
        prevent_initial_call=True,
    )
    def command(*args: Any) -> str:
        bed, scenario, replay, goto, vital, level = args[-6:]
        trigger = ctx.triggered_id
        if trigger is None or not ctx.triggered[0]["value"]:
            return no_update  # a button re-rendered, not clicked
        try:
            if isinstance(trigger, dict):
                kind = {"in-trigger": "trigger", "in-event": "event", "in-artifact": "artifact"}
                cmd, value = kind[trigger["type"]], trigger["value"]
                feed.training_command(bed, cmd, access.user(), value)
                return f"{cmd}: {value}"
            if trigger == "in-start":
                if not scenario:
                    return "Choose a scenario first."
                feed.training_command(bed, "start", access.user(), scenario)
                return f"Started {scenario} on {bed}."
            if trigger == "in-replay":
                may_review = access.can("review")
                feed.training_command(bed, "replay", access.user(), replay or "", None, may_review)
                return f"Replaying session {replay} on {bed}."
            if trigger == "in-speed":
                feed.clock_control("speed", float(args[2]))
                return f"Time runs at {float(args[2]):g}×."
            if trigger in ("in-pause", "in-resume"):
                feed.clock_control(trigger.removeprefix("in-"))
                return "Time paused." if trigger == "in-pause" else "Time running."
            if trigger == "in-goto":
                feed.training_command(bed, "goto", access.user(), goto or "")
                return f"Jumped to {goto}."
            cmd = trigger.removeprefix("in-")
            target = None if level in (None, "") else float(level)
            feed.training_command(bed, cmd, access.user(), vital or "", target)
            return f"{cmd} {vital}" + ("" if target is None or cmd == "release" else f" {target:g}")
        except CommandError as err:
            return str(err)
