"""Alarm decisions: made here, on the server, and nowhere else."""

from monitor.alarms.engine import ThresholdAlarms
from monitor.alarms.rules import breaches

__all__ = ["ThresholdAlarms", "breaches"]
