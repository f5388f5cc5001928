"""Synthetic waveforms for the simulated patient: the plethysmogram and ECG beats, continuous
in phase from block to block."""

from __future__ import annotations

import numpy as np

PLETH_HZ = 100  # as the DRI sends it (protocols.md §1)


def pleth_wave(phase: np.ndarray) -> np.ndarray:
    """A plethysmogram beat shape over cardiac phase 0-1: the systolic upstroke and peak,
    then a smaller dicrotic wave, in the monitor's % units."""
    frac = phase % 1.0
    return (
        5.0
        + 60.0 * np.exp(-(((frac - 0.18) / 0.09) ** 2))
        + 22.0 * np.exp(-(((frac - 0.5) / 0.12) ** 2))
    )


def ecg_wave(phase: np.ndarray) -> np.ndarray:
    """An ECG lead I beat over cardiac phase 0-1 in µV: P wave, QRS complex and T wave as
    Gaussian bumps (a drawing for training, not a physiological model)."""
    frac = phase % 1.0

    def bump(centre: float, width: float, height: float) -> np.ndarray:
        return height * np.exp(-(((frac - centre) / width) ** 2))

    return (
        bump(0.10, 0.025, 120.0)
        + bump(0.215, 0.008, -120.0)
        + bump(0.235, 0.010, 1100.0)
        + bump(0.255, 0.008, -250.0)
        + bump(0.48, 0.045, 280.0)
    )


class PlethSource:
    """Successive blocks of pleth at a pulse rate, the phase carried from block to block."""

    def __init__(self) -> None:
        self.phase = 0.0

    def block(self, seconds: float, pulse_per_min: float) -> np.ndarray:
        n = max(1, round(seconds * PLETH_HZ))
        step = (pulse_per_min / 60.0) / PLETH_HZ
        phase = self.phase + np.arange(n) * step
        self.phase = float(phase[-1] + step) % 1.0
        return pleth_wave(phase).astype(np.float32)
