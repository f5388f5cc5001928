"""What the numeric tiles show, and the colours nurses know from bedside monitors."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.model import Reading
from monitor.signals import colour


@dataclass(frozen=True, slots=True)
class TileSpec:
    key: str
    label: str
    unit: str
    color: str
    signals: tuple[str, ...]  # the first one carries the tile's age
    decimals: int = 0

    @property
    def primary(self) -> str:
        return self.signals[0]


# HR green, SpO2/pleth cyan, NIBP white, respiration/CO2 yellow: the common vendor scheme.
BED_TILES: tuple[TileSpec, ...] = (
    TileSpec("HR", "HR", "/min", "#39ff6a", ("HR",)),
    TileSpec("SPO2", "SpO₂", "%", "#2ee6ff", ("SPO2",)),
    TileSpec("NIBP", "NIBP", "mmHg", "#f2f2f2", ("NIBP_SYS", "NIBP_DIA", "NIBP_MEAN")),
    TileSpec("PR", "PR", "/min", colour("PR"), ("PR",)),
    TileSpec("RR", "RR", "/min", "#ffe14d", ("RR",)),
    TileSpec("ETCO2", "EtCO₂", "mmHg", "#ffe14d", ("ETCO2",)),
    TileSpec("TEMP", "Temp", "°C", "#f5a3ff", ("TEMP",), decimals=1),
)
OVERVIEW_TILES: tuple[TileSpec, ...] = tuple(
    t for t in BED_TILES if t.key in ("HR", "SPO2", "NIBP", "RR", "ETCO2")
)
TILE_OF_SIGNAL = {sig: t.key for t in BED_TILES for sig in t.signals}

NO_VALUE = "---"


def format_tile(spec: TileSpec, latest: dict[str, Reading]) -> str:
    """The big number of a tile; NIBP shows systolic/diastolic."""
    if spec.key == "NIBP":
        sys_r, dia_r = latest.get("NIBP_SYS"), latest.get("NIBP_DIA")
        if sys_r is None or dia_r is None:
            return NO_VALUE
        return f"{sys_r.value:.0f}/{dia_r.value:.0f}"
    r = latest.get(spec.primary)
    return NO_VALUE if r is None else f"{r.value:.{spec.decimals}f}"


def is_long(spec: TileSpec, text: str) -> bool:
    """A number too wide for a small tile at full size: three digits, or 136/100."""
    return len(text) >= (7 if spec.key == "NIBP" else 3)


def format_sub(spec: TileSpec, latest: dict[str, Reading], status: dict[str, str]) -> str:
    """The small line under the number: why there is no value, or the NIBP mean."""
    if spec.primary in status:
        return status[spec.primary]
    if spec.key == "NIBP":
        mean = latest.get("NIBP_MEAN")
        return f"({mean.value:.0f})" if mean is not None else ""
    return ""


def format_limits(
    spec: TileSpec, marks: dict[str, list[tuple[str, float, float]]]
) -> tuple[str, str]:
    """(upper, lower): the first limit on each side, as bedside monitors show them beside the
    number; a `*` marks a limit that differs from the clinic's default."""
    limits = marks.get(spec.primary, [])
    high = min(((lim, lim != base) for op, lim, base in limits if op in (">", ">=")), default=None)
    low = max(((lim, lim != base) for op, lim, base in limits if op in ("<", "<=")), default=None)

    def shown(side: tuple[float, bool] | None) -> str:
        if side is None:
            return ""
        return f"{side[0]:.{spec.decimals}f}" + ("*" if side[1] else "")

    return shown(high), shown(low)
