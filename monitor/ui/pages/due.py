"""What falls due: follow-up contacts after discharge (/follow-ups) and patients' next
infusions (/infusions-due). Lists only; the steps are recorded on the review and series
pages. Patients appear by pseudonym."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from dash import dcc, html

from monitor.model import SessionInfo, StoredEvent
from monitor.ports import ReviewSource
from monitor.record_words import clock, duration
from monitor.series import DAY_S, due_follow_ups, latest_plan
from monitor.session_config import SessionConfig
from monitor.ui.auth import Access

KEEP_LISTING_DAYS = 30  # an unmade contact stays listed this long after its last due time


def _table(head: tuple[str, ...], rows: list[list[Any]], table_id: str) -> Any:
    if not rows:
        return html.P("Nothing due.", id=table_id)
    return html.Table(
        [html.Tr([html.Th(h) for h in head]), *(html.Tr([html.Td(c) for c in r]) for r in rows)],
        className="alarm-list",
        id=table_id,
    )


def _patient(access: Access, info: SessionInfo) -> Any:
    key = access.pseudonym(info.patient_ref)
    return dcc.Link(key, href=f"/patients/{key}")


def follow_ups_layout(store: ReviewSource, session: SessionConfig, access: Access) -> Any:
    now = time.time()
    after = session.follow_up_after_h
    horizon = (max(after, default=0) / 24 + KEEP_LISTING_DAYS) * DAY_S
    rows = []
    for info in store.sessions():
        if info.source != "live" or info.ended_at is None or now - info.ended_at > horizon:
            continue
        for due in due_follow_ups(info, store.events(info.id), after, now):
            rows.append(
                (
                    due.due_at,
                    [
                        due.label,
                        clock(due.due_at),
                        duration(now - due.due_at),
                        dcc.Link(f"Session {info.id}", href=f"/review/{info.id}"),
                        info.bed,
                        _patient(access, info),
                    ],
                )
            )
    head = ("contact", "due", "overdue by", "session", "bed", "patient")
    return html.Div(
        [
            html.H2("Due follow-ups"),
            html.P(
                "Contacts after discharge at "
                + ", ".join(f"{h:g} h" for h in after)
                + "; record each on the session's page."
            ),
            _table(head, [r for _, r in sorted(rows, key=lambda x: x[0])], "due-follow-ups"),
        ]
    )


def infusions_layout(store: ReviewSource, access: Access) -> Any:
    now = time.time()
    series: dict[str, list[tuple[SessionInfo, list[StoredEvent]]]] = defaultdict(list)
    for info in store.sessions():
        if info.source == "live" and info.patient_ref:
            series[access.pseudonym(info.patient_ref)].append((info, store.events(info.id)))
    rows = []
    for key, history in series.items():
        plan = latest_plan(sorted(history, key=lambda h: h[0].started_at))
        if plan is None:
            continue
        last = max(i.started_at for i, _ in history)
        state = "overdue" if now > plan.due_by else "due now" if now >= plan.due_from else ""
        cells = [
            dcc.Link(key, href=f"/patients/{key}"),
            clock(last)[:10],
            f"{clock(plan.due_from)[:10]} to {clock(plan.due_by)[:10]}",
            state,
            plan.note,
        ]
        rows.append((plan.due_from, cells))
    head = ("patient", "last infusion", "next due", "", "plan")
    return html.Div(
        [
            html.H2("Due infusions"),
            _table(head, [r for _, r in sorted(rows, key=lambda x: x[0])], "due-infusions"),
        ]
    )
