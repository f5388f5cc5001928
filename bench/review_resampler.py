"""plotly-resampler on a 12-hour review: build time, first-view bytes, zoom time and bytes.

For comparison with our own review page. Builds one FigureResampler (1,000 points shown per
trace, the default MinMaxLTTB) with a scattergl trace per signal of DATA.npz, whose arrays are
`t_<CODE>` (float64 epoch seconds, sorted) and `v_<CODE>` (float32); x is passed as
datetime64[ms] through hf_x. It then times:

- first view: building the figure, i.e. loading every full-resolution series into the resampler
  and aggregating the whole range; its size is `fig.to_json()`, what `dcc.Graph(figure=fig)`
  sends (plotly's default template included);
- zoom 5 min, 1 hour, 12 hours: `fig.construct_update_data_patch(relayout)` for a window centred
  on the middle of the data, median of 5 runs; its size is the Patch serialized as Dash sends a
  callback output (`plotly.io.json.to_json_plotly`).

The JSON time is printed last on each line; kB are 1,000 bytes.

It runs in a separate venv (bench/resampler_env.sh makes it) because plotly-resampler 0.11.x
declares plotly<7, and the project's own .venv has plotly 7.

    python bench/review_resampler.py DATA.npz
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.io.json import to_json_plotly
from plotly_resampler import FigureResampler

N_SHOWN = 1000
RUNS = 5
WINDOWS = (("zoom 5 min", 300), ("zoom 1 hour", 3600), ("zoom 12 hours", 12 * 3600))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1e3, result


def to_ms(t: np.ndarray) -> np.ndarray:
    return np.round(t * 1e3).astype(np.int64).astype("datetime64[ms]")


def build(series: dict[str, tuple[np.ndarray, np.ndarray]]) -> FigureResampler:
    fig = FigureResampler(go.Figure(), default_n_shown_samples=N_SHOWN)
    for code, (t, v) in series.items():
        fig.add_trace(go.Scattergl(name=code, mode="lines"), hf_x=to_ms(t), hf_y=v)
    return fig


def stamp(t: float) -> str:
    return str(np.datetime64(round(t * 1e6), "us")).replace("T", " ")


def line(label: str, ms: float, payload: str, json_ms: float) -> str:
    size = len(payload.encode())
    return f"resampler  {label:<14}{ms:8.1f} ms {size / 1e3:7.0f} kB   json {json_ms:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="npz with t_<CODE> and v_<CODE> arrays")
    args = parser.parse_args()

    with np.load(args.data) as npz:
        codes = sorted(k[2:] for k in npz.files if k.startswith("t_"))
        series = {c: (npz[f"t_{c}"], npz[f"v_{c}"]) for c in codes}
    t0 = min(t[0] for t, _ in series.values())
    t1 = max(t[-1] for t, _ in series.values())
    mid = (t0 + t1) / 2

    build_ms, fig = timed(lambda: build(series))
    json_ms, payload = timed(fig.to_json)
    print(line("first view", build_ms, payload, json_ms))

    for label, span in WINDOWS:
        lo, hi = max(t0, mid - span / 2), min(t1, mid + span / 2)
        relayout = {"xaxis.range[0]": stamp(lo), "xaxis.range[1]": stamp(hi)}
        runs = [timed(lambda r=relayout: fig.construct_update_data_patch(r)) for _ in range(RUNS)]
        patch = runs[-1][1]
        json_ms, payload = timed(lambda p=patch: to_json_plotly(p))
        print(line(label, statistics.median(ms for ms, _ in runs), payload, json_ms))


if __name__ == "__main__":
    main()
