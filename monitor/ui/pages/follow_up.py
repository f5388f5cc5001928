"""The review page's follow-up panel: contacts after discharge, and a form to record one.

The rules are monitor/series.py's; this shows them and writes the step. A refusal appears
beside the field it names, what was typed stays, and nothing is recorded.
"""

from __future__ import annotations

import time
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, dcc, html, no_update

from monitor.ports import ReviewSource, ReviewSteps
from monitor.record_tables import record_tables
from monitor.review import SessionRecord, load_record
from monitor.series import PGIC, SIDE_EFFECTS, follow_up
from monitor.session import SessionError
from monitor.ui.auth import Access
from monitor.ui.form_errors import errors_beside
from monitor.ui.pages.review_tables import table_view

# a refusal names its field first: that field shows it
FIELDS = {
    "pain NRS": "fu-pain",
    "days of relief": "fu-relief",
    "PGIC": "fu-pgic",
    "side effects": "fu-effects",
    "side effects, in words": "fu-note",
}
INPUTS = tuple(FIELDS.values())


def after_discharge(record: SessionRecord) -> Any:
    """The record's own table of follow-ups and plans, redrawn once a contact is recorded."""
    table = next(t for t in record_tables(record.events) if t.key == "after_discharge")
    return table_view(table)


def follow_up_panel(record: SessionRecord, series_href: str | None) -> Any:
    info = record.info
    if info.source != "live" or info.ended_at is None:
        return html.Div()
    return html.Div(
        [
            html.H3("Follow-up after discharge"),
            dcc.Link("The patient's series", href=series_href) if series_href else None,
            dmc.Group(
                [
                    dmc.NumberInput(id="fu-pain", label="Pain NRS (0-10)", w=140),
                    dmc.NumberInput(id="fu-relief", label="Days of relief", w=140),
                    dmc.Select(
                        id="fu-pgic",
                        label="PGIC",
                        w=260,
                        data=[{"value": str(k), "label": f"{k} · {v}"} for k, v in PGIC.items()],
                    ),
                ],
                align="flex-start",
            ),
            dmc.CheckboxGroup(
                dmc.Group([dmc.Checkbox(label=e, value=e) for e in SIDE_EFFECTS], mt=4),
                id="fu-effects",
                label="Side effects since discharge",
            ),
            dmc.Textarea(id="fu-note", label="Side effects, in words", w=640, autosize=True),
            dmc.Button("Record follow-up", id="fu-save", mt="xs"),
            html.Div(id="fu-msg", role="status", className="form-status"),
        ],
        className="review-follow-up",
    )


def register(app: Dash, store: ReviewSource, steps: ReviewSteps, access: Access) -> None:
    @access.callback(
        app,
        "review",
        Output("fu-msg", "children"),
        Output("rv-section-after_discharge", "children"),
        *(Output(i, "error") for i in INPUTS),
        Input("fu-save", "n_clicks"),
        State("fu-pain", "value"),
        State("fu-relief", "value"),
        State("fu-pgic", "value"),
        State("fu-effects", "value"),
        State("fu-note", "value"),
        State("rv-session", "data"),
        prevent_initial_call=True,
    )
    def save(
        _n: int,
        pain: Any,
        relief: Any,
        pgic: Any,
        effects: list[str] | None,
        note: str | None,
        session_id: int,
    ) -> tuple[Any, ...]:
        info, events = store.session(session_id), store.events(session_id)
        raw = {
            "pain_nrs": pain,
            "relief_days": relief,
            "pgic": pgic,
            "side_effects": effects or [],
            "note": note,
        }
        try:
            kind, payload = follow_up(info, events, access.acting_role(), raw)
        except SessionError as err:
            return (str(err), no_update, *errors_beside(str(err), FIELDS, INPUTS))
        steps.add_event(session_id, info.bed, time.time(), kind, access.user(), payload)
        redrawn = after_discharge(load_record(store, session_id))
        return ("Follow-up recorded (see the table below).", redrawn, *([None] * len(INPUTS)))
