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
# A sensor that was reading and stopped (probe off, leads off): LOW at first, MEDIUM after 30 s.
SENSOR_PRIORITY = Priority.LOW
SENSOR_ESCALATE_S = 30.0


def sensor_alarm(signal: str) -> str:
    """TECH_SPO2_INVALID and so on: the device reports no valid value for a signal it had."""
    return f"TECH_{signal}_INVALID"
