"""The signal registry as code matches signals.md."""

from __future__ import annotations

import pytest

from monitor.signals import REGISTRY, UnknownSignalError, is_known, signal


def test_core_codes_and_units() -> None:
    expected = {
        "HR": "/min",
        "PR": "/min",
        "SPO2": "%",
        "NIBP_SYS": "mmHg",
        "NIBP_DIA": "mmHg",
        "NIBP_MEAN": "mmHg",
        "RR": "/min",
        "ETCO2": "mmHg",
        "FICO2": "mmHg",
        "TEMP": "°C",
        "ART_SYS": "mmHg",
        "ART_DIA": "mmHg",
        "ART_MEAN": "mmHg",
    }
    assert {code: s.unit for code, s in REGISTRY.items()} == expected


def test_export_codes() -> None:
    assert signal("HR").mdc_code == 147842
    assert signal("SPO2").mdc_name == "MDC_PULS_OXIM_SAT_O2"
    assert signal("NIBP_SYS").loinc == "8480-6"
    assert signal("SPO2").vitaldb_track == "PLETH_SPO2"
    assert signal("TEMP").vitaldb_track == "BT"


def test_plausible_ranges_are_inclusive() -> None:
    spo2 = signal("SPO2")
    assert spo2.plausible(0) and spo2.plausible(100)
    assert not spo2.plausible(100.1) and not spo2.plausible(-1)
    temp = signal("TEMP")
    assert not temp.plausible(24.9) and temp.plausible(25) and temp.plausible(45)


def test_only_nibp_is_intermittent() -> None:
    assert {c for c, s in REGISTRY.items() if s.intermittent} == {
        "NIBP_SYS",
        "NIBP_DIA",
        "NIBP_MEAN",
    }


def test_unknown_code() -> None:
    assert not is_known("SPO3")
    with pytest.raises(UnknownSignalError, match="unknown signal code 'SPO3'"):
        signal("SPO3")
