"""Physician review of a 12-hour session: first view, zoom times and payload sizes.

Builds a closed 12-hour session in a fresh SQLite session log through the store's own write
path: 10 numerics at 1 Hz (432,000 readings) and a 100 Hz plethysmogram (4.32 M samples in 1 s
blocks, as the DRI sends them), plus a 2-hour infusion, compacted every ten minutes as a live
session is. Then, server side:

- first view: the review page's content (summary, alarm history, figure of every track) from a
  freshly opened store, so nothing is cached; its size is the JSON Dash sends, and the time
  to serialize it is printed last on the line (as for the comparison);
- zoom 5 min, 1 hour, 12 hours: the zoom callback's Patch (median of 5; tracks cached, as a
  worker that has served the first view has them); its size as Dash serializes it.

Targets (issue: physician review): first view <= 150 ms, zoom <= 30 ms, payload <= 300 kB.

With --resampler it writes the same tracks to an .npz and runs bench/review_resampler.py with
plotly-resampler's FigureResampler in a separate venv (bench/resampler_env.sh), because
plotly-resampler 0.11.x declares plotly<7 and cannot share the project's environment.

    python bench/review.py [--hours 12] [--resampler]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plotly.io.json import to_json_plotly  # noqa: E402

from monitor.config import load_config  # noqa: E402
from monitor.model import Waveform  # noqa: E402
from monitor.storage.sqlite import SessionStore  # noqa: E402
from monitor.ui.pages.review import review_layout, zoom_patch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
T0 = 1_767_225_600.0
NUMERICS = {  # signal: (mean, swing) of a slow sinusoidal trend with noise
    "HR": (75, 10),
    "PR": (75, 10),
    "SPO2": (97, 2),
    "RR": (14, 3),
    "ETCO2": (36, 3),
    "FICO2": (0.5, 0.4),
    "TEMP": (36.8, 0.3),
    "NIBP_SYS": (125, 15),
    "NIBP_DIA": (75, 8),
    "NIBP_MEAN": (92, 10),
}
PLETH_HZ = 100
SLICE_S = 600  # the journal a live session compacts at a time (store.COMPACT_AFTER)
WINDOWS = (("zoom 5 min", 300), ("zoom 1 hour", 3600), ("zoom 12 hours", 12 * 3600))


def build(store: SessionStore, hours: float, rng: np.random.Generator) -> tuple[int, dict]:
    seconds = int(hours * 3600)
    plan = {"weight_kg": 70.0, "planned_rate_mg_kg_h": 0.5, "patient_ref": "BENCH"}
    session = store.create_session("chair-1", "simulated", T0, plan, "bench")
    store.add_event(session.id, "chair-1", T0 + 600, "infusion_started", "bench", {"rate": 0.5})
    store.add_event(session.id, "chair-1", T0 + 7800, "infusion_stopped", "bench", {})
    t = T0 + np.arange(seconds, dtype=np.float64)
    tracks = {}
    for code, (mean, swing) in NUMERICS.items():
        v = mean + swing * np.sin(t / 1800) + rng.normal(0, swing / 10, seconds)
        v = np.round(np.clip(v, 0.1, None), 1)
        if code == "SPO2":
            v[3 * 3600 : 3 * 3600 + 40] = 82.0  # a desaturation the downsampling must keep
        tracks[code] = (t, v)
    phase = np.arange(seconds * PLETH_HZ) * (75 / 60) / PLETH_HZ
    pleth = (5 + 60 * np.exp(-((((phase % 1) - 0.18) / 0.09) ** 2))).astype(np.float32)
    # As live: ten minutes of journal at a time, then a compaction (72 chunks per signal).
    for lo in range(0, seconds, SLICE_S):
        hi = min(lo + SLICE_S, seconds)
        for code, (tt, v) in tracks.items():
            rows = zip(tt[lo:hi].tolist(), [code] * (hi - lo), v[lo:hi].tolist(), strict=True)
            store.append_many(session.id, list(rows))
        for k in range(lo, hi):
            block = pleth[k * PLETH_HZ : (k + 1) * PLETH_HZ]
            wave = Waveform("chair-1", T0 + k, "PLETH", PLETH_HZ, block)
            store.append_waveform(session.id, wave)
        store.flush()
        store.compact(session.id)
    tracks = {code: (tt, v.astype(np.float32)) for code, (tt, v) in tracks.items()}
    store.close_session(session.id, T0 + seconds, "bench")
    tracks["PLETH"] = (T0 + np.arange(seconds * PLETH_HZ) / PLETH_HZ, pleth)
    return session.id, tracks


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1e3, result


def stamp(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}"


def line(label: str, ms: float, serialize: Callable[[], str]) -> str:
    json_ms, payload = timed(serialize)
    size = len(payload.encode()) / 1e3
    return f"ours       {label:<14}{ms:8.1f} ms {size:7.0f} kB   json {json_ms:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=12.0)
    parser.add_argument("--resampler", action="store_true")
    args = parser.parse_args()
    rules = load_config(REPO / "config.yaml").alarms.rules
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "review.db"
        writer = SessionStore(path)
        build_ms, (session_id, tracks) = timed(
            lambda: build(writer, args.hours, np.random.default_rng(7))
        )
        writer.close()
        samples = sum(len(t) for t, _ in tracks.values())
        print(
            f"built      {args.hours:g} h session: {samples:,} samples in {build_ms / 1e3:.1f} s,"
            f" log {path.stat().st_size / 1e6:.0f} MB"
        )

        store = SessionStore(path)  # a worker that has not seen this session yet
        session = load_config(REPO / "config.yaml").session
        first_ms, content = timed(lambda: review_layout(store, session_id, rules, session))
        print(line("first view", first_ms, lambda: to_json_plotly(content)))
        mid = T0 + args.hours * 3600 / 2
        for label, span in WINDOWS:
            lo, hi = max(T0, mid - span / 2), min(T0 + args.hours * 3600, mid + span / 2)
            relayout = {"xaxis.range[0]": stamp(lo), "xaxis.range[1]": stamp(hi)}
            runs = [timed(lambda r=relayout: zoom_patch(store, session_id, r)) for _ in range(5)]
            patch = runs[-1][1][0]
            median = statistics.median(ms for ms, _ in runs)
            print(line(label, median, lambda p=patch: to_json_plotly(p)))
        store.close()

        if not args.resampler:
            print("resampler  not run: pass --resampler (installs plotly-resampler, which pins")
            print("           plotly<7, into a separate venv; see bench/resampler_env.sh)")
            return
        npz = Path(tmp) / "tracks.npz"
        arrays = {f"t_{c}": t for c, (t, _) in tracks.items()}
        arrays |= {f"v_{c}": v for c, (_, v) in tracks.items()}
        np.savez(npz, **arrays)
        subprocess.run(["bash", str(REPO / "bench" / "resampler_env.sh"), str(npz)], check=True)


if __name__ == "__main__":
    main()
