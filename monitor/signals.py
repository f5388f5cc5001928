"""The signal registry: every vital-sign code the product knows, in its one canonical unit.

Source: ../shared/design/signals.md (MDC codes from IEEE 11073-10101, LOINC, VitalDB track names).
Values are converted to these units at the codec boundary; nothing downstream converts again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Signal:
    """One registry entry. `low`/`high` bound the physiologically plausible range (inclusive)."""

    code: str
    meaning: str
    unit: str
    mdc_code: int
    mdc_name: str
    loinc: str | None
    vitaldb_track: str
    low: float
    high: float
    intermittent: bool = False  # NIBP: one reading per cuff measurement, not a stream
    absent_at: float | None = None
    """At or below this the thing measured is absent (RR 0: no breath), for no-value rules."""

    def plausible(self, value: float) -> bool:
        return self.low <= value <= self.high


class UnknownSignalError(KeyError):
    """A code that is not in the registry."""

    def __str__(self) -> str:
        return f"unknown signal code {self.args[0]!r}"


_ENTRIES = (
    Signal("HR", "heart rate", "/min", 147842, "MDC_ECG_HEART_RATE", "8867-4", "HR", 0, 300),
    Signal(
        "PR",
        "pulse rate (oximeter)",
        "/min",
        149530,
        "MDC_PULS_OXIM_PULS_RATE",
        "8889-8",
        "PLETH_HR",
        0,
        300,
    ),
    Signal(
        "SPO2",
        "oxygen saturation",
        "%",
        150456,
        "MDC_PULS_OXIM_SAT_O2",
        "59408-5",
        "PLETH_SPO2",
        0,
        100,
    ),
    Signal(
        "NIBP_SYS",
        "non-invasive systolic pressure",
        "mmHg",
        150021,
        "MDC_PRESS_BLD_NONINV_SYS",
        "8480-6",
        "NIBP_SBP",
        0,
        300,
        intermittent=True,
    ),
    Signal(
        "NIBP_DIA",
        "non-invasive diastolic pressure",
        "mmHg",
        150022,
        "MDC_PRESS_BLD_NONINV_DIA",
        "8462-4",
        "NIBP_DBP",
        0,
        250,
        intermittent=True,
    ),
    Signal(
        "NIBP_MEAN",
        "non-invasive mean pressure",
        "mmHg",
        150023,
        "MDC_PRESS_BLD_NONINV_MEAN",
        "8478-0",
        "NIBP_MBP",
        0,
        250,
        intermittent=True,
    ),
    Signal(
        "RR", "respiratory rate", "/min", 151562, "MDC_RESP_RATE", "9279-1", "RR", 0, 150, False, 0
    ),
    # signals.md flags the EtCO2 MDC code as "verify"; kept as listed there.
    Signal(
        "ETCO2", "end-tidal CO2", "mmHg", 151708, "MDC_CONC_AWAY_CO2_ET", "19889-5", "ETCO2", 0, 150
    ),
    Signal(
        "FICO2", "inspired CO2", "mmHg", 151716, "MDC_CONC_AWAY_CO2_INSP", None, "INCO2", 0, 150
    ),
    Signal("TEMP", "body temperature", "°C", 150344, "MDC_TEMP", "8310-5", "BT", 25, 45),
    Signal(
        "ART_SYS",
        "arterial systolic pressure",
        "mmHg",
        150017,
        "MDC_PRESS_BLD_ART_SYS",
        "8480-6",
        "ART_SBP",
        0,
        300,
    ),
    Signal(
        "ART_DIA",
        "arterial diastolic pressure",
        "mmHg",
        150018,
        "MDC_PRESS_BLD_ART_DIA",
        "8462-4",
        "ART_DBP",
        0,
        300,
    ),
    Signal(
        "ART_MEAN",
        "arterial mean pressure",
        "mmHg",
        150019,
        "MDC_PRESS_BLD_ART_MEAN",
        "8478-0",
        "ART_MBP",
        0,
        300,
    ),
)

REGISTRY: dict[str, Signal] = {s.code: s for s in _ENTRIES}


# What a nurse reads for each code: the bedside monitor's short names, and the scores'.
LABELS = {
    "HR": "HR",
    "PR": "PR",
    "SPO2": "SpO₂",
    "RR": "RR",
    "ETCO2": "EtCO₂",
    "TEMP": "Temp",
    "NIBP_SYS": "NBP sys",
    "NIBP_DIA": "NBP dia",
    "NIBP_MEAN": "NBP mean",
    "ART_SYS": "ART sys",
    "ART_DIA": "ART dia",
    "ART_MBP": "ART mean",
    "CADSS6": "CADSS-6",
    "RASS": "RASS",
    "MOAA_S": "MOAA/S",
    "PAIN_NRS": "Pain",
    "NAUSEA": "Nausea",
}


# Bedside colours on the dark screen, and the same hues darkened for print on white paper.
# HR green and SpO₂ cyan as on monitors; PR magenta so it never reads as HR in one panel.
COLOURS = {
    "HR": ("#39ff6a", "#1b8a3a"),
    "PR": ("#ea80fc", "#9c27b0"),
    "SPO2": ("#2ee6ff", "#00838f"),
    "NIBP_SYS": ("#f2f2f2", "#212121"),
    "NIBP_MEAN": ("#b0b0b0", "#616161"),
    "NIBP_DIA": ("#f2f2f2", "#212121"),
    "RR": ("#ffe14d", "#a68b00"),
    "ETCO2": ("#ffb84d", "#d84315"),
    "TEMP": ("#ffffff", "#424242"),
    # the series charts: pain scores and the dose given, session by session
    "PAIN_NRS": ("#ff8a80", "#c62828"),
    "DOSE": ("#b388ff", "#5e35b1"),
}


def colour(code: str, printed: bool = False) -> str:
    screen, paper = COLOURS.get(code, ("#ffffff", "#424242"))
    return paper if printed else screen


def label(code: str) -> str:
    return LABELS.get(code, code)


def signal(code: str) -> Signal:
    """Look up a registry entry by code; raises UnknownSignalError."""
    try:
        return REGISTRY[code]
    except KeyError:
        raise UnknownSignalError(code) from None


def is_known(code: str) -> bool:
    return code in REGISTRY


def check_reading(code: str, unit: str, value: float, t: float) -> str | None:
    """The one reading validator: why a reading cannot be used, or None. The live core, the
    replay and the import all ask here, so a reading means the same thing everywhere."""
    sig = REGISTRY.get(code)
    if sig is None:
        return "unknown signal"
    if unit != sig.unit:
        return f"unit {unit!r} is not {sig.unit!r}"
    if not (math.isfinite(value) and math.isfinite(t)):
        return "not a finite number"
    if not sig.plausible(value):
        return f"outside plausible range {sig.low:g}-{sig.high:g} {sig.unit}"
    return None


@dataclass(frozen=True, slots=True)
class WaveformSignal:
    """A sampled waveform kept for review and export (not part of the numeric registry)."""

    code: str
    meaning: str
    unit: str
    vitaldb_track: str


# The DRI sends the plethysmogram at 100 Hz in units of 0.01 %, and ECG leads at 300 Hz in
# µV (protocols.md §1). The record keeps the pleth; the ECG is drawn live only.
WAVEFORMS: dict[str, WaveformSignal] = {
    w.code: w
    for w in (
        WaveformSignal("PLETH", "plethysmogram", "%", "PLETH"),
        WaveformSignal("ECG1", "ECG lead I", "µV", "ECG_I"),
    )
}
