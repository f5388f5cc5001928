"""The debrief page: the score, the expected actions (harmful ones flagged), the run's trend
chart and its timeline, and the printable PDF.

The chart uses SVG `scatter` traces, not WebGL: WebGL needs `unsafe-eval`, which the page's
CSP forbids, so a `scattergl` trace would never draw.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, dcc, html, no_update

from monitor.feed import LiveFeed
from monitor.report import ReportError, print_pdf
from monitor.signals import colour, label
from monitor.training import Debrief, debrief_html, mmss, result_words
from monitor.ui.auth import Access
from monitor.ui.components import simulation_banner

# (row, unit, codes): NIBP's two pressures share a panel, as on the bed page
PANELS = (
    (1, "/min", ("HR",)),
    (2, "%", ("SPO2",)),
    (3, "mmHg", ("NIBP_SYS", "NIBP_DIA")),
    (4, "/min", ("RR",)),
    (5, "mg/kg/h", ("RATE",)),
)
RATE_COLOUR = "#b39ddb"  # as the session record's rate trace


def debrief_layout(feed: LiveFeed, bed: str) -> Any:
    debrief = feed.debrief(bed)
    if debrief is None:
        return html.Div([html.H2("Debrief"), html.P(f"No training run on {bed}.")])
    return html.Div(
        [
            simulation_banner(),
            html.H2(f"Debrief: {debrief.title}"),
            html.P(f"Score {debrief.score} / {debrief.max_score}", id="db-score"),
            _checklist(debrief),
            html.H3("Trend"),
            dcc.Graph(id="db-trend", figure=trend_figure(debrief), config={"displaylogo": False}),
            _timeline(debrief),
            dmc.Button("Download PDF", id="db-pdf", mt="md"),
            dcc.Loading(html.Div(id="db-status", className="form-status"), type="dot"),
            dcc.Download(id="db-download"),
            dcc.Store(id="db-bed", data=bed),
        ],
        className="debrief-page",
    )


def _checklist(d: Debrief) -> Any:
    rows = [
        html.Tr(
            [
                html.Td(c.label),
                html.Td(result_words(c), className=f"check-{c.status.replace(' ', '-')}"),
                html.Td("" if c.seconds_to_action is None else f"{c.seconds_to_action:.0f} s"),
                html.Td(f"{c.points}/{c.possible}"),
            ],
            className="check-flagged" if c.status == "not avoided" else None,
        )
        for c in d.checklist
    ]
    head = ("expected action", "result", "time to action", "points")
    return html.Div(
        [
            html.H3("Expected actions"),
            html.Table(
                [html.Tr([html.Th(h) for h in head]), *rows],
                id="db-checklist",
                className="alarm-list",
            ),
        ]
    )


def _timeline(d: Debrief) -> Any:
    rows = [
        html.Tr([html.Td(mmss(e.t, d.started_at)), html.Td(e.kind), html.Td(e.text)])
        for e in d.timeline
    ]
    return html.Div(
        [
            html.H3("Timeline"),
            html.Table(
                [html.Tr([html.Th(h) for h in ("mm:ss", "what", "detail")]), *rows],
                id="db-timeline",
                className="alarm-list",
            ),
        ]
    )


def trend_figure(d: Debrief) -> dict[str, Any]:
    """HR, SpO₂, NIBP, RR and the rate against minutes into the run, one panel each."""
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        "template": "plotly_dark",
        "height": 110 * len(PANELS) + 60,
        "margin": {"l": 60, "r": 12, "t": 8, "b": 36},
        "paper_bgcolor": "#000",
        "plot_bgcolor": "#050505",
        "hovermode": "closest",
    }
    height = 1 / len(PANELS)
    for row, unit, codes in PANELS:
        suffix = "" if row == 1 else str(row)
        for code in codes:
            points = d.trend.get(code, [])
            rate = code == "RATE"
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines" if rate or not _cuff(code) else "lines+markers",
                    "name": "Rate" if rate else label(code),
                    "x": [round((t - d.started_at) / 60, 2) for t, _ in points],
                    "y": [v for _, v in points],
                    "line": {
                        "color": RATE_COLOUR if rate else colour(code),
                        "width": 1.5,
                        "shape": "hv" if rate else "linear",
                    },
                    "marker": {"size": 4},
                    "xaxis": f"x{suffix}",
                    "yaxis": f"y{suffix}",
                }
            )
        top = 1 - (row - 1) * height
        layout[f"yaxis{suffix}"] = {"domain": [top - 0.8 * height, top], "title": {"text": unit}}
        x: dict[str, Any] = {"anchor": f"y{suffix}", "showticklabels": row == len(PANELS)}
        if row > 1:
            x["matches"] = "x"
        else:
            x["title"] = {"text": ""}
        layout[f"xaxis{suffix}"] = x
    layout[f"xaxis{len(PANELS)}"]["title"] = {"text": "minutes into the run"}
    return {"data": data, "layout": layout}


def _cuff(code: str) -> bool:
    return code.startswith("NIBP")


def register(app: Dash, feed: LiveFeed, access: Access) -> None:
    @access.callback(
        app,
        "training",
        Output("db-download", "data"),
        Output("db-status", "children"),
        Input("db-pdf", "n_clicks"),
        State("db-bed", "data"),
        prevent_initial_call=True,
    )
    def debrief_pdf(_n: int, bed: str) -> tuple[Any, str]:
        debrief = feed.debrief(bed)
        if debrief is None:
            return no_update, "No training run on this bed."
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f"debrief-{bed}-{debrief.scenario_id}-SIMULATED.pdf"
            try:
                print_pdf(debrief_html(debrief, bed), out)
            except ReportError as err:
                return no_update, str(err)
            return dcc.send_file(str(out)), f"Exported {out.name}"
