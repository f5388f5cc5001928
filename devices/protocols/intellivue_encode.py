"""Philips IntelliVue Data Export, the writing side: the host's requests, and the monitor's
messages that the virtual monitor and the tests send. Layouts are the decoder's
(intellivue.py); every message is built from the structures of protocols.md §2.4-2.6.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass

from devices.protocols.intellivue import (
    AC_SPDU,
    ACTION_RESULT,
    AVA_HEADER,
    CMD_CONFIRMED_ACTION,
    CMD_CONFIRMED_EVENT_REPORT,
    CN_SPDU,
    EVENT_ARG,
    FLOAT_SPECIAL,
    FN_SPDU,
    LIST_HEADER,
    MANAGED,
    NIBP_SIGNALS,
    NOM_ACT_POLL_MDIB_DATA_EXT,
    NOM_ATTR_NU_CMPD_VAL_OBS,
    NOM_ATTR_NU_VAL_OBS,
    NOM_ATTR_POLL_PROFILE_EXT,
    NOM_ATTR_TIME_ABS,
    NOM_ATTR_TIME_PD_POLL,
    NOM_ATTR_TIME_REL,
    NOM_ATTR_TIME_STAMP_ABS,
    NOM_MOC_VMO_METRIC_NU,
    NOM_MOC_VMS_MDS,
    NOM_NOTI_MDS_CREAT,
    NU_OBS,
    PHYSIO,
    POLL_EXT_REPLY,
    REL_TICKS_PER_S,
    RO_CMD,
    RO_HEADER,
    ROIV,
    RORLS,
    RORS,
    U16,
    U32,
    UNIT_CELSIUS,
    UNIT_MIN_BEATS,
    UNIT_MIN_BREATHS,
    UNIT_MMHG,
    UNIT_PERCENT,
)
from devices.protocols.intellivue_frame import FRAME_HEADER, MSG_TYPE, PROTOCOL_ID, fcs16

SP_DATA = bytes.fromhex("E1 00 00 02")
_SPECIAL = {v: k for k, v in FLOAT_SPECIAL.items()}
SIGNAL_IDS = {v: k for k, v in PHYSIO.items()}
SIGNAL_UNITS = {
    "HR": UNIT_MIN_BEATS,
    "PR": UNIT_MIN_BEATS,
    "SPO2": UNIT_PERCENT,
    "RR": UNIT_MIN_BREATHS,
    "ETCO2": UNIT_MMHG,
    "TEMP": UNIT_CELSIUS,
    **dict.fromkeys(NIBP_SIGNALS, UNIT_MMHG),
}
NIBP_COMPOUND_ID = 0x4A04  # the compound NIBP object's own physio id (protocols.md §2.7)
POLL_PROFILE_OPTIONS = 0x80000000  # POLL_EXT_PERIOD_NU_1SEC: numerics once a second


# -- framing -----------------------------------------------------------------------------


def escape(data: bytes) -> bytes:
    """Transparency: BOF, EOF and the escape byte itself become 7D, byte ^ 0x20."""
    if not any(b in data for b in (b"\xc0", b"\xc1", b"\x7d")):
        return data
    out = bytearray()
    for b in data:
        if b in (0xC0, 0xC1, 0x7D):
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def frame(user: bytes) -> bytes:
    """BOF · escaped(header · user data · FCS, least significant byte first) · EOF."""
    content = FRAME_HEADER.pack(PROTOCOL_ID, MSG_TYPE, len(user)) + user
    fcs = fcs16(content)
    return b"\xc0" + escape(content + bytes((fcs & 0xFF, fcs >> 8))) + b"\xc1"


def float_type(value: float | str) -> int:
    """A number (or a status word such as "absent") as FLOAT-Type, to two decimals."""
    if isinstance(value, str):
        return _SPECIAL[value]
    for exponent in (0, -1, -2):
        mantissa = round(value * 10**-exponent)
        if abs(mantissa * 10.0**exponent - value) < 1e-9 or exponent == -2:
            if not -0x800000 < mantissa < 0x7FFFFE:
                raise ValueError(f"{value} does not fit a FLOAT-Type")
            return ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF)
    raise AssertionError("unreachable")


def bcd_time(t: float | None) -> bytes:
    """Unix seconds as AbsoluteTime (8 BCD bytes); None: the monitor has no clock."""
    if t is None:
        return b"\xff" * 8
    tm = time.gmtime(int(t))
    parts = (
        tm.tm_year // 100,
        tm.tm_year % 100,
        tm.tm_mon,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        min(99, round((t - int(t)) * 100)),
    )
    return bytes(int(str(p), 16) for p in parts)


def _ava(attr: int, value: bytes) -> bytes:
    return AVA_HEADER.pack(attr, len(value)) + value


def _ava_list(avas: list[bytes]) -> bytes:
    body = b"".join(avas)
    return LIST_HEADER.pack(len(avas), len(body)) + body


def _data(ro_type: int, invoke: int, command: int, body: bytes, linked: bytes = b"") -> bytes:
    ro = linked + RO_CMD.pack(invoke, command, len(body)) + body
    return SP_DATA + RO_HEADER.pack(ro_type, len(ro)) + ro


# -- the host's messages -----------------------------------------------------------------


def association_request() -> bytes:
    """CN_SPDU with the MDSE user info that asks for the extended poll profile (§2.4).

    The session/presentation (ACSE) part before the user info is the guide's fixed BER blob
    ("Association Request" in chapter 5); it is not reproduced byte for byte here, so a real
    monitor's acceptance is still to be checked on the bench.
    """
    ext = _ava(NOM_ATTR_POLL_PROFILE_EXT, U32.pack(POLL_PROFILE_OPTIONS) + LIST_HEADER.pack(0, 0))
    # PollProfileSupport: revision, min poll period (1 s), max mtu rx/tx, max bw, options
    profile = struct.pack(
        ">IIIIII", 0x80000000, REL_TICKS_PER_S, 1000, 1000, 0xFFFFFFFF, 0x60000000
    )
    support = _ava(0x0001, profile + _ava_list([ext]))  # NOM_POLL_PROFILE_SUPPORT
    # MDSEUserInfoStd: protocol version, nomenclature version, functional units, system
    # type, startup mode (cold start), option list (empty), supported profiles
    user_info = (
        struct.pack(">IIIII", 0x80000000, 0x40000000, 0, 0x80000000, 0x20000000)
        + LIST_HEADER.pack(0, 0)
        + _ava_list([support])
    )
    body = bytes((0x05, 0x08, 0x13, 0x01, 0x00, 0x16, 0x01, 0x02)) + user_info
    return frame(bytes((CN_SPDU, len(body))) + body)


def mds_create_result(invoke: int, event_time: int) -> bytes:
    """The 28 bytes that confirm the MDS create event (protocols.md §2.4 step 4)."""
    body = EVENT_ARG.pack(NOM_MOC_VMS_MDS, 0, 0, event_time, NOM_NOTI_MDS_CREAT, 0)
    return frame(_data(RORS, invoke, CMD_CONFIRMED_EVENT_REPORT, body))


def extended_poll_request(invoke: int, period_s: int, code: int = NOM_MOC_VMO_METRIC_NU) -> bytes:
    """Confirmed action NOM_ACT_POLL_MDIB_DATA_EXT for partition 1 / `code`, all attribute
    groups, polling for `period_s` (attribute 0xF13E, a RelativeTime)."""
    attrs = _ava_list([_ava(NOM_ATTR_TIME_PD_POLL, U32.pack(period_s * REL_TICKS_PER_S))])
    request = struct.pack(">HHHH", 1, 1, code, 0) + attrs  # poll no, (partition, code), group
    action = MANAGED.pack(NOM_MOC_VMS_MDS, 0, 0) + U32.pack(0)  # scope 0
    action += U16.pack(NOM_ACT_POLL_MDIB_DATA_EXT) + U16.pack(len(request)) + request
    return frame(_data(ROIV, invoke, CMD_CONFIRMED_ACTION, action))


def release_request() -> bytes:
    return frame(bytes((FN_SPDU, 0)))


# -- the monitor's messages --------------------------------------------------------------


def association_response() -> bytes:
    """AC_SPDU; its ACSE part is opaque to the host, which only needs the session header."""
    body = bytes((0x05, 0x08, 0x13, 0x01, 0x00, 0x16, 0x01, 0x02))
    return frame(bytes((AC_SPDU, len(body))) + body)


def mds_create_event(invoke: int, t: float | None, rel_ticks: int) -> bytes:
    """ROIV confirmed event report NOM_NOTI_MDS_CREAT with the MDS's absolute and relative
    time (protocols.md §2.4 step 3)."""
    attrs = _ava_list(
        [_ava(NOM_ATTR_TIME_ABS, bcd_time(t)), _ava(NOM_ATTR_TIME_REL, U32.pack(rel_ticks))]
    )
    info = MANAGED.pack(NOM_MOC_VMS_MDS, 0, 0) + attrs
    head = EVENT_ARG.pack(NOM_MOC_VMS_MDS, 0, 0, rel_ticks, NOM_NOTI_MDS_CREAT, len(info))
    return frame(_data(ROIV, invoke, CMD_CONFIRMED_EVENT_REPORT, head + info))


def _nu(signal: str, value: float | str, state: int, unit: int | None) -> bytes:
    unit = SIGNAL_UNITS[signal] if unit is None else unit
    return NU_OBS.pack(SIGNAL_IDS[signal], state, unit, float_type(value))


def poll_reply(
    values: Mapping[str, float | str],
    invoke: int,
    t: float | None,
    rel_ticks: int,
    *,
    poll_number: int = 1,
    nibp_time: float | None = None,
    states: Mapping[str, int] | None = None,
    units: Mapping[str, int] | None = None,
    linked: int | None = None,
) -> bytes:
    """An extended poll result for numerics: one object per signal, NIBP as one compound
    object (protocols.md §2.5-2.6). `linked` (1 first, 2 middle, 3 last) sends it as RORLS."""
    states, units = states or {}, units or {}
    objects: list[bytes] = []
    handle = 0x100
    for signal, value in values.items():
        if signal in NIBP_SIGNALS:
            continue
        obs = _nu(signal, value, states.get(signal, 0), units.get(signal))
        objects.append(U16.pack(handle) + _ava_list([_ava(NOM_ATTR_NU_VAL_OBS, obs)]))
        handle += 1
    cuff = [s for s in NIBP_SIGNALS if s in values]
    if cuff:
        parts = [_nu(s, values[s], states.get(s, 0), units.get(s)) for s in cuff]
        compound = LIST_HEADER.pack(len(parts), len(parts) * NU_OBS.size) + b"".join(parts)
        avas = [_ava(NOM_ATTR_NU_CMPD_VAL_OBS, compound)]
        if nibp_time is not None:
            avas.append(_ava(NOM_ATTR_TIME_STAMP_ABS, bcd_time(nibp_time)))
        objects.append(U16.pack(handle) + _ava_list(avas))
    context = struct.pack(">HHH", 0, len(objects), sum(map(len, objects))) + b"".join(objects)
    info = LIST_HEADER.pack(1, len(context)) + context
    reply = POLL_EXT_REPLY.pack(
        poll_number, 0, rel_ticks & 0xFFFFFFFF, bcd_time(t), 1, NOM_MOC_VMO_METRIC_NU, 0
    )
    body = reply + info
    result = ACTION_RESULT.pack(NOM_MOC_VMS_MDS, 0, 0, NOM_ACT_POLL_MDIB_DATA_EXT, len(body))
    if linked is None:
        return frame(_data(RORS, invoke, CMD_CONFIRMED_ACTION, result + body))
    return frame(_data(RORLS, invoke, CMD_CONFIRMED_ACTION, result + body, bytes((linked, 1))))


# -- what the virtual monitor reads of the host ------------------------------------------


@dataclass(frozen=True, slots=True)
class HostMessage:
    kind: str  # "associate", "release", "mds result", "poll", "other"
    invoke: int = 0
    period_s: float = 0.0


def parse_host_message(user: bytes) -> HostMessage:
    if user[0] == CN_SPDU:
        return HostMessage("associate")
    if user[0] == FN_SPDU:
        return HostMessage("release")
    if user[:4] != SP_DATA:
        return HostMessage("other")
    ro_type, _ = RO_HEADER.unpack_from(user, 4)
    invoke, command, _ = RO_CMD.unpack_from(user, 8)
    if ro_type == RORS and command == CMD_CONFIRMED_EVENT_REPORT:
        return HostMessage("mds result", invoke)
    is_action = ro_type == ROIV and command == CMD_CONFIRMED_ACTION
    if is_action and U16.unpack_from(user, 24)[0] == NOM_ACT_POLL_MDIB_DATA_EXT:
        ticks = U32.unpack_from(user, 44)[0] if len(user) >= 48 else 0
        return HostMessage("poll", invoke, ticks / REL_TICKS_PER_S)
    return HostMessage("other", invoke)
