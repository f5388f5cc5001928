"""The review page's sign-off panel: review status, sign off, addendum, entered in error.

The rules are in monitor/record_review.py; this module shows them and writes the step.
"""

from __future__ import annotations

import time
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, ctx, html, no_update

from monitor.ports import ReviewSource, ReviewSteps
from monitor.record_review import (
    MAX_TEXT,
    ReviewRefused,
    addendum,
    mark_in_error,
    review_status,
    sign_off,
)
from monitor.record_words import clock
from monitor.review import SessionRecord
from monitor.ui.auth import Access

ACTIONS = {"rv-sign": sign_off, "rv-addendum": addendum, "rv-in-error": mark_in_error}


def _status(record_events: list[Any]) -> list[Any]:
    status = review_status(record_events)
    lines: list[Any] = [html.Div(status.line, className="review-line")]
    if status.in_error:
        reason = status.in_error.payload.get("reason", "")
        lines.append(html.Div(f"Entered in error by {status.in_error.user}: {reason}"))
    if status.signed and status.signed.payload.get("comment"):
        lines.append(html.Div(f"Review comment: {status.signed.payload['comment']}"))
    lines += [
        html.Div(f"Addendum {clock(a.t)} by {a.user}: {a.payload.get('text', '')}")
        for a in status.addenda
    ]
    return lines


def signoff_panel(record: SessionRecord) -> Any:
    signed = review_status(record.events).signed is not None
    return html.Div(
        [
            html.H3("Review and sign-off"),
            html.Div(_status(record.events), id="rv-review-status"),
            dmc.Textarea(
                id="rv-review-text",
                label="Comment, addendum or reason",
                description=f"Up to {MAX_TEXT} characters. Signing needs logins, so the"
                " signer is known.",
                autosize=True,
                minRows=2,
                maxRows=6,
                w=640,
            ),
            dmc.Group(
                [
                    dmc.Button("Sign off as reviewed", id="rv-sign", disabled=signed),
                    dmc.Button("Add addendum", id="rv-addendum", variant="outline"),
                    dmc.Button(
                        "Mark entered in error", id="rv-in-error", color="gray", variant="outline"
                    ),
                ],
                mt="xs",
            ),
        ],
        className="review-signoff",
    )


def register(app: Dash, store: ReviewSource, steps: ReviewSteps, access: Access) -> None:
    @access.callback(
        app,
        "review",
        Output("rv-review-status", "children"),
        Output("rv-review-text", "error"),
        Output("rv-review-text", "value"),
        Output("rv-sign", "disabled"),
        Input("rv-sign", "n_clicks"),
        Input("rv-addendum", "n_clicks"),
        Input("rv-in-error", "n_clicks"),
        State("rv-review-text", "value"),
        State("rv-session", "data"),
        prevent_initial_call=True,
    )
    def review_step(_s: Any, _a: Any, _e: Any, text: str | None, session_id: int) -> Any:
        """Refusals stay beside the field and keep what was typed; nothing is recorded."""
        info = store.session(session_id)
        events = store.events(session_id)
        try:
            kind, payload = ACTIONS[str(ctx.triggered_id)](info, events, access.role(), text or "")
        except ReviewRefused as err:
            return no_update, str(err), no_update, no_update
        steps.add_event(session_id, info.bed, time.time(), kind, access.user(), payload)
        events = store.events(session_id)
        signed = review_status(events).signed is not None
        return _status(events), None, "", signed
