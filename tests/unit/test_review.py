"""Review: downsampling that never loses extremes, and a summary computed by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monitor.clock import ManualClock
from monitor.config import AlarmRule, AlarmsConfig, BedConfig, SimulatorDevice
from monitor.model import Reading, Waveform
from monitor.review import _seconds_outside, downsample, summarize, window, with_breaks
from monitor.runtime.bed import BedRuntime
from monitor.storage.sqlite import SessionStore
from tests.helpers import PLAN, QuietDevice


def test_downsampling_keeps_every_windows_extremes() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(12 * 3600, dtype=np.float64)  # 12 h at 1 Hz
    v = 97 + np.cumsum(rng.normal(0, 0.05, t.size))
    v[rng.integers(0, t.size, 40)] -= rng.uniform(5, 20, 40)  # brief desaturations
    for start, length in ((0, t.size), (3600, 3600), (40_000, 300), (100, 50_000)):
        tw, vw = t[start : start + length], v[start : start + length]
        ts, vs = downsample(tw, vw, 2000)
        assert len(ts) <= 2000
        assert vs.min() == vw.min() and vs.max() == vw.max()
        assert np.all(np.diff(ts) > 0)


def test_a_gap_in_the_data_breaks_the_line_and_is_not_counted_outside_limits() -> None:
    # SpO2 at 1 Hz, low for 60 s, then the probe off for 10 min (no readings), then low 60 s
    t = np.concatenate([np.arange(0, 120.0), np.arange(720, 840.0)])
    v = np.where((t >= 60) & (t < 780), 88.0, 97.0)
    rule = AlarmRule(name="SPO2_LOW", signal="SPO2", op="<", limit=92, priority="MEDIUM")
    # 60 s before the gap + 60 s after it; the 10 min without data count nothing
    assert _seconds_outside(t, v, [rule]) == 120.0
    ts, vs = downsample(t, v, 100)
    gap_start = t[1:][np.diff(t) > 10]
    tb, vb = with_breaks(ts, vs, gap_start)
    assert np.isnan(vb).sum() == 1  # one break, where the readings resume
    k = int(np.flatnonzero(np.isnan(vb))[0])
    assert tb[k - 1] <= 119 and tb[k + 1] >= 720
    assert with_breaks(ts, vs, np.empty(0))[1] is vs  # no gap: drawn as one line


def test_summary_of_a_hand_made_session(tmp_path: Path) -> None:
    clock = ManualClock()
    store = SessionStore(tmp_path / "s.db")
    rules = [
        AlarmRule(name="SPO2_LOW", signal="SPO2", op="<", limit=92, priority="MEDIUM"),
        AlarmRule(name="NIBP_SYS_HIGH", signal="NIBP_SYS", op=">=", limit=160, priority="HIGH"),
    ]
    bed = BedConfig(id="b", name="B", device=SimulatorDevice(kind="simulator"))
    hub = BedRuntime(
        bed,
        QuietDevice(),
        store,
        clock,
        AlarmsConfig(rules=rules),
    )

    def at(signal: str, value: float, unit: str) -> None:
        hub.ingest(Reading("b", clock.now(), signal, value, unit))

    s = hub.create_session(PLAN, "nurse")
    for sbp in (120, 124):
        at("NIBP_SYS", sbp, "mmHg")
        for signal, value, unit in (("HR", 70, "/min"), ("SPO2", 97, "%"), ("RR", 14, "/min")):
            at(signal, value, unit)
        clock.advance(180)
    hub.confirm_baseline("nurse")  # SBP 122
    hub.start_infusion("dr", "test set-up", role="physician")
    hub.assess({"CADSS6": 14, "RASS": 1}, "nurse")
    # SpO2 each second for 100 s: 97, except 20 s at 90 (one alarm) and 5 s at 91 (a blip)
    spo2 = [97.0] * 30 + [90.0] * 20 + [97.0] * 20 + [91.0] * 5 + [97.0] * 25
    for i, v in enumerate(spo2):
        at("SPO2", v, "%")
        if i == 35:
            hub.acknowledge("nurse")  # 5 s after the first onset
        clock.advance(1)
    at("NIBP_SYS", 170, "mmHg")  # peak: +48 from baseline, 1 HIGH alarm (never acknowledged)
    clock.advance(20 * 60 - 100)
    hub.pause_infusion("nurse")
    clock.advance(10 * 60)
    hub.resume_infusion("nurse")
    hub.assess({"CADSS6": 3, "RASS": -2}, "nurse")
    clock.advance(10 * 60)
    hub.stop_infusion("nurse")
    store.flush()

    summary = summarize(store, s.id, rules)
    assert summary.baseline["NIBP_SYS"] == 122
    assert summary.peak_delta_sbp == 48
    assert summary.infusion_minutes == 30
    assert summary.dose_mg == pytest.approx(30.0)  # 0.75 mg/kg/h x 80 kg x 0.5 h
    assert summary.dose_mg_kg == pytest.approx(0.375)
    assert (summary.peak_cadss6, summary.worst_rass) == (14, -2)
    spo2_summary = summary.signals["SPO2"]
    assert (spo2_summary.minimum, spo2_summary.maximum) == (90, 97)
    assert spo2_summary.seconds_outside_limits == 25
    assert summary.signals["NIBP_SYS"].seconds_outside_limits > 0
    assert summary.alarms_by_priority == {"HIGH": 1, "MEDIUM": 2, "LOW": 0}
    assert (summary.ack_median_s, summary.ack_max_s) == (5, 5)
    assert summary.nuisance_alarms == 1  # the 5 s blip
    store.close()


def test_window_is_stateless_and_reports_resolution(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    s = store.create_session("b", "live", 0, {"weight_kg": 70, "planned_rate_mg_kg_h": 0.5}, "x")
    store.append_many(s.id, [(float(i), "HR", 60 + (i % 50)) for i in range(43_200)])
    whole = window(store, s.id, "HR", n_out=1000)
    assert whole.raw_points == 43_200 and len(whole.t) <= 1000
    assert whole.resolution_s > 40
    zoom = window(store, s.id, "HR", start=1000, end=1299, n_out=1000)
    assert zoom.raw_points == 300 and len(zoom.t) == 300 and zoom.resolution_s == 1
    store.close()


def test_waveform_windows_keep_extremes_and_true_times(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    t0 = 1_767_225_600.0
    s = store.create_session("b", "live", t0, {"weight_kg": 70, "planned_rate_mg_kg_h": 0}, "n")
    rng = np.random.default_rng(3)
    blocks = []
    for k in range(600):  # ten minutes of 100 Hz pleth in 1 s blocks, with a 30 s gap
        samples = (50 + 30 * np.sin(np.arange(100) / 10) + rng.normal(0, 1, 100)).astype("f4")
        if k == 450:
            samples[17] = 150.0  # an artefact spike the view must keep
        start = t0 + k + (30 if k >= 300 else 0)
        blocks.append((start, samples))
        store.append_waveform(s.id, Waveform("b", start, "PLETH", 100.0, samples))
    store.flush()
    all_t = np.concatenate([st + np.arange(100) / 100 for st, _ in blocks])
    all_v = np.concatenate([v for _, v in blocks])
    for start, end in ((None, None), (t0 + 200, t0 + 500), (t0 + 470, t0 + 490)):
        w = window(store, s.id, "PLETH", start, end, 1000)
        mask = np.ones(len(all_t), bool)
        if start is not None:
            mask = (all_t >= start) & (all_t <= end)
        assert w.raw_points == mask.sum() and len(w.t) <= 1000
        assert w.v.max() == all_v[mask].max() and w.v.min() == all_v[mask].min()
        # every drawn point sits at its sample's true time, gap included
        assert np.allclose(w.t, all_t[mask][np.searchsorted(all_t[mask], w.t - 1e-6)])
    assert window(store, s.id, "PLETH", t0 + 301, t0 + 329).raw_points == 0  # in the gap
