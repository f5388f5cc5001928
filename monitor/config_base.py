"""Shared pieces of the config models: strict models and the checks several sections use."""

from __future__ import annotations

from pydantic import ConfigDict

from monitor.config_numbers import NumbersNotBooleans
from monitor.session import SCALES
from monitor.signals import is_known


class Strict(NumbersNotBooleans):
    model_config = ConfigDict(extra="forbid", frozen=True)


def signal_or_score(code: str) -> str:
    if not is_known(code) and code not in SCALES:
        raise ValueError(
            f"unknown signal {code!r} (see the signal registry and the "
            f"assessment scales {', '.join(SCALES)})"
        )
    return code


def reject_duplicates(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"duplicate {what} {name!r}")
        seen.add(name)
