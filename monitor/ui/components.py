"""Small layout builders shared by the pages: pure functions returning components."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import html

from monitor.model import Reading
from monitor.ui.live import tile_subs, tile_texts, tile_titles
from monitor.ui.tiles import TileSpec, format_limits, is_long

DISCLAIMER = (
    "Secondary display. The bedside monitor and infusion pump remain the primary alarm "
    "systems. Alarm limits are engineering defaults for the clinic to review and configure; "
    "they are not medical advice."
)


def simulation_banner() -> html.Div:
    return html.Div("SIMULATION — not a patient", className="sim-banner", role="status")


def disclaimer() -> html.Div:
    return html.Div(DISCLAIMER, className="disclaimer")


def limit_lines(spec: TileSpec, marks: dict[str, list[tuple[str, float, float]]]) -> list[Any]:
    """The upper and lower alarm limit beside a tile's number (* where changed)."""
    high, low = format_limits(spec, marks)
    return [
        html.Div(f"{arrow} {text}" if text else "", className=_limit_class(text))
        for arrow, text in (("▲", high), ("▼", low))
    ]


def _limit_class(text: str) -> str:
    return "tile-limit changed" if text.endswith("*") else "tile-limit"


def numeric_tiles(
    specs: tuple[TileSpec, ...],
    latest: dict[str, Reading],
    status: dict[str, str],
    *,
    bed: str,
    size: str,
    marks: dict[str, list[tuple[str, float, float]]] | None = None,
) -> list[html.Div]:
    """Numeric tiles as first drawn; live.js keeps their number, age and colour current
    (it finds them by data-bed and data-tile). With `marks`, the alarm limits beside them."""
    texts, subs, titles = (
        tile_texts(specs, latest),
        tile_subs(specs, latest, status),
        tile_titles(specs, latest),
    )
    tiles = []
    for spec, text, sub, title in zip(specs, texts, subs, titles, strict=True):
        limits = (
            [
                html.Div(
                    limit_lines(spec, marks),
                    id={"type": "bed-limits", "tile": spec.key},
                    className="tile-limits",
                    title="Alarm limits; * differs from the clinic's default",
                )
            ]
            if marks is not None
            else []
        )
        tiles.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(spec.label, className="tile-label"),
                            html.Span(spec.unit, className="tile-unit"),
                        ],
                        className="tile-head",
                    ),
                    html.Div(
                        text,
                        className="tile-value long" if is_long(spec, text) else "tile-value",
                        title=title,
                    ),
                    html.Div(sub, className="tile-sub"),
                    *limits,
                    html.Div("NO DATA", className="tile-nodata"),
                    html.Div("", className="tile-age"),
                ],
                className=f"tile tile-{size} tile-key-{spec.key}",
                style={"--signal-color": spec.color},
                **{"data-bed": bed, "data-tile": spec.key},
            )
        )
    return tiles


def alarm_table(rows: list[dict[str, str]]) -> html.Table | html.Div:
    if not rows:
        return html.Div("No alarms on this bed.", className="alarm-list-empty")
    head = html.Thead(html.Tr([html.Th(k) for k in rows[0]]))
    body = html.Tbody(
        [
            html.Tr(
                [html.Td(v) for v in row.values()],
                className=f"alarm-row alarm-row-{row['priority'].lower()}",
            )
            for row in rows
        ]
    )
    return html.Table([head, body], className="alarm-list")


def alarm_controls() -> html.Div:
    """Acknowledge, audio pause (with its countdown) and reset, big enough for a glove."""
    return html.Div(
        [
            dmc.Button("Acknowledge", id="bed-ack", size="lg", color="yellow", variant="filled"),
            dmc.Button("Audio pause 2 min", id="bed-pause", size="lg", color="gray"),
            dmc.Button("Reset latched", id="bed-reset", size="lg", color="red", variant="outline"),
            html.Span("", id="bed-pause-left", className="pause-left", role="timer"),
            html.Span("", id="bed-alarm-msg", className="form-msg", role="status"),
        ],
        className="alarm-controls",
    )


def limit_form(limits: dict[str, str]) -> html.Div:
    """Change one alarm limit for this bed; the reason is required and logged."""
    return html.Div(
        [
            html.H3("Change an alarm limit", className="section-title"),
            dmc.Group(
                [
                    dmc.Select(
                        id="limit-alarm",
                        label="Alarm",
                        size="md",
                        w=280,
                        searchable=True,
                        allowDeselect=False,  # picking the same alarm again keeps it
                        data=[{"value": k, "label": f"{k}  ({v})"} for k, v in limits.items()],
                    ),
                    dmc.NumberInput(id="limit-value", label="New limit", size="md", w=140),
                    dmc.TextInput(id="limit-reason", label="Reason", size="md", w=320),
                    dmc.Button("Change limit", id="limit-change", size="md", color="blue"),
                ],
                align="flex-end",
            ),
            html.Div("", id="limit-msg", className="form-msg", role="status"),
        ],
        className="limit-form",
    )
