"""Ketamine PK: exact against the closed form, published anchors, mass balance, pauses."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from monitor.pk import CLEMENTS, DOMINO, Bolus, Infusion, PkSimulator, dose_mg
from tests.helpers import REPO


def exponents(
    amount: float, v1: float, k10: float, k12: float, k21: float
) -> tuple[float, float, float, float]:
    """Two-compartment macro constants (A, alpha, B, beta) for `amount` in V1."""
    s = k10 + k12 + k21
    root = math.sqrt(s * s - 4 * k10 * k21)
    alpha, beta = (s + root) / 2, (s - root) / 2
    a = amount / v1 * (alpha - k21) / (alpha - beta)
    b = amount / v1 * (k21 - beta) / (alpha - beta)
    return a, alpha, b, beta


def closed_form_bolus_cp(
    dose_mg_total: float, v1: float, k10: float, k12: float, k21: float, t: float
) -> float:
    """Two-compartment bolus: Cp = A e^-at + B e^-bt (mg/L)."""
    a, alpha, b, beta = exponents(dose_mg_total, v1, k10, k12, k21)
    return a * math.exp(-alpha * t) + b * math.exp(-beta * t)


def closed_form_infusion_cp(
    rate_mg_min: float, v1: float, k10: float, k12: float, k21: float, t: float
) -> float:
    """The same model under a constant infusion from 0: the integral of the bolus response."""
    a, alpha, b, beta = exponents(rate_mg_min, v1, k10, k12, k21)
    return a / alpha * (1 - math.exp(-alpha * t)) + b / beta * (1 - math.exp(-beta * t))


@pytest.mark.parametrize("t", [1, 5, 17.5, 40, 120, 600])
def test_bolus_matches_the_closed_form(t: float) -> None:
    sim = PkSimulator(CLEMENTS, 80)
    (p,) = sim.predict([], [t], [Bolus(0.5, 0)])
    m = CLEMENTS
    expected = closed_form_bolus_cp(40, m.v1_l_per_kg * 80, m.k10, m.k12, m.k21, t) * 1000
    assert p.cp_ng_ml == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("t", [3, 40, 90])
def test_infusion_matches_the_closed_form(t: float) -> None:
    (p,) = PkSimulator(CLEMENTS, 70).predict([Infusion(0.6, 0, 1000)], [t])
    m = CLEMENTS
    expected = closed_form_infusion_cp(0.6 * 70 / 60, m.v1_l_per_kg * 70, m.k10, m.k12, m.k21, t)
    assert p.cp_ng_ml == pytest.approx(expected * 1000, rel=1e-9)


def test_depression_regimen_anchors() -> None:
    """0.5 mg/kg over 40 min: Cp(40) about 177 ng/mL, Ce peak about 156 near 45 min."""
    sim = PkSimulator(CLEMENTS, 70)
    (at40,) = sim.predict([Infusion(0.75, 0, 40)], [40])
    assert at40.cp_ng_ml == pytest.approx(177, rel=0.02)
    curve = sim.predict([Infusion(0.75, 0, 40)], [m / 4 for m in range(0, 600)])
    peak = max(curve, key=lambda p: p.ce_ng_ml)
    assert 43 <= peak.minute <= 47 and peak.ce_ng_ml == pytest.approx(156, rel=0.02)
    (d40,) = PkSimulator(DOMINO, 70).predict([Infusion(0.75, 0, 40)], [40])
    assert d40.cp_ng_ml == pytest.approx(240, rel=0.02)


def test_crps_regimen_anchors() -> None:
    got = PkSimulator(CLEMENTS, 70).predict([Infusion(0.35, 0, 240)], [60, 120, 240])
    assert [round(p.cp_ng_ml) for p in got] == pytest.approx([105, 150, 207], abs=2)


@pytest.mark.parametrize("model", [CLEMENTS, DOMINO])
def test_mass_balance(model) -> None:  # type: ignore[no-untyped-def]
    infusions = [Infusion(0.75, 0, 20), Infusion(1.2, 30, 40)]
    boluses = [Bolus(0.1, 5)]
    sim = PkSimulator(model, 64)
    for p in sim.predict(infusions, [1, 10, 25, 35, 40, 300], boluses):
        given = dose_mg(infusions, boluses, 64, until_min=p.minute)
        assert p.amount_in_body_mg + p.eliminated_mg == pytest.approx(given, rel=1e-9)


def test_pause_and_resume() -> None:
    sim = PkSimulator(CLEMENTS, 70)
    paused = sim.predict([Infusion(0.75, 0, 20), Infusion(0.75, 30, 50)], [20, 25, 30, 50])
    (at20,) = sim.predict([Infusion(0.75, 0, 20)], [20])
    assert paused[0].cp_ng_ml == pytest.approx(at20.cp_ng_ml)
    assert paused[1].cp_ng_ml < paused[0].cp_ng_ml  # falling during the pause
    continuous = sim.predict([Infusion(0.75, 0, 40)], [40])[0]
    assert paused[3].cp_ng_ml < continuous.cp_ng_ml * 1.05
    assert dose_mg([Infusion(0.75, 0, 20), Infusion(0.75, 30, 50)], [], 70) == pytest.approx(35.0)


def test_pk_command_prints_csv() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "pk",
            "--model",
            "clements",
            "--weight",
            "70",
            "--infusion",
            "0.75@0-40",
            "--at",
            "40,45",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "minute,cp_ng_ml,ce_ng_ml"
    minute, cp, ce = lines[1].split(",")
    assert minute == "40" and float(cp) == pytest.approx(177, rel=0.02)
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "pk",
            "--weight",
            "70",
            "--infusion",
            "fast",
            "--at",
            "1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "expected RATE@START-END" in bad.stderr
