"""The simple simulated monitor: seeded, realistic, NIBP on its cycle, ketamine-like rise."""

from __future__ import annotations

import statistics
import threading

from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.physiology import SimplePatient
from monitor.clock import ManualClock
from monitor.model import Reading, Waveform
from monitor.signals import REGISTRY


def _run(monitor: SimulatedMonitor, clock: ManualClock, seconds: int) -> list[Reading]:
    got: list[Reading] = []
    stop = threading.Event()
    thread = threading.Thread(target=monitor.run, args=(got.append, stop), daemon=True)
    thread.start()
    for _ in range(seconds):
        n = len(got)
        clock.advance(1.0)
        while len(got) == n:  # wait for the tick this second produced
            threading.Event().wait(0.001)
    stop.set()
    thread.join(2)
    return got


def test_same_seed_same_patient() -> None:
    a, b = SimplePatient(7), SimplePatient(7)
    for _ in range(50):
        a.advance(1), b.advance(1)
    assert a.continuous() == b.continuous()
    assert SimplePatient(8).baseline != a.baseline


def test_values_are_plausible_and_noisy() -> None:
    p = SimplePatient(3)
    hr = []
    for _ in range(600):
        p.advance(1.0)
        v = p.continuous()
        for code, value in v.items():
            assert REGISTRY[code].plausible(value), (code, value)
        hr.append(v["HR"])
    assert 0.5 < statistics.stdev(hr) < 8  # alive but not jumping about
    assert len(set(hr)) > 5


def test_one_hertz_numerics_and_nibp_every_cycle() -> None:
    clock = ManualClock()
    t0 = clock.now()
    monitor = SimulatedMonitor("b", SimplePatient(1), clock, 1.0, nibp_interval_s=180)
    items = _run(monitor, clock, 400)
    got = [r for r in items if isinstance(r, Reading)]
    pleth = [w for w in items if isinstance(w, Waveform)]
    # 100 Hz in chunks of at most 250 ms, each joining the one before
    assert sum(len(w.samples) for w in pleth) >= 399 * 100
    assert all(len(w.samples) <= 100 for w in pleth) and len(pleth) > 400
    ends = [a.t + len(a.samples) / 100 for a in pleth]
    assert all(abs(b.t - end) < 1e-6 for end, b in zip(ends, pleth[1:], strict=False))
    hr_times = [r.t for r in got if r.signal == "HR"]
    assert len(hr_times) >= 399
    assert all(abs((b - a) - 1.0) < 1e-6 for a, b in zip(hr_times, hr_times[1:], strict=False))
    cuffs = [r.t - t0 for r in got if r.signal == "NIBP_SYS"]
    assert cuffs == [5.0, 185.0, 365.0]
    assert {r.signal for r in got} == {
        "HR",
        "PR",
        "SPO2",
        "RR",
        "ETCO2",
        "TEMP",
        "NIBP_SYS",
        "NIBP_DIA",
        "NIBP_MEAN",
    }
    assert all(r.unit == REGISTRY[r.signal].unit for r in got)


def test_infusion_raises_pressure_and_heart_rate() -> None:
    def mean_over(patient: SimplePatient, minutes: int) -> tuple[float, float]:
        sbp, hr = [], []
        for _ in range(minutes * 60):
            patient.advance(1.0)
            hr.append(patient.continuous()["HR"])
            if len(hr) % 60 == 0:
                sbp.append(patient.cuff()["NIBP_SYS"])
        return statistics.mean(sbp[-10:]), statistics.mean(hr[-600:])

    control, infused = SimplePatient(5), SimplePatient(5)
    infused.mg_per_h = 0.75 * infused.weight_kg
    sbp0, hr0 = mean_over(control, 40)
    sbp1, hr1 = mean_over(infused, 40)
    assert 6 < sbp1 - sbp0 < 25  # mild: around +14 mmHg at 0.75 mg/kg/h
    assert 1 < hr1 - hr0 < 10


def test_override_is_the_training_hook() -> None:
    clock = ManualClock()
    monitor = SimulatedMonitor("b", SimplePatient(1), clock)
    monitor.set_value("SPO2", 80)
    assert monitor.patient.continuous()["SPO2"] == 80
    monitor.set_value("SPO2", None)
    assert monitor.patient.continuous()["SPO2"] > 90
