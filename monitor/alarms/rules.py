"""Pure evaluation of alarm conditions: no state, no time."""

from __future__ import annotations

import operator
from collections.abc import Callable

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def breaches(value: float, op: str, limit: float) -> bool:
    """True when `value` is on the alarming side of `limit`."""
    return _OPS[op](value, limit)


def worse(a: float, b: float, op: str) -> float:
    """The more extreme of two values for this condition: the peak for highs, nadir for lows."""
    return max(a, b) if op in (">", ">=") else min(a, b)
