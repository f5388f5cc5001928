"""The session record's tables on the review page."""

from __future__ import annotations

from typing import Any

from dash import html

from monitor.record_tables import RecordTable
from monitor.record_tables import record_tables as tables_of
from monitor.review import SessionRecord


def table_view(table: RecordTable) -> Any:
    if not table.rows:
        return html.P("Nothing recorded.", className="resolution")
    return html.Table(
        [html.Tr([html.Th(h) for h in table.head])]
        + [html.Tr([html.Td(c) for c in row]) for row in table.rows],
        id=f"rv-{table.key}",
        className="alarm-list",
    )


def record_tables(record: SessionRecord) -> list[Any]:
    """Each table under its title, in a section a later step can redraw (a follow-up)."""
    out: list[Any] = []
    for table in tables_of(record.events):
        out += [html.H3(table.title), html.Div(table_view(table), id=f"rv-section-{table.key}")]
    return out
