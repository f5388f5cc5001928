"""Technical alarm names and thresholds: the bed's feed and the station, not the patient.

They go through the same state machine as the physiological alarms but never latch and clear
by themselves on recovery (clinical.md §1.6, §6).
"""

from __future__ import annotations

from monitor.model import Priority

NO_DATA = "TECH_NO_DATA"  # no valid reading for more than twice the feed's interval
PORT_LOST = "TECH_PORT_LOST"  # the device's port vanished or cannot be opened
STORE_WRITE = "TECH_STORE_WRITE"  # the session log cannot be written
STALE_FACTOR = 2.0
JITTER_S = 0.25  # wall-clock scheduling allowance per unit of simulated speed above 1
# A sensor that was reading and stopped (probe off, leads off): LOW at first, MEDIUM after 30 s;
# during an infusion SpO2 and HR go to HIGH after 2 min (clinical.md §6, technical rows).
SENSOR_PRIORITY = Priority.LOW
SENSOR_ESCALATE_S = 30.0
SENSOR_HIGH_S = 120.0
SENSOR_HIGH_SIGNALS = ("SPO2", "HR")
NO_DATA_HIGH_S = 60.0  # a stale feed during an infusion: HIGH after 60 s


def no_data_steps(infusing: bool) -> tuple[tuple[float, Priority], ...]:
    return ((NO_DATA_HIGH_S, Priority.HIGH),) if infusing else ()


def sensor_steps(name: str, infusing: bool) -> tuple[tuple[float, Priority], ...]:
    """How TECH_<SIGNAL>_INVALID rises while it lasts (seconds from onset, priority)."""
    steps: tuple[tuple[float, Priority], ...] = ((SENSOR_ESCALATE_S, Priority.MEDIUM),)
    if infusing and any(name == sensor_alarm(s) for s in SENSOR_HIGH_SIGNALS):
        steps += ((SENSOR_HIGH_S, Priority.HIGH),)
    return steps


def sensor_alarm(signal: str) -> str:
    """TECH_SPO2_INVALID and so on: the device reports no valid value for a signal it had."""
    return f"TECH_{signal}_INVALID"
