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
from monitor.record_words import clock
from monitor.review import SessionRecord, load_record
from monitor.series import PGIC, SIDE_EFFECTS, follow_up, follow_ups
from monitor.session import SessionError
from monitor.ui.auth import Access

# a refusal names its field first: that field shows it
FIELDS = {
    "pain NRS": "fu-pain",
    "days of relief": "fu-relief",
    "PGIC": "fu-pgic",
    "side effects:": "fu-effects",
    "side effects, in words": "fu-note",
}
INPUTS = tuple(FIELDS.values())


def _recorded(record: SessionRecord) -> Any:
    contacts = follow_ups(record.info, record.events)
    if not contacts:
        return html.P("No follow-up recorded yet.")
    head = ("when", "after", "by", "pain NRS", "days of relief", "PGIC", "side effects")
    rows = [
        [
            clock(f.t),
            f"{f.days_after:g} d",
            f.user,
            str(f.pain_nrs),
            str(f.relief_days),
            f"{f.pgic} · {PGIC[f.pgic]}",
            ", ".join(f.side_effects) + (f" · {f.note}" if f.note else "") or "none",
        ]
        for f in contacts
    ]
    return html.Table(
        [html.Tr([html.Th(h) for h in head]), *(html.Tr([html.Td(c) for c in r]) for r in rows)],
        className="alarm-list",
        id="fu-table",
    )


def follow_up_panel(record: SessionRecord, series_href: str | None) -> Any:
    info = record.info
    if info.source != "live" or info.ended_at is None:
        return html.Div()
    return html.Div(
        [
            html.H3("Follow-up after discharge"),
            dcc.Link("The patient's series", href=series_href) if series_href else None,
            html.Div(_recorded(record), id="fu-recorded"),
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
        Output("fu-recorded", "children"),
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
            # logins off: the loopback station acts for every role, as on one bedside screen
            kind, payload = follow_up(info, events, access.role() or "physician", raw)
        except SessionError as err:
            return (str(err), no_update, *_errors(str(err)))
        steps.add_event(session_id, info.bed, time.time(), kind, access.user(), payload)
        recorded = _recorded(load_record(store, session_id))
        return ("Follow-up recorded.", recorded, *([None] * len(INPUTS)))


def _errors(message: str) -> list[str | None]:
    out: list[str | None] = [None] * len(INPUTS)
    for name in sorted(FIELDS, key=len, reverse=True):
        if message.startswith(name):
            out[INPUTS.index(FIELDS[name])] = message
            break
    return out
