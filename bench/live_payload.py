"""Bytes and server CPU time per live tick, for 1, 10 and 30 beds, against the classic pattern.

Ours: each bed page polls one cursor-based callback that returns only new points
(`extendData` + `maxPoints`) and the numerics. The classic Dash live pattern (dash.plotly.com
/live-updates) is an Interval whose callback rebuilds and returns the whole figure of the same
15-minute window; it is measured built with graph objects, as the docs do, and as a plain dict.

Every request goes through Flask's test client to /_dash-update-component, exactly as the
browser posts it. One viewer per bed; the simulator runs on a manual clock, so each tick
carries exactly one second of new data. A request that fails (any status but 200, or an
error in the response) ends the bench with exit code 1: it never prints figures of error pages.

    python bench/live_payload.py [--ticks N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import plotly.graph_objects as go  # noqa: E402
from dash import Dash, Input, Output, dcc  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

from dashboard import Station, build_station  # noqa: E402
from monitor.clock import ManualClock  # noqa: E402
from monitor.ui import live  # noqa: E402
from tests.dash_requests import (  # noqa: E402
    UPDATE_URL,
    bed_tick_body,
    find_component,
    route_body,
)
from tests.helpers import make_config, pump  # noqa: E402


def classic_app(station: Station, graph_objects: bool) -> Dash:
    """The canonical live pattern: Interval -> whole figure, for the bed named in the URL."""
    app = Dash(__name__)
    app.layout = dcc.Graph(id="g")
    feed = station.ward

    @app.callback(Output("g", "figure"), Input("tick", "n_intervals"), Input("bed", "data"))
    def update(_n: int, bed: str) -> Any:
        readings, _ = feed.window(bed, live.LIVE_WINDOW_S)
        if not graph_objects:
            return live.trend_figure(readings)
        fig = make_subplots(rows=len(live.ROWS), cols=1, shared_xaxes=True, vertical_spacing=0.04)
        for tr in live.TRACES:
            pts = [r for r in readings if r.signal == tr.signal]
            fig.add_trace(
                go.Scatter(
                    x=[r.t * 1000 for r in pts],
                    y=[r.value for r in pts],
                    name=tr.name,
                    mode="lines+markers" if tr.markers else "lines",
                ),
                row=tr.row,
                col=1,
            )
        fig.update_layout(template="plotly_dark", height=420)
        return fig

    return app


def answered(resp: Any, what: str) -> bytes:
    """The body of a successful callback response; anything else ends the bench."""
    body = resp.data
    if resp.status_code != 200 or b'"response"' not in body:
        raise RuntimeError(f"{what}: HTTP {resp.status_code}: {body[:200]!r}")
    return bytes(body)


def classic_body(n: int, bed: str) -> dict[str, Any]:
    return {
        "output": "g.figure",
        "outputs": {"id": "g", "property": "figure"},
        "inputs": [
            {"id": "tick", "property": "n_intervals", "value": n},
            {"id": "bed", "property": "data", "value": bed},
        ],
        "changedPropIds": ["tick.n_intervals"],
        "state": [],
    }


def measure(beds: int, ticks: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock()
        station = build_station(make_config(Path(tmp), beds=beds), clock)
        pump(station, clock, 900)
        ours = station.app.server.test_client()
        classic = {
            "classic (graph objects)": classic_app(station, True).server.test_client(),
            "classic (plain dict)": classic_app(station, False).server.test_client(),
        }
        bed_ids = [b.id for b in station.ward.beds()]
        cursors = {}
        for bed in bed_ids:
            body = route_body(station.app, f"/bed/{bed}")
            page = json.loads(answered(ours.post(UPDATE_URL, json=body), f"/bed/{bed}"))
            layout = page["response"]["page"]["children"]
            cursors[bed] = find_component(layout, "bed-cursor")["props"]["data"]  # type: ignore[index]

        results: dict[str, list[tuple[int, float]]] = {"extendData (ours)": []}
        results.update({name: [] for name in classic})
        for n in range(1, ticks + 1):
            pump(station, clock, 1)
            size, cpu0 = 0, time.process_time()
            for bed in bed_ids:
                resp = ours.post(UPDATE_URL, json=bed_tick_body(station.app, cursors[bed], n))
                data = answered(resp, f"tick {bed}")
                cursors[bed] = json.loads(data)["response"]["bed-cursor"]["data"]
                size += len(data)
            results["extendData (ours)"].append((size, time.process_time() - cpu0))
            for name, client in classic.items():
                size, cpu0 = 0, time.process_time()
                for bed in bed_ids:
                    resp = client.post(UPDATE_URL, json=classic_body(n, bed))
                    size += len(answered(resp, f"{name} {bed}"))
                results[name].append((size, time.process_time() - cpu0))
        station.stop()
    return {k: (mean(s for s, _ in v), mean(c for _, c in v)) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10, help="ticks measured per bed count")
    parser.add_argument("--beds", type=int, nargs="+", default=[1, 10, 30])
    args = parser.parse_args()
    header = ("beds", "pattern", "bytes/tick", "KiB/s", "server CPU ms/tick")
    print(f"{header[0]:>4}  {header[1]:<24} {header[2]:>12} {header[3]:>8} {header[4]:>19}")
    for beds in args.beds:
        for name, (size, cpu) in measure(beds, args.ticks).items():
            print(f"{beds:>4}  {name:<24} {size:>12,.0f} {size / 1024:>8.1f} {cpu * 1000:>19.1f}")


if __name__ == "__main__":
    try:
        main()
    except Exception as err:  # a bench never prints figures after a failure
        print(f"live_payload: FAILED: {err}", file=sys.stderr)
        sys.exit(1)
