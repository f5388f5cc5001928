"""The Dash app factory: shell, routing and page callbacks over a LiveFeed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, dcc, html
from flask_wtf.csrf import generate_csrf

from monitor.config import AlarmRule, ServerConfig
from monitor.feed import LiveFeed
from monitor.ports import ReviewSource, StationRecords, StoreError
from monitor.record_words import clock, step_title, step_words
from monitor.session_config import SessionConfig
from monitor.ui import health, stream
from monitor.ui.auth import Access, install, page_permission
from monitor.ui.broadcast import Broadcaster
from monitor.ui.pages import (
    admin,
    bed,
    debrief,
    due,
    follow_up,
    instructor,
    overview,
    review,
    review_signoff,
    series,
)

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
    store: StationRecords | None = None,
    rules: list[AlarmRule] | None = None,
    server: ServerConfig | None = None,
    config_text: str = "",
    session: SessionConfig | None = None,
    state_dir: Path | None = None,
) -> Dash:
    """Build the dashboard. With a `store`, the physician review pages (/sessions,
    /review/<id>) and the audit are served too; with `server.auth`, logins and roles guard
    every page and callback. Without logins the acting user is `station` (loopback only)."""
    app = Dash(
        __name__,
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,  # page components come and go with the route
        title="Ketamine infusion monitor",
        update_title=None,  # no "Updating..." flicker in the tab title every tick
        serve_locally=True,
    )
    if store is not None and server is not None:
        if state_dir is None:
            raise ValueError("create_app: state_dir (where the secret key is kept) is required")
        access = install(app, store, server, state_dir)
    else:
        access = Access(station, enabled=False, secret=b"ketamine-monitor")
    app.server.extensions["monitor_access"] = access  # the gate's table, for the tests
    lockout = app.server.extensions.get("monitor_lockout")  # with logins on
    bed_ids = {b.id for b in feed.beds()}
    training = bool(instructor.training_beds(feed))
    links = [("Ward", "/", "live"), ("Sessions", "/sessions", "review")]
    if store is not None:
        links += [
            ("Follow-ups", "/follow-ups", "review"),
            ("Due infusions", "/infusions-due", "review"),
        ]
    if len(bed_ids) <= 4:  # more chairs are reached from the central station, not the header
        links += [(b.name, f"/bed/{b.id}", "live") for b in feed.beds()]
    links += [("Instructor", "/instructor", "training")] if training else []
    links += [("Audit", "/audit", "audit"), ("Admin", "/admin", "admin")] if store else []

    def who() -> Any:
        if not access.enabled:
            return html.Span(
                f"Logins off (loopback only) · acting as {station}", className="station notice"
            )
        if access.role() is None:  # Dash checks the layout once before anyone logs in
            return html.Span()
        return html.Span(
            [
                html.Span(f"{access.user()} · {access.role()}", className="station"),
                html.Form(
                    [
                        dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                        html.Button("Log out", type="submit", className="sound-button"),
                    ],
                    method="POST",
                    action="/logout",
                    className="logout",
                ),
            ]
        )

    def shell() -> Any:
        """Built per page load, so the header shows who is logged in and what they may open."""
        return dmc.MantineProvider(
            forceColorScheme="dark",
            children=html.Div(
                [
                    dcc.Location(id="url"),
                    html.Header(
                        [
                            dcc.Link("Ketamine infusion monitor", href="/", className="brand"),
                            html.Span(station, className="station-name", title="This station"),
                            html.Span(id="header-clock", className="header-clock"),
                            html.Nav(
                                [
                                    dcc.Link(name, href=href)
                                    for name, href, permission in links
                                    if access.can(permission)
                                ],
                                className="nav",
                            ),
                            html.Button(
                                "Sound OFF: enable",
                                id="sound-enable",
                                className="sound-button",
                                title="Browsers stay silent until a click: enable alarm tones",
                            ),
                            who(),
                        ],
                        className="app-header",
                    ),
                    html.Main(id="page"),
                ],
                className="app-shell",
            ),
        )

    app.layout = shell
    access.clientside(
        app,
        "any",
        "function(n) { return window.monitorAudio.enable(n); }",
        Output("sound-enable", "children"),
        Output("sound-enable", "className"),
        Input("sound-enable", "n_clicks"),
        prevent_initial_call=True,
    )

    @access.callback(app, "any", Output("page", "children"), Input("url", "pathname"))
    def route(path: str | None) -> Any:
        path = path or "/"
        if not access.can(page_permission(path)):
            return html.Div(
                [
                    html.H2("Not permitted"),
                    html.P(f"Your role ({access.role()}) cannot open {path}."),
                ],
                className="not-found",
            )
        if path == "/":
            return overview.layout(feed)
        m = BED_PATH.match(path)
        if m and m.group(1) in bed_ids:
            return bed.layout(feed, m.group(1), access.pseudonym)
        if training and path == "/instructor":
            return instructor.layout(feed)
        m = DEBRIEF_PATH.match(path)
        if training and m and m.group(1) in bed_ids:
            return debrief.debrief_layout(feed, m.group(1))
        if store is not None and path == "/sessions":
            return review.sessions_layout(store)
        if store is not None and path == "/audit":
            return audit_layout(store)
        if store is not None and path == "/follow-ups":
            return due.follow_ups_layout(store, session or SessionConfig(), access)
        if store is not None and path == "/infusions-due":
            return due.infusions_layout(store, access)
        m = series.PATIENT_PATH.match(path)
        if store is not None and m:
            return series.series_layout(store, rules or [], access, m.group(1))
        if store is not None and path == "/admin":
            return admin.layout(store, lockout, config_text)
        m = REVIEW_PATH.match(path)
        if store is not None and m:
            try:
                return review.review_layout(
                    store, int(m.group(1)), rules or [], session or SessionConfig(), access
                )
            except StoreError:
                return not_found(path)
        return not_found(path)

    health.register(app.server, feed)
    overview.register(app, feed, access)
    broadcaster = Broadcaster(feed, access.pseudonym)
    slots = stream.register(app.server, broadcaster, stream.max_streams(len(feed.beds())))
    app.server.extensions["live"] = (broadcaster, slots)  # for the benches and tests
    bed.register(app, feed, access)
    if training:
        instructor.register(app, feed, access)
        debrief.register(app, feed, access)
    if store is not None:
        review.register(app, store, rules or [], access)
        review_signoff.register(app, store, store, access)
        admin.register(app, store, lockout, access)
        follow_up.register(app, store, store, access)
        series.register(app, store, store, rules or [], access)
        series.register_plan_hint(app, store, access)
    return app


def audit_layout(store: ReviewSource) -> Any:
    """Logins, failed logins, exports, acknowledgements, limit changes: who, what, when."""
    rows = [
        html.Tr(
            [
                html.Td(clock(t)),
                html.Td(user),
                html.Td(step_title(action)),
                html.Td(step_words(action, _detail(detail))),
            ]
        )
        for t, user, action, detail in store.audit_log()
    ]
    return html.Div(
        [
            html.H2("Audit"),
            html.Table(
                [html.Tr([html.Th(h) for h in ("time", "user", "action", "detail")]), *rows],
                id="audit-table",
                className="alarm-list",
            ),
        ]
    )


def _detail(text: str) -> dict[str, Any]:
    """An audit entry's stored JSON detail (an unreadable one is shown as it was stored)."""
    try:
        value = json.loads(text)
    except ValueError:
        return {"detail": text}
    return value if isinstance(value, dict) else {"detail": value}
