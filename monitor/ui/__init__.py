"""The Dash web face of the monitor. Pages read the live feed; they never decide alarms."""
