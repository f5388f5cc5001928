"""The live pleth strip on the bed page: a few seconds of 100 Hz samples, gaps drawn as gaps.

Blocks arrive with the bed's journal; the page extends the trace with them (extendData,
bounded by maxPoints). A block that does not join the last one (a probe off, a lost feed)
starts after a blank point, so the trace breaks instead of drawing a line across the gap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monitor.model import Waveform

STRIP_S = 6.0
RATE_HZ = 100
MAX_POINTS = int(STRIP_S * RATE_HZ) + 20  # the gap markers included
JOIN_S = 0.05  # blocks this close join: more apart is a gap
COLOUR = "#4dd0e1"  # the SpO2 tile's colour: the pleth belongs to it


def strip_figure() -> dict[str, Any]:
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Pleth",
                "x": [],
                "y": [],
                "line": {"color": COLOUR, "width": 1.5},
                "hoverinfo": "skip",
                "connectgaps": False,
            }
        ],
        "layout": {
            "height": 110,
            "margin": {"l": 48, "r": 8, "t": 4, "b": 4},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "xaxis": {"type": "date", "showticklabels": False, "showgrid": False},
            "yaxis": {
                "range": [0, 100],
                "showticklabels": False,
                "showgrid": False,
                "title": {"text": "Pleth", "font": {"color": COLOUR, "size": 12}},
            },
            "showlegend": False,
            "uirevision": "strip",
        },
    }


def strip_extend(blocks: list[Waveform], last_end: float) -> tuple[Any, float]:
    """(extendData for the strip or None, the end time of the last sample drawn)."""
    xs: list[int] = []
    ys: list[int | None] = []
    for block in blocks:
        if block.signal != "PLETH":
            continue
        if last_end and block.t > last_end + JOIN_S:
            xs.append(round((last_end + (block.t - last_end) / 2) * 1000))
            ys.append(None)  # the gap
        n = len(block.samples)
        t = block.t + np.arange(n) / block.rate_hz
        values = np.asarray(block.samples, dtype=float)
        xs.extend((t * 1000).round().astype(np.int64).tolist())  # whole ms: 10 ms apart
        ys.extend(None if np.isnan(v) else int(round(v)) for v in values)  # a shape, not a value
        last_end = block.t + n / block.rate_hz
    if not xs:
        return None, last_end
    return [{"x": [xs], "y": [ys]}, [0], MAX_POINTS], last_end
