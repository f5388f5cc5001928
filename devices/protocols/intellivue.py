"""Philips IntelliVue Data Export over the MIB/RS-232 port: the sans-I/O decoder.

Bytes go in with `IntelliVueDecoder.feed`; readings, waveform blocks (pleth, ECG), device
events (the monitor's own alarms among them) and the host's replies (`HostReply`: the MDS
create result and the extended polls of numerics, waves and alarms, renewed) come out. Waves
are read in `intellivue_wave`, the alarm lists in `intellivue_alert`. The writing side
(the host's requests, and the monitor's messages the simulator and the tests build) is in
`intellivue_encode`, which shares the constants and layouts below. No serial, no sockets.

Wire facts from ../shared/design/protocols.md §2, which follows the Philips "Data Export
Interface Programming Guide" (4535 645 88011): chapter 4 "Transport Protocols for the MIB/RS232
Interface" (Framing, Header Information, Frame Check Sequence Field, Transparency, Frame Abort),
chapter 3 "Protocol Dialog" (association, MDS create, poll) and chapter 5 "Definition of the
Data Export Protocol" (big-endian, FLOAT-Type, attribute lists).
"""

from __future__ import annotations

import calendar
import struct
from dataclasses import dataclass

from devices.protocols.intellivue_alert import NOM_MOC_VMO_AL_MON, MonitorAlarm, read_alarm_lists
from devices.protocols.intellivue_frame import DecoderStats, Deframer
from devices.protocols.intellivue_wave import (
    JOIN_S,
    NOM_MOC_VMO_METRIC_SA_RT,
    WAVE_PHYSIO,
    WAVE_UNITS,
    WaveObject,
    read_wave_attributes,
    waveform,
)
from monitor.model import DeviceEvent, Reading, Waveform
from monitor.signals import REGISTRY

# -- session layer (protocols.md §2.4) ----------------------------------------------------
CN_SPDU, AC_SPDU, RF_SPDU = 0x0D, 0x0E, 0x0C  # association request, accept, refuse
FN_SPDU, DN_SPDU, AB_SPDU = 0x09, 0x0A, 0x19  # release request, release response, abort
DATA_SPDU = 0xE1  # "E1 00 00 02": session id 0xE100, presentation context 2

# -- remote operations (protocols.md §2.5) ------------------------------------------------
ROIV, RORS, ROER, RORLS = 1, 2, 3, 5
CMD_EVENT_REPORT, CMD_CONFIRMED_EVENT_REPORT, CMD_CONFIRMED_ACTION = 0, 1, 7
NOM_MOC_VMS_MDS = 0x0021
NOM_NOTI_MDS_CREAT = 0x0D06
NOM_ACT_POLL_MDIB_DATA_EXT = 0xF13B
NOM_MOC_VMO_METRIC_NU = 0x0006
NOM_ATTR_POLL_PROFILE_EXT = 0xF001
NOM_ATTR_TIME_PD_POLL = 0xF13E  # the extended poll's period, a RelativeTime
NOM_ATTR_TIME_ABS = 0x0987
NOM_ATTR_TIME_REL = 0x098F
NOM_ATTR_NU_VAL_OBS = 0x0950
NOM_ATTR_NU_CMPD_VAL_OBS = 0x094B
NOM_ATTR_TIME_STAMP_ABS = 0x0990
REL_TICKS_PER_S = 8000  # RelativeTime counts 1/8 ms

U16 = struct.Struct(">H")
U32 = struct.Struct(">I")
SP_HEADER = struct.Struct(">HH")  # session id, presentation context id
RO_HEADER = struct.Struct(">HH")  # ro_type, length
RO_CMD = struct.Struct(">HHH")  # invoke id, command type, length
MANAGED = struct.Struct(">HHH")  # class, context, handle
EVENT_ARG = struct.Struct(">HHHIHH")  # managed object, event time, event type, length
ACTION_RESULT = struct.Struct(">HHHHH")  # managed object, action type, length
POLL_EXT_REPLY = struct.Struct(">HHI8sHHH")  # poll no, seq no, rel time, abs time, type, grp
LIST_HEADER = struct.Struct(">HH")  # count, length
AVA_HEADER = struct.Struct(">HH")  # attribute id, length
NU_OBS = struct.Struct(">HHHI")  # physio id, state, unit code, FLOAT value

# -- FLOAT-Type (guide ch. 5, "FLOAT-Type"; protocols.md §2.6) ----------------------------
FLOAT_SPECIAL = {
    0x007FFFFF: "absent",  # NaN: no value
    0x00800000: "no result",  # NRes
    0x007FFFFE: "over range",  # +INFINITY
    0x00800002: "under range",  # -INFINITY
}
STATE_INVALID, STATE_UNAVAILABLE, STATE_DEMO = 0x8000, 0x2000, 0x0400

# Partition-2 physio ids (protocols.md §2.7) -> registry code.
PHYSIO: dict[int, str] = {
    0x4182: "HR",  # NOM_ECG_CARD_BEAT_RATE
    0x4822: "PR",  # NOM_PLETH_PULS_RATE: the oximeter's pulse
    0x4BB8: "SPO2",  # NOM_PULS_OXIM_SAT_O2
    0x4A05: "NIBP_SYS",
    0x4A06: "NIBP_DIA",
    0x4A07: "NIBP_MEAN",
    0x500A: "RR",  # NOM_RESP_RATE
    0x50B0: "ETCO2",  # NOM_AWAY_CO2_ET
    0x4B48: "TEMP",  # NOM_TEMP
}
NIBP_SIGNALS = ("NIBP_SYS", "NIBP_DIA", "NIBP_MEAN")
PERIODIC_SIGNALS = ("HR", "PR", "SPO2", "RR", "ETCO2", "TEMP")

# Unit codes (partition 4) each signal may arrive in -> factor to the registry's unit. A code
# not listed is refused and counted: a value is never converted on a guess.
UNIT_MIN_BEATS, UNIT_MIN_BREATHS, UNIT_PERCENT = 2720, 2784, 544
UNIT_MMHG, UNIT_KPA, UNIT_CELSIUS = 3872, 3843, 6048
KPA_TO_MMHG = 7.500617
_PRESSURE = {UNIT_MMHG: 1.0, UNIT_KPA: KPA_TO_MMHG}
UNITS: dict[str, dict[int, float]] = {
    "HR": {UNIT_MIN_BEATS: 1.0},
    "PR": {UNIT_MIN_BEATS: 1.0},
    "SPO2": {UNIT_PERCENT: 1.0},
    "RR": {UNIT_MIN_BREATHS: 1.0},
    "ETCO2": _PRESSURE,
    "TEMP": {UNIT_CELSIUS: 1.0},
    **dict.fromkeys(NIBP_SIGNALS, _PRESSURE),
}

POLL_PERIOD_S = 30  # asked of the monitor in each extended poll
# What the host polls, each on its own extended poll: numerics, waves, the alarm lists.
POLLED_CLASSES = (NOM_MOC_VMO_METRIC_NU, NOM_MOC_VMO_METRIC_SA_RT, NOM_MOC_VMO_AL_MON)
RENEW_AFTER_S = 10  # re-poll well before the period runs out; it is also the keep-alive


@dataclass(frozen=True, slots=True)
class HostReply:
    """Bytes the host must send now, in answer to what the monitor sent."""

    data: bytes


Event = Reading | DeviceEvent | Waveform | HostReply


# -- values ------------------------------------------------------------------------------


def float_type(raw: int) -> float | str:
    """FLOAT-Type: signed 8-bit base-10 exponent, signed 24-bit mantissa; or a status word."""
    special = FLOAT_SPECIAL.get(raw)
    if special is not None:
        return special
    exponent = raw >> 24
    if exponent >= 128:
        exponent -= 256
    mantissa = raw & 0xFFFFFF
    if mantissa >= 0x800000:
        mantissa -= 0x1000000
    return round(mantissa * 10.0**exponent, 6)


def bcd_time(raw: bytes) -> float | None:
    """AbsoluteTime (8 BCD bytes: century, year, month, day, hour, minute, second, 1/100 s)
    as Unix seconds; None when the monitor has no time (all 0xFF)."""
    try:
        digits = [int(f"{b:02x}") for b in raw]
    except ValueError:
        return None
    century, year, month, day, hour, minute, second, hundredths = digits
    try:
        t = calendar.timegm((century * 100 + year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    return t + hundredths / 100


@dataclass(frozen=True, slots=True)
class Observation:
    handle: int
    physio_id: int
    state: int
    unit: int
    value: float | str
    stamp: float | None = None  # the object's NOM_ATTR_TIME_STAMP_ABS, if sent


def _ava_list(data: bytes, pos: int) -> tuple[list[tuple[int, bytes]], int]:
    count, length = LIST_HEADER.unpack_from(data, pos)
    pos += LIST_HEADER.size
    end = pos + length
    if end > len(data):
        raise ValueError("attribute list longer than its message")
    out = []
    for _ in range(count):
        attr, n = AVA_HEADER.unpack_from(data, pos)
        pos += AVA_HEADER.size
        if pos + n > end:
            raise ValueError("attribute longer than its list")
        out.append((attr, data[pos : pos + n]))
        pos += n
    return out, end


def _observations(handle: int, avas: list[tuple[int, bytes]]) -> list[Observation]:
    stamp = None
    values: list[tuple[int, int, int, int]] = []
    for attr, value in avas:
        if attr == NOM_ATTR_NU_VAL_OBS:
            values.append(NU_OBS.unpack_from(value))
        elif attr == NOM_ATTR_NU_CMPD_VAL_OBS:
            count, _ = LIST_HEADER.unpack_from(value)
            for i in range(count):
                values.append(NU_OBS.unpack_from(value, LIST_HEADER.size + i * NU_OBS.size))
        elif attr == NOM_ATTR_TIME_STAMP_ABS:
            stamp = bcd_time(value[:8])
    return [Observation(handle, p, s, u, float_type(v), stamp) for p, s, u, v in values]


def poll_objects(data: bytes, pos: int) -> list[tuple[int, list[tuple[int, bytes]]]]:
    """PollInfoList: contexts of objects, each object's handle with its attribute list
    (protocols.md §2.5)."""
    out: list[tuple[int, list[tuple[int, bytes]]]] = []
    n_contexts, length = LIST_HEADER.unpack_from(data, pos)
    pos += LIST_HEADER.size
    if pos + length > len(data):
        raise ValueError("poll info list longer than its message")
    for _ in range(n_contexts):
        _context, n_objects, _ = struct.unpack_from(">HHH", data, pos)
        pos += 6
        for _ in range(n_objects):
            handle = U16.unpack_from(data, pos)[0]
            avas, pos = _ava_list(data, pos + 2)
            out.append((handle, avas))
    return out


def parse_poll_info(data: bytes, pos: int) -> list[Observation]:
    """The numeric observations of a PollInfoList."""
    return [o for handle, avas in poll_objects(data, pos) for o in _observations(handle, avas)]


# -- the decoder -------------------------------------------------------------------------


class IntelliVueDecoder:
    """Turns monitor bytes into Readings (canonical units), status events and host replies.

    It follows the association: when the monitor announces its MDS it answers with the
    create result and the first extended polls (numerics, waves, alarms), and renews each
    poll every RENEW_AFTER_S of the monitor's time. Keep one decoder per monitor for the
    life of the bed: it remembers the last cuff result, so a repeated NIBP value is never
    taken for a new measurement.
    """

    def __init__(self, bed: str) -> None:
        self.bed = bed
        self.deframer = Deframer()
        self.associated = False
        self.mds_seen = False
        self._invoke = 0
        self._status: dict[str, str] = {}
        self._last_cuff: tuple[object, ...] | None = None
        self._polled_at: dict[int, int] = {}  # per polled class: monitor's time of renewal
        self._last_t = 0.0
        self._clock: tuple[float, int] | None = None  # (wall clock, relative time) together
        self._waves: dict[int, WaveObject] = {}  # per object handle
        self._wave_end: dict[str, float] = {}  # where each waveform's last block ended
        self._alarms: set[MonitorAlarm] = set()

    @property
    def stats(self) -> DecoderStats:
        return self.deframer.stats

    def reset(self) -> None:
        """The link was re-made: drop a partial frame and the association."""
        self.deframer.reset()
        self.associated = self.mds_seen = False
        self._polled_at = {}
        self._waves.clear()

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for user in self.deframer.feed(data):
            try:
                events += self.decode_message(user)
            except (struct.error, IndexError, ValueError):
                self.stats.good -= 1
                self.stats.malformed += 1
        return events

    def _count(self, kind: str) -> None:
        self.stats.messages[kind] = self.stats.messages.get(kind, 0) + 1

    def _next_invoke(self) -> int:
        self._invoke = (self._invoke + 1) & 0xFFFF
        return self._invoke

    def decode_message(self, user: bytes) -> list[Event]:
        spdu = user[0]
        if spdu == AC_SPDU:
            self._count("association response")
            self.associated, self.mds_seen, self._polled_at = True, False, {}
            return [self._event("association", {"state": "accepted"})]
        if spdu in (RF_SPDU, DN_SPDU, AB_SPDU):
            state = {RF_SPDU: "refused", DN_SPDU: "released", AB_SPDU: "aborted"}[spdu]
            self._count(f"association {state}")
            self.associated = self.mds_seen = False
            return [self._event("association", {"state": state})]
        if spdu != DATA_SPDU:
            raise ValueError(f"unknown session header 0x{spdu:02X}")
        ro_type, length = RO_HEADER.unpack_from(user, SP_HEADER.size)
        pos = SP_HEADER.size + RO_HEADER.size
        if pos + length > len(user):
            raise ValueError("remote operation longer than its frame")
        if ro_type == RORLS:
            pos += 2  # linked-reply state and count: each part stands alone
        invoke, command, _ = RO_CMD.unpack_from(user, pos)
        pos += RO_CMD.size
        if ro_type == ROIV and command in (CMD_EVENT_REPORT, CMD_CONFIRMED_EVENT_REPORT):
            return self._event_report(user, pos, invoke)
        if ro_type in (RORS, RORLS) and command == CMD_CONFIRMED_ACTION:
            return self._action_result(user, pos)
        if ro_type == ROER:
            self._count("remote operation error")
            return []
        self._count(f"operation {ro_type}/{command}")
        return []

    def _event(self, kind: str, detail: dict[str, object]) -> DeviceEvent:
        return DeviceEvent(self.bed, self._last_t, kind, detail)

    def _event_report(self, user: bytes, pos: int, invoke: int) -> list[Event]:
        _cls, _ctx, _handle, event_time, event_type, _ = EVENT_ARG.unpack_from(user, pos)
        if event_type != NOM_NOTI_MDS_CREAT:
            self._count(f"event 0x{event_type:04X}")
            return []
        self._count("mds create")
        # MDSCreateInfo: the MDS object, then its attributes (the monitor's clocks among them)
        avas, _ = _ava_list(user, pos + EVENT_ARG.size + MANAGED.size)
        t, rel = None, None
        for attr, value in avas:
            if attr == NOM_ATTR_TIME_ABS:
                t = bcd_time(value[:8])
            elif attr == NOM_ATTR_TIME_REL:
                rel = U32.unpack_from(value)[0]
        if t is not None:
            self._last_t = t
            # the relative time counts in 1/8 ms; the wall clock only in whole units
            self._clock = (t, rel) if rel is not None else None
        from devices.protocols import intellivue_encode as enc  # one module each way

        self.mds_seen, self._polled_at = True, {}
        self._waves.clear()
        # the three extended polls go out in one write: one request on the wire each
        polls = b"".join(
            enc.extended_poll_request(self._next_invoke(), POLL_PERIOD_S, code)
            for code in POLLED_CLASSES
        )
        return [
            self._event("association", {"state": "mds created"}),
            HostReply(enc.mds_create_result(invoke, event_time)),
            HostReply(polls),
        ]

    def _action_result(self, user: bytes, pos: int) -> list[Event]:
        _c, _x, _h, action, _ = ACTION_RESULT.unpack_from(user, pos)
        if action != NOM_ACT_POLL_MDIB_DATA_EXT:
            self._count(f"action 0x{action:04X}")
            return []
        pos += ACTION_RESULT.size
        _n, _seq, rel, abs_raw, _part, code, _grp = POLL_EXT_REPLY.unpack_from(user, pos)
        pos += POLL_EXT_REPLY.size
        self._count("poll result")
        t = bcd_time(abs_raw)
        if t is None:  # no wall clock on the monitor: count on from the last known time
            t = self._last_t
        self._last_t = t
        out: list[Event] = []
        polled_at = self._polled_at.get(code)
        if polled_at is None:
            self._polled_at[code] = rel
        elif (rel - polled_at) & 0xFFFFFFFF >= RENEW_AFTER_S * REL_TICKS_PER_S:
            from devices.protocols import intellivue_encode as enc

            self._polled_at[code] = rel
            request = enc.extended_poll_request(self._next_invoke(), POLL_PERIOD_S, code)
            out.append(HostReply(request))
        if code == NOM_MOC_VMO_METRIC_NU:
            out += self._numerics(parse_poll_info(user, pos), t)
        elif code == NOM_MOC_VMO_METRIC_SA_RT:
            out += self._sample_arrays(poll_objects(user, pos), self._time_of(rel, t))
        elif code == NOM_MOC_VMO_AL_MON:
            out += self._alarm_lists(poll_objects(user, pos), t)
        return out

    def _time_of(self, rel: int, fallback: float) -> float:
        """Wall-clock time of a relative time, from the pair the MDS create carried."""
        if self._clock is None:
            return fallback
        t0, rel0 = self._clock
        return t0 + ((rel - rel0) & 0xFFFFFFFF) / REL_TICKS_PER_S

    def _sample_arrays(
        self, objects: list[tuple[int, list[tuple[int, bytes]]]], t: float
    ) -> list[Event]:
        """Waves, their first sample at the result's time (protocols.md §2.5); a block that
        starts where the last one ended continues its trace."""
        out: list[Event] = []
        for handle, avas in objects:
            for array in read_wave_attributes(self._waves, handle, avas, float_type):
                signal = WAVE_PHYSIO.get(array.physio_id)
                if signal is None:
                    self._count(f"wave 0x{array.physio_id:04X} not drawn")
                    continue
                obj = self._waves[handle]
                if obj.scale is None or not obj.period_ticks or obj.unit is None:
                    self._count("wave before its specification")
                    continue
                if obj.unit not in WAVE_UNITS[signal]:
                    self.stats.unknown_unit += 1
                    continue
                start = t
                end = self._wave_end.get(signal)
                if end is not None and abs(start - end) < JOIN_S:
                    start = end
                block = waveform(self.bed, start, signal, obj, array)
                self._wave_end[signal] = block.end
                out.append(block)
        return out

    def _alarm_lists(
        self, objects: list[tuple[int, list[tuple[int, bytes]]]], t: float
    ) -> list[Event]:
        """The monitor's alarms as events when one appears or goes (not every poll)."""
        active: set[MonitorAlarm] | None = None
        for _handle, avas in objects:
            found = read_alarm_lists(avas)
            if found is not None:
                active = (active or set()) | found
        if active is None:
            return []
        out: list[Event] = []
        for alarm in sorted(active - self._alarms, key=lambda a: (a.source, a.code)):
            out.append(DeviceEvent(self.bed, t, "monitor_alarm", {"state": "on", **alarm.detail}))
        for alarm in sorted(self._alarms - active, key=lambda a: (a.source, a.code)):
            out.append(DeviceEvent(self.bed, t, "monitor_alarm", {"state": "off", **alarm.detail}))
        self._alarms = active
        return out

    def _numerics(self, observations: list[Observation], t: float) -> list[Event]:
        out: list[Event] = []
        cuff: dict[str, Observation] = {}
        for obs in observations:
            signal = PHYSIO.get(obs.physio_id)
            if signal is None:
                continue
            if signal in NIBP_SIGNALS:
                cuff[signal] = obs
            else:
                self._emit(out, t, signal, obs)
        if cuff:
            key = tuple((o.value, o.unit, o.stamp) for o in cuff.values())
            if key != self._last_cuff:  # the monitor repeats the last result every poll
                self._last_cuff = key
                for signal, obs in cuff.items():
                    self._emit(out, obs.stamp or t, signal, obs)
        return out

    def _emit(self, out: list[Event], t: float, signal: str, obs: Observation) -> None:
        value = obs.value
        if isinstance(value, str):
            status = value
        elif obs.state & STATE_INVALID:
            status = "invalid"
        elif obs.state & STATE_UNAVAILABLE:
            status = "unavailable"
        else:
            status = "valid"
        factor = UNITS[signal].get(obs.unit)
        if status == "valid" and factor is None:
            self.stats.unknown_unit += 1
            status = f"unknown unit {obs.unit}"
        if self._status.get(signal) != status:
            self._status[signal] = status
            out.append(
                DeviceEvent(self.bed, t, "signal_status", {"signal": signal, "status": status})
            )
        if status == "valid" and factor is not None and not isinstance(value, str):
            unit = REGISTRY[signal].unit
            out.append(Reading(self.bed, t, signal, round(value * factor, 6), unit))


def message_time(user: bytes) -> float | None:
    """The monitor's wall-clock time in a poll result or MDS create (for replaying captures)."""
    decoder = IntelliVueDecoder("capture")
    decoder._polled_at = dict.fromkeys(POLLED_CLASSES, 0)  # a capture is only read: no renewal
    try:
        decoder.decode_message(user)
    except (struct.error, IndexError, ValueError):
        return None
    return decoder._last_t or None
