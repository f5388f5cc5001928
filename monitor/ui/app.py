"""The Dash app factory: shell, routing and page callbacks over a LiveFeed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, dcc, html

from monitor.config import AlarmRule
from monitor.feed import LiveFeed
from monitor.store import SessionStore, StoreError
from monitor.ui.pages import bed, instructor, overview, review

ASSETS = Path(__file__).with_name("assets")
BED_PATH = re.compile(r"^/bed/([a-z0-9][a-z0-9_-]{0,31})$")
REVIEW_PATH = re.compile(r"^/review/([0-9]{1,9})$")
DEBRIEF_PATH = re.compile(r"^/debrief/([a-z0-9][a-z0-9_-]{0,31})$")


def not_found(path: str) -> html.Div:
    return html.Div(
        [
            html.H2("Page not found"),
            html.P(f"There is no page at {path}."),
            dcc.Link("Back to the ward", href="/"),
        ],
        className="not-found",
    )


def create_app(
    feed: LiveFeed,
    station: str,
    store: SessionStore | None = None,
    rules: list[AlarmRule] | None = None,
) -> Dash:
    """Build the dashboard. `station` is the acting user recorded for commands until logins.
    With a `store`, the physician review pages (/sessions, /review/<id>) are served too."""
    app = Dash(
        __name__,
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,  # page components come and go with the route
        title="Ketamine infusion monitor",
        update_title=None,  # no "Updating..." flicker in the tab title every tick
        serve_locally=True,
    )
    bed_ids = {b.id for b in feed.beds()}
    training = bool(instructor.training_beds(feed))
    app.layout = dmc.MantineProvider(
        forceColorScheme="dark",
        children=html.Div(
            [
                dcc.Location(id="url"),
                html.Header(
                    [
                        dcc.Link("Ketamine infusion monitor", href="/", className="brand"),
                        html.Nav(
                            [dcc.Link("Ward", href="/"), dcc.Link("Sessions", href="/sessions")]
                            + [dcc.Link(b.name, href=f"/bed/{b.id}") for b in feed.beds()]
                            + ([dcc.Link("Instructor", href="/instructor")] if training else []),
                            className="nav",
                        ),
                        html.Button(
                            "Enable sound",
                            id="sound-enable",
                            className="sound-button",
                            title="Browsers stay silent until a click: enable alarm tones",
                        ),
                        html.Span(f"Station: {station}", className="station"),
                    ],
                    className="app-header",
                ),
                html.Main(id="page"),
            ],
            className="app-shell",
        ),
    )

    app.clientside_callback(
        "function(n) { return window.monitorAudio.enable(n); }",
        Output("sound-enable", "children"),
        Output("sound-enable", "className"),
        Input("sound-enable", "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def route(path: str | None) -> Any:
        path = path or "/"
        if path == "/":
            return overview.layout(feed)
        m = BED_PATH.match(path)
        if m and m.group(1) in bed_ids:
            return bed.layout(feed, m.group(1))
        if training and path == "/instructor":
            return instructor.layout(feed)
        m = DEBRIEF_PATH.match(path)
        if training and m and m.group(1) in bed_ids:
            return instructor.debrief_layout(feed, m.group(1))
        if store is not None and path == "/sessions":
            return review.sessions_layout(store)
        m = REVIEW_PATH.match(path)
        if store is not None and m:
            try:
                return review.review_layout(store, int(m.group(1)), rules or [])
            except StoreError:
                return not_found(path)
        return not_found(path)

    overview.register(app, feed)
    bed.register(app, feed, station)
    if training:
        instructor.register(app, feed, station)
    if store is not None:
        review.register(app, store, rules or [])
    return app
