"""The session record's tables on the review page."""

from __future__ import annotations

from typing import Any

from dash import html

from monitor.record_tables import record_tables as tables_of
from monitor.review import SessionRecord


def record_tables(record: SessionRecord) -> list[Any]:
    out: list[Any] = []
    for table in tables_of(record.events):
        out.append(html.H3(table.title))
        if not table.rows:
            out.append(html.P("None recorded.", className="resolution"))
            continue
        out.append(
            html.Table(
                [html.Tr([html.Th(h) for h in table.head])]
                + [html.Tr([html.Td(c) for c in row]) for row in table.rows],
                id=f"rv-{table.key}",
                className="alarm-list",
            )
        )
    return out
