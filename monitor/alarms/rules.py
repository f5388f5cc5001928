"""Pure evaluation of alarm conditions: no state machine, no clock."""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable

from monitor.config import AlarmRule

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "!=": operator.ne,  # criteria only (e.g. RASS != 0 holds a discharge)
    "==": operator.eq,
}
HIGH_OPS = (">", ">=")
LOW_OPS = ("<", "<=")


def breaches(value: float, op: str, limit: float) -> bool:
    """True when `value` is on the alarming side of `limit`."""
    return _OPS[op](value, limit)


def worse(a: float, b: float, op: str) -> float:
    """The more extreme of two values: the nadir for low limits, else the peak (highs, rises,
    and the seconds without a value)."""
    return min(a, b) if op in LOW_OPS else max(a, b)


def relative_limit(baseline: float, op: str, distance: float, kind: str) -> float:
    """The absolute limit `distance` (% or units) above/below a baseline, on the op's side."""
    delta = baseline * distance / 100 if kind == "pct" else distance
    return baseline + delta if op in HIGH_OPS else baseline - delta


class Condition:
    """Evaluates one rule's condition from readings; `None` means "no opinion yet"."""

    __slots__ = ("rule", "limit", "op", "_window")

    def __init__(self, rule: AlarmRule) -> None:
        self.rule = rule
        self.op = rule.op or (">" if rule.rise is not None else "no value")
        self.limit = rule.limit if rule.relative is None else None  # relative: from baseline
        self._window: deque[tuple[float, float]] = deque()

    def set_baseline(self, baseline: float | None) -> None:
        r = self.rule
        if r.relative is not None:
            self.limit = (
                None
                if baseline is None
                else relative_limit(baseline, self.op, r.limit or 0.0, r.relative)
            )

    def onset(self, t: float, value: float) -> bool | None:
        """Is the alarm condition present, given this new reading?"""
        r = self.rule
        if r.rise is not None:
            w = self._window
            w.append((t, value))
            while w and w[0][0] < t - (r.window_s or 0):
                w.popleft()
            return value - min(v for _, v in w) >= r.rise
        if r.no_value_s is not None:
            return False  # a valid value arrived
        if self.limit is None:
            return None  # relative to a baseline not yet confirmed
        return breaches(value, self.op, self.limit)

    def holds(self, t: float, value: float) -> bool | None:
        """While raised: the condition stays until the value is back past the hysteresis."""
        if self.rule.hysteresis and self.limit is not None and self.rule.rise is None:
            h = self.rule.hysteresis
            back = self.limit - h if self.op in HIGH_OPS else self.limit + h
            return breaches(value, self.op, back)
        return self.onset(t, value)
