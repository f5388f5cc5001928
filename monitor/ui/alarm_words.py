"""Alarm messages in clinical words, as a bedside monitor shows them.

`*** SpO₂ 83 < 85`, `** NBP sys 184 ≥ 160 · repeat the measurement`, `** NBP overdue`,
`** Probe off: SpO₂`. The value is the current one (the worst is kept for the record); one
line per signal and priority, where one cuff reading breaks several rules. The rule's code
name stays in the record and the exports.
"""

from __future__ import annotations

from monitor.model import ActiveAlarm, Display, Priority, Reading
from monitor.signals import label

PRIORITY_MARK = {Priority.HIGH: "***", Priority.MEDIUM: "**", Priority.LOW: "*"}
OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "rise": "rise >", "no value": "none for"}
# alarms decided outside the rules: what the nurse reads
FIXED = {
    "TECH_NO_DATA": "No data from the monitor",
    "TECH_PORT_LOST": "Monitor link lost: cable, port or chair offline",
    "TECH_PUMP_NO_DATA": "No rate from the pump: the dose shown is the charted one",
    "TECH_STORE_WRITE": "Record not being written",
    "TECH_NIBP_OVERDUE": "NBP overdue",
    "ASSESSMENT_OVERDUE": "Assessment overdue",
    "DOSE_PLAN_REACHED": "Planned dose given",
    "DOSE_PUMP_RATE_MISMATCH": "Pump rate differs from the charted rate",
    "DOSE_PUMP_RATE_ABOVE_MAX": "Pump rate above the maximum rate",
}
SENSOR = {"SPO2": "Probe off", "PR": "Probe off", "HR": "Leads off", "NIBP_SYS": "Cuff"}


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.3g}" if abs(v) < 10 else f"{v:.0f}"


def what(a: ActiveAlarm, latest: dict[str, Reading] | None = None) -> str:
    """The condition in words, with the value now and the limit."""
    if a.name in FIXED:
        return FIXED[a.name]
    if a.name.startswith("TECH_") and a.name.endswith("_INVALID"):
        signal = a.name.removeprefix("TECH_").removesuffix("_INVALID")
        return f"{SENSOR.get(signal, 'Sensor')}: {label(signal)}"
    if a.name.startswith("DOSE_CE_"):
        return f"Predicted Ce {_num(a.worst_value)} > {_num(a.limit)} ng/mL"
    now = (latest or {}).get(a.signal)
    value = now.value if now is not None else a.worst_value
    text = label(a.signal)
    if a.op == "no value":
        return f"{text}: none for {_num(a.limit)} s"
    if value is not None:
        text += f" {_num(value)}"
    if a.limit is not None and a.op:
        text += f" {OPS.get(a.op, a.op)} {_num(a.limit)}"
    return text


def alarm_line(a: ActiveAlarm, latest: dict[str, Reading] | None = None) -> str:
    text = f"{PRIORITY_MARK[a.priority]} {what(a, latest)}"
    if a.display is Display.LATCHED:
        text += " · latched: press Reset"
    elif a.display is Display.ACKNOWLEDGED:
        text += f" · acknowledged by {a.acked_by}"
    if a.prompt:
        text += f" · {a.prompt}"
    return text


def one_per_tier(alarms: list[ActiveAlarm]) -> list[ActiveAlarm]:
    """The first alarm of each (signal, priority), in the given order (most urgent first):
    one cuff reading over three rules is one line a tier, not three."""
    seen: set[tuple[str, Priority]] = set()
    out = []
    for a in alarms:
        key = (a.signal, a.priority)
        if a.technical or key not in seen:
            out.append(a)
            seen.add(key)
    return out
