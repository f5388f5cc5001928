"""Bytes a viewer is sent and server CPU a second of live data costs, for 1, 10 and 30 beds,
against the classic Dash pattern.

Ours: a broadcaster builds each bed's change once (numerics and state, new trend points,
100 Hz pleth chunks) and every viewer's stream copies the same bytes; the central station gets
the beds' changes gathered (pleth at 25 Hz). So its CPU does not grow with viewers. The
classic Dash live pattern (dash.plotly.com/live-updates) is an Interval whose callback
rebuilds and returns the whole figure of the same 15-minute window, for each viewer each
second; it is measured built with graph objects, as the docs do, and as a plain dict, through
Flask's test client to /_dash-update-component exactly as the browser posts it.

The simulator runs on a manual clock, so each step carries exactly one second of new data.
A request that fails, or a channel that lost messages, ends the bench with exit code 1: it
never prints figures of error pages. Real streams to 120 viewers: bench/viewers.py.

    python bench/live_payload.py [--ticks N] [--beds 1 10 30]
"""

from __future__ import annotations

import argparse
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
from monitor.ui.broadcast import Broadcaster, Channel  # noqa: E402
from tests.dash_requests import UPDATE_URL  # noqa: E402
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


def _sent(channel: Channel, after: int) -> int:
    """Bytes a viewer of this channel was sent after message `after` (SSE framing included)."""
    items, complete = channel.after(after)
    if not complete:
        raise RuntimeError("the channel lost messages during the bench")
    return sum(len(item[1]) for item in items)


def measure(beds: int, ticks: int) -> dict[str, tuple[float, float, float]]:
    """Per pattern: (bytes a second to one viewer, server CPU ms a second with one viewer a
    bed, the same with four viewers a bed)."""
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock()
        station = build_station(make_config(Path(tmp), beds=beds), clock)
        pump(station, clock, 900)
        broadcaster: Broadcaster = station.app.server.extensions["live"][0]
        broadcaster.follow_from_now()  # the bench steps it; no thread
        classic = {
            "classic, graph objects": classic_app(station, True).server.test_client(),
            "classic, plain dict": classic_app(station, False).server.test_client(),
        }
        bed_ids = [b.id for b in station.ward.beds()]
        rows: dict[str, list[tuple[float, float]]] = {
            "push, bed page (ours)": [],
            "push, central page (ours)": [],
        }
        rows.update({name: [] for name in classic})
        for n in range(1, ticks + 1):
            pump(station, clock, 1)
            marks = {b: c.last for b, c in broadcaster.bed_channels.items()}
            ward_mark = broadcaster.ward.last
            cpu0 = time.process_time()
            broadcaster.step(bed_ids, ward_now=True)  # once, whoever watches
            cpu = time.process_time() - cpu0
            per_bed = mean(_sent(broadcaster.bed_channels[b], marks[b]) for b in bed_ids)
            rows["push, bed page (ours)"].append((per_bed, cpu))
            rows["push, central page (ours)"].append((_sent(broadcaster.ward, ward_mark), 0.0))
            for name, client in classic.items():
                size, cpu0 = 0, time.process_time()
                for bed in bed_ids:
                    resp = client.post(UPDATE_URL, json=classic_body(n, bed))
                    size += len(answered(resp, f"{name} {bed}"))
                rows[name].append((size / len(bed_ids), time.process_time() - cpu0))
        station.stop()
    out = {}
    for name, values in rows.items():
        size, cpu = mean(v[0] for v in values), mean(v[1] for v in values) * 1000
        shared = name.startswith("push")  # built once and copied to every viewer
        out[name] = (size, cpu, cpu if shared else 4 * cpu)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10, help="seconds measured per bed count")
    parser.add_argument("--beds", type=int, nargs="+", default=[1, 10, 30])
    args = parser.parse_args()
    print("beds  pattern                      bytes/s a viewer  CPU ms/s 1 a bed  4 a bed")
    for beds in args.beds:
        for name, (size, one, four) in measure(beds, args.ticks).items():
            cpu = f"{one:>15.1f}  {four:>7.1f}" if one else f"{'(in the row above)':>24}"
            print(f"{beds:>4}  {name:<28} {size:>16,.0f}  {cpu}")


if __name__ == "__main__":
    try:
        main()
    except Exception as err:  # a bench never prints figures after a failure
        print(f"live_payload: FAILED: {err}", file=sys.stderr)
        sys.exit(1)
