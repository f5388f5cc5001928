"""Alarm decisions: made here, on the server, and nowhere else."""

from monitor.alarms.engine import BedAlarms, Tracker
from monitor.alarms.rules import breaches

__all__ = ["BedAlarms", "Tracker", "breaches"]
