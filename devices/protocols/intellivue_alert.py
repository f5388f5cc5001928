"""Philips IntelliVue Data Export: the monitor's own alarm lists, both directions.

An extended poll of the alert monitor object NOM_MOC_VMO_AL_MON (protocols.md §2.4 step 5,
code 0x36) returns the lists of active alarms. From the Programming Guide's chapter "Data
Export Protocol: Alert Monitor Object" ("Device P-Alarm List", "Device T-Alarm List"):

* NOM_ATTR_AL_MON_P_AL_LIST (0x0902) physiological, NOM_ATTR_AL_MON_T_AL_LIST (0x0904)
  technical alarms (INOPs); each a DevAlarmList = count u16, length u16, DevAlarmEntry[].
* DevAlarmEntry = al_source u16 (physio id), al_code u16, al_type u16 (AlertType),
  al_state u16, object (class, context, handle), alert_info_id u16, length u16, info.
* info is AlMonGenInfo (GEN_ALMON_INFO 513: al_inst_no u16, al_text u32, al_priority u16,
  al_flags u16), or StrAlMonInfo (STR_ALMON_INFO 516: the same, then a String {length u16,
  16-bit characters}) with the text the monitor shows.
* AlertType: LOW/MED/HI_PRI_T_AL 0x0001/0x0002/0x0004, LOW/MED/HI_PRI_P_AL
  0x0100/0x0200/0x0400.

The station keeps its own alarms: these arrive as device events ("monitor_alarm") for the
session log, one when an alarm appears on the monitor and one when it goes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

NOM_MOC_VMO_AL_MON = 0x0036
NOM_ATTR_AL_MON_P_AL_LIST = 0x0902
NOM_ATTR_AL_MON_T_AL_LIST = 0x0904
GEN_ALMON_INFO, STR_ALMON_INFO = 513, 516

ALARM_ENTRY = struct.Struct(">HHHHHHHHH")  # source, code, type, state, object, info id, len
GEN_INFO = struct.Struct(">HIHH")  # al_inst_no, al_text, al_priority, al_flags

ALERT_TYPES: dict[int, tuple[str, str]] = {
    0x0001: ("technical", "low"),
    0x0002: ("technical", "medium"),
    0x0004: ("technical", "high"),
    0x0100: ("physiological", "low"),
    0x0200: ("physiological", "medium"),
    0x0400: ("physiological", "high"),
}
_LISTS = {NOM_ATTR_AL_MON_P_AL_LIST: "physiological", NOM_ATTR_AL_MON_T_AL_LIST: "technical"}


@dataclass(frozen=True, slots=True)
class MonitorAlarm:
    source: int  # physio id of what alarms (e.g. 0x4182 heart rate)
    code: int  # the alarm's event code (e.g. high limit)
    alert_type: int
    text: str = ""

    @property
    def detail(self) -> dict[str, object]:
        kind, priority = ALERT_TYPES.get(self.alert_type, ("unknown", "unknown"))
        return {
            "source": f"0x{self.source:04X}",
            "code": f"0x{self.code:04X}",
            "kind": kind,
            "priority": priority,
            "text": self.text,
        }


def read_alarm_lists(avas: list[tuple[int, bytes]]) -> set[MonitorAlarm] | None:
    """The active alarms of an alert monitor object; None when it carries no list."""
    found = False
    out: set[MonitorAlarm] = set()
    for attr, value in avas:
        if attr not in _LISTS:
            continue
        found = True
        count, length = struct.unpack_from(">HH", value)
        pos, end = 4, 4 + length
        if end > len(value):
            raise ValueError("alarm list longer than its attribute")
        for _ in range(count):
            source, code, kind, _state, _c, _x, _h, info_id, n = ALARM_ENTRY.unpack_from(value, pos)
            pos += ALARM_ENTRY.size
            info = value[pos : pos + n]
            pos += n
            text = ""
            if info_id == STR_ALMON_INFO and len(info) >= GEN_INFO.size + 2:
                (chars,) = struct.unpack_from(">H", info, GEN_INFO.size)
                start = GEN_INFO.size + 2
                text = info[start : start + chars].decode("utf-16-be", "replace").rstrip("\0")
            out.add(MonitorAlarm(source, code, kind, text))
    return out if found else None


def alarm_list(alarms: list[MonitorAlarm]) -> bytes:
    """A DevAlarmList of StrAlMonInfo entries (for the virtual monitor and the tests)."""
    entries = b""
    for i, alarm in enumerate(alarms):
        text = alarm.text.encode("utf-16-be")
        info = GEN_INFO.pack(i, 0, 0, 0) + struct.pack(">H", len(text)) + text
        entries += ALARM_ENTRY.pack(
            alarm.source, alarm.code, alarm.alert_type, 0, 0, 0, 0, STR_ALMON_INFO, len(info)
        )
        entries += info
    return struct.pack(">HH", len(alarms), len(entries)) + entries
