"""Run recorded readings through the alarm engine in simulated time.

Input is the `time,signal,value,unit` CSV that `python -m devices decode` and the session export
write. Nobody acknowledges anything, so the output shows what the rules alone would have done:
a physician can ask what a past session would have alarmed under other limits.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from monitor.alarms import BedAlarms
from monitor.config import AlarmsConfig
from monitor.model import AlarmPhase, AlarmTransition, Priority
from monitor.signals import REGISTRY

READINGS_HEADER = ["time", "signal", "value", "unit"]
TRANSITIONS_HEADER = ["time", "bed", "alarm", "priority", "state", "value"]


class ReplayInputError(Exception):
    """The readings file is not the expected CSV; the message names the line."""


@dataclass
class ReplayResult:
    readings: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    first_t: float | None = None
    last_t: float | None = None
    onsets: Counter[str] = field(default_factory=Counter)

    @property
    def hours(self) -> float:
        if self.first_t is None or self.last_t is None:
            return 0.0
        return (self.last_t - self.first_t) / 3600

    def burden(self) -> dict[str, float]:
        """Alarms raised per hour, per priority."""
        hours = self.hours
        return {
            p.name: (self.onsets[p.name] / hours if hours else math.nan)
            for p in sorted(Priority, reverse=True)
        }


def read_readings(lines: Iterable[str], source: str) -> Iterator[tuple[float, str, float, str]]:
    """(time, signal, value, unit) rows; raises ReplayInputError naming the bad line."""
    rows = csv.reader(lines)
    header = next(rows, None)
    if header != READINGS_HEADER:
        raise ReplayInputError(f"{source}: line 1: expected the header {','.join(READINGS_HEADER)}")
    for n, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != 4:
            raise ReplayInputError(f"{source}: line {n}: expected 4 fields, got {len(row)}")
        try:
            t, value = float(row[0]), float(row[2])
        except ValueError:
            raise ReplayInputError(f"{source}: line {n}: time and value must be numbers") from None
        yield t, row[1], value, row[3]


def replay(
    rows: Iterable[tuple[float, str, float, str]],
    alarms: AlarmsConfig,
    bed: str,
    out: TextIO | None,
) -> ReplayResult:
    """Feed `rows` (time-ordered) through a bed's engine; write transitions as CSV to `out`."""
    engine = BedAlarms(bed, alarms.rules, alarms.audio_pause_s)
    writer = csv.writer(out, lineterminator="\n") if out is not None else None
    if writer:
        writer.writerow(TRANSITIONS_HEADER)
    result = ReplayResult()
    units = {code: s.unit for code, s in REGISTRY.items()}
    ranges = {code: (s.low, s.high) for code, s in REGISTRY.items()}
    onsets = result.onsets
    last_tick = -math.inf

    def emit(transitions: list[AlarmTransition]) -> None:
        for tr in transitions:
            if tr.state is AlarmPhase.ACTIVE:
                onsets[tr.priority.name] += 1
            if writer:
                value = "" if tr.value is None else f"{tr.value:.10g}"
                writer.writerow([f"{tr.t:.10g}", bed, tr.name, tr.priority.name, tr.state, value])

    for t, signal, value, unit in rows:
        if units.get(signal) != unit:
            result.skipped["unknown signal or unit" if signal not in units else "wrong unit"] += 1
            continue
        lo, hi = ranges[signal]
        if not (lo <= value <= hi):
            result.skipped["outside plausible range"] += 1
            continue
        if t < last_tick:
            result.skipped["out of time order"] += 1
            continue
        if t > last_tick:  # time moved on: delays, missing values, escalation
            emit(engine.tick(t))
            last_tick = t
        if result.first_t is None:
            result.first_t = t
        result.last_t = t
        result.readings += 1
        emit(engine.evaluate_value(signal, t, value))
    return result
