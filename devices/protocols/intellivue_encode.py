"""Philips IntelliVue Data Export, the writing side: the host's requests, and the monitor's
messages that the virtual monitor and the tests send. Layouts are the decoder's
(intellivue.py); every message is built from the structures of protocols.md §2.4-2.6.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

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
from devices.protocols.intellivue_alert import (
    NOM_ATTR_AL_MON_P_AL_LIST,
    NOM_ATTR_AL_MON_T_AL_LIST,
    NOM_MOC_VMO_AL_MON,
    MonitorAlarm,
    alarm_list,
)
from devices.protocols.intellivue_frame import (
    FRAME_HEADER,
    MSG_TYPE,
    PROTOCOL_ID,
    SPECIAL,
    fcs16,
)
from devices.protocols.intellivue_wave import (
    NOM_ATTR_SA_SPECN,
    NOM_ATTR_SA_VAL_OBS,
    NOM_ATTR_SCALE_SPECN_I16,
    NOM_ATTR_TIME_PD_SAMP,
    NOM_ATTR_UNIT_CODE,
    NOM_MOC_VMO_METRIC_SA_RT,
    SA_OBS_HEAD,
    SA_SPEC,
    SCALE_RANGE_16,
    WaveSpec,
)
from devices.protocols.transparency import stuff

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
NOM_POLL_PROFILE_SUPPORT = 0x0001
POLL_EXT_PERIOD_NU_1SEC = 0x80000000  # numerics once a second
POLL_EXT_PERIOD_RTSA = 0x08000000  # real-time sample arrays (waves)
POLL_EXT_ENUM = 0x04000000  # enumeration objects
POLL_EXT_OPTIONS = POLL_EXT_PERIOD_NU_1SEC | POLL_EXT_PERIOD_RTSA

# The fixed parts of the Association Request of the Philips "Data Export Interface
# Programming Guide" (4535 645 88011): chapter 3 "Protocol Concept", section "Protocol
# Dialog: Association Request", the message itself under "Protocol Commands: Connection
# Startup". Byte values as the public ports reproduce them identically (checked against two):
# the session data after the CN_SPDU header and its length; the presentation header (ACSE
# AARQ in BER, indefinite lengths) after "C1" and its length, up to the BER length of the
# MDSE user info; and the presentation trailer. Only the user info and the two lengths that
# cover it are built here.
ASSOC_SESSION_DATA = bytes.fromhex("05 08 13 01 00 16 01 02 80 00 14 02 00 02")
ASSOC_PRESENTATION_HEADER = bytes.fromhex(
    "31 80 A0 80 80 01 01 00 00 A2 80 A0 03 00 00 01 A4 80 30 80 02 01 01 06 04 52 01 00 01"
    " 30 80 06 02 51 01 00 00 00 00 30 80 02 01 02 06 0C 2A 86 48 CE 14 02 01 00 00 00 01 01"
    " 30 80 06 0C 2A 86 48 CE 14 02 01 00 00 00 02 01 00 00 00 00 00 00 61 80 30 80 02 01 01"
    " A0 80 60 80 A1 80 06 0C 2A 86 48 CE 14 02 01 00 00 00 03 01 00 00 BE 80 28 80 06 0C 2A"
    " 86 48 CE 14 02 01 00 00 00 01 01 02 01 02 81"
)
ASSOC_TRAILER = bytes(16)  # the end-of-contents octets of the indefinite-length BER


# -- framing -----------------------------------------------------------------------------


def escape(data: bytes) -> bytes:
    """Transparency: BOF, EOF and the escape byte itself become 7D, byte ^ 0x20."""
    return stuff(data, SPECIAL)


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


def _length_indicator(n: int) -> bytes:
    """A session/presentation length: one byte, or 0xFF and two bytes above 254 (§2.4)."""
    return bytes((n,)) if n < 0xFF else b"\xff" + U16.pack(n)


def poll_profile(options: int = POLL_EXT_OPTIONS) -> bytes:
    """MDSEUserInfoStd asking for the extended poll profile with these POLL_EXT options.

    Field by field as in the guide's Association Request (see ASSOC_PRESENTATION_HEADER):
    protocol version, nomenclature version, functional units, system type (client), startup
    mode (cold start), an empty option list, then the supported profiles: one
    NOM_POLL_PROFILE_SUPPORT (PollProfileSupport: revision, min poll period 2500 x 1/8 ms, max
    MTU rx 2500, max MTU tx 1000, max bandwidth unlimited, options dynamic create/delete)
    whose optional package NOM_ATTR_POLL_PROFILE_EXT carries `options`.
    """
    ext = _ava(NOM_ATTR_POLL_PROFILE_EXT, U32.pack(options) + LIST_HEADER.pack(0, 0))
    support = struct.pack(">IIIIII", 0x80000000, 2500, 2500, 1000, 0xFFFFFFFF, 0x60000000)
    profile = _ava(NOM_POLL_PROFILE_SUPPORT, support + _ava_list([ext]))
    std = struct.pack(">IIIII", 0x80000000, 0x40000000, 0, 0x80000000, 0x20000000)
    return std + LIST_HEADER.pack(0, 0) + _ava_list([profile])


def association_request(options: int = POLL_EXT_OPTIONS) -> bytes:
    """CN_SPDU: the guide's Association Request (protocols.md §2.4 step 1), its poll profile
    asking for `options` (by default numerics each second and the real-time waves)."""
    user = poll_profile(options)
    if len(user) >= 0x80:
        raise ValueError("user info needs a long BER length")
    presentation = ASSOC_PRESENTATION_HEADER + bytes((len(user),)) + user + ASSOC_TRAILER
    session = ASSOC_SESSION_DATA + b"\xc1" + _length_indicator(len(presentation))
    session += presentation
    return frame(bytes((CN_SPDU,)) + _length_indicator(len(session)) + session)


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
    return _poll_result(NOM_MOC_VMO_METRIC_NU, objects, invoke, t, rel_ticks, poll_number, linked)


def _poll_result(
    code: int,
    objects: list[bytes],
    invoke: int,
    t: float | None,
    rel_ticks: int,
    poll_number: int,
    linked: int | None = None,
) -> bytes:
    """PollMdibDataReplyExt for partition 1 / `code`: one context of these objects."""
    context = struct.pack(">HHH", 0, len(objects), sum(map(len, objects))) + b"".join(objects)
    info = LIST_HEADER.pack(1, len(context)) + context
    reply = POLL_EXT_REPLY.pack(poll_number, 0, rel_ticks & 0xFFFFFFFF, bcd_time(t), 1, code, 0)
    body = reply + info
    result = ACTION_RESULT.pack(NOM_MOC_VMS_MDS, 0, 0, NOM_ACT_POLL_MDIB_DATA_EXT, len(body))
    if linked is None:
        return frame(_data(RORS, invoke, CMD_CONFIRMED_ACTION, result + body))
    return frame(_data(RORLS, invoke, CMD_CONFIRMED_ACTION, result + body, bytes((linked, 1))))


def wave_poll_reply(
    waves: Mapping[WaveSpec, np.ndarray],
    invoke: int,
    t: float | None,
    rel_ticks: int,
    *,
    poll_number: int = 1,
    with_specs: bool = True,
    states: Mapping[int, int] | None = None,
) -> bytes:
    """An extended poll result for NOM_MOC_VMO_METRIC_SA_RT: one object per wave, its
    samples in absolute units. `with_specs` adds the static attributes (specification,
    scale, sample period, unit) the monitor sends in a poll's first result."""
    states = states or {}
    objects: list[bytes] = []
    for handle, (spec, values) in enumerate(waves.items(), start=0x200):
        raw = spec.to_words(np.asarray(values, dtype=np.float64)).tobytes()
        obs = SA_OBS_HEAD.pack(spec.physio_id, states.get(spec.physio_id, 0), len(raw)) + raw
        avas = []
        if with_specs:
            lo_abs, hi_abs, lo, hi = spec.scale
            scale = SCALE_RANGE_16.pack(float_type(lo_abs), float_type(hi_abs), lo, hi)
            avas += [
                _ava(NOM_ATTR_SA_SPECN, SA_SPEC.pack(len(values), 16, spec.significant_bits, 0)),
                _ava(NOM_ATTR_SCALE_SPECN_I16, scale),
                _ava(NOM_ATTR_TIME_PD_SAMP, U32.pack(spec.period_ticks)),
                _ava(NOM_ATTR_UNIT_CODE, U16.pack(spec.unit)),
            ]
        avas.append(_ava(NOM_ATTR_SA_VAL_OBS, obs))
        objects.append(U16.pack(handle) + _ava_list(avas))
    return _poll_result(NOM_MOC_VMO_METRIC_SA_RT, objects, invoke, t, rel_ticks, poll_number)


def alarm_poll_reply(
    physiological: list[MonitorAlarm],
    technical: list[MonitorAlarm],
    invoke: int,
    t: float | None,
    rel_ticks: int,
    *,
    poll_number: int = 1,
) -> bytes:
    """An extended poll result for the alert monitor: its P- and T-alarm lists."""
    avas = [
        _ava(NOM_ATTR_AL_MON_P_AL_LIST, alarm_list(physiological)),
        _ava(NOM_ATTR_AL_MON_T_AL_LIST, alarm_list(technical)),
    ]
    objects = [U16.pack(0x300) + _ava_list(avas)]
    return _poll_result(NOM_MOC_VMO_AL_MON, objects, invoke, t, rel_ticks, poll_number)


# -- what the virtual monitor reads of the host ------------------------------------------


@dataclass(frozen=True, slots=True)
class HostMessage:
    kind: str  # "associate", "release", "mds result", "poll", "other"
    invoke: int = 0
    period_s: float = 0.0
    code: int = 0  # the polled object class (a poll)
    options: int = 0  # the POLL_EXT options asked for (an association)


def parse_host_message(user: bytes) -> HostMessage:
    if user[0] == CN_SPDU:
        at = user.find(U16.pack(NOM_ATTR_POLL_PROFILE_EXT) + U16.pack(8))
        options = U32.unpack_from(user, at + 4)[0] if at >= 0 else 0
        return HostMessage("associate", options=options)
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
        code = U16.unpack_from(user, 32)[0]
        return HostMessage("poll", invoke, ticks / REL_TICKS_PER_S, code)
    return HostMessage("other", invoke)
