"""The IntelliVue Data Export codec against frames built from the guide's structures.

Section references: protocols.md §2 and the Philips "Data Export Interface Programming Guide",
chapter 4 (MIB/RS232 transport: Framing, Frame Check Sequence Field, Transparency, Frame
Abort) and chapter 5 (FLOAT-Type, PollMdibDataReplyExt, attribute lists).
"""

from __future__ import annotations

import numpy as np

from devices.protocols import intellivue as iv
from devices.protocols import intellivue_encode as enc
from devices.protocols import intellivue_frame as fr
from devices.protocols.intellivue_alert import MonitorAlarm
from devices.protocols.intellivue_wave import PLETH_SPEC
from monitor.model import DeviceEvent, Reading, Waveform

T0 = 1_700_000_000.0
VITALS = {"HR": 72.0, "SPO2": 97.5, "PR": 71.0, "RR": 14.0}
CUFF = {"NIBP_SYS": 120.0, "NIBP_DIA": 80.0, "NIBP_MEAN": 93.0}


def _readings(items: list[iv.Event]) -> dict[str, Reading]:
    return {r.signal: r for r in items if isinstance(r, Reading)}


def _associated() -> iv.IntelliVueDecoder:
    decoder = iv.IntelliVueDecoder("chair-1")
    decoder.feed(enc.association_response() + enc.mds_create_event(1, T0, 8000))
    return decoder


def test_frame_check_is_crc16_x25() -> None:
    """Guide ch. 4 "Frame Check Sequence Field": the PPP FCS-16; its check value."""
    assert fr.fcs16(b"123456789") == 0x906E


def test_extended_poll_request_matches_the_worked_example() -> None:
    """protocols.md §2.3: the numerics extended poll (30 s) framed for the MIB port."""
    expected = bytes.fromhex(
        "C0 11 01 00 30 E1 00 00 02 00 01 00 28 00 01 00 07 00 22 00 21 00 00 00 00 00 00 00"
        " 00 F1 3B 00 14 00 01 00 01 00 06 00 00 00 01 00 08 F1 3E 00 04 00 03 A9 80 58 71 C1"
    )
    assert enc.extended_poll_request(1, 30) == expected
    message = enc.parse_host_message(fr.Deframer().feed(expected)[0])
    assert message == enc.HostMessage("poll", 1, 30.0, iv.NOM_MOC_VMO_METRIC_NU)


def test_transparency_applies_to_header_data_and_fcs() -> None:
    """Guide ch. 4 "Transparency": C0, C1 and 7D inside a frame travel as 7D, byte ^ 0x20."""
    user = bytes([0xC0, 0x01, 0xC1, 0x7D, 0x02])
    wire = enc.frame(user)
    assert wire.count(0xC0) == 1 and wire.count(0xC1) == 1
    assert bytes.fromhex("7D E0 01 7D E1 7D 5D 02") in wire
    assert fr.Deframer().feed(wire) == [user]
    # a message whose frame check itself holds a special byte is escaped and still checks
    for invoke in range(2000):
        content = fr.FRAME_HEADER.pack(0x11, 0x01, 28) + enc.mds_create_result(invoke, 0)[5:-3]
        fcs = fr.fcs16(content)
        if {fcs & 0xFF, fcs >> 8} & {0xC0, 0xC1, 0x7D}:
            break
    else:
        raise AssertionError("no frame check with a special byte in 2000 tries")
    deframer = fr.Deframer()
    assert len(deframer.feed(enc.mds_create_result(invoke, 0))) == 1
    assert deframer.stats.good == 1


def test_float_type() -> None:
    """Guide ch. 5 FLOAT-Type: 8-bit exponent, 24-bit mantissa, and the special values."""
    assert iv.float_type(0x00000048) == 72.0
    assert iv.float_type(0xFF000170) == 36.8
    assert iv.float_type(0xFFFFFFF1) == -1.5
    assert iv.float_type(0x007FFFFF) == "absent"
    assert iv.float_type(0x00800000) == "no result"
    assert enc.float_type(36.8) == 0xFF000170 and enc.float_type(72.0) == 0x48
    assert enc.float_type(-1.5) == 0xFFFFFFF1


def test_association_and_mds_create_are_answered() -> None:
    """Protocol dialog: association result, then MDS create event -> the host's 28-byte
    result and the first extended poll (protocols.md §2.4 steps 2-5)."""
    decoder = iv.IntelliVueDecoder("chair-1")
    (accepted,) = decoder.feed(enc.association_response())
    assert isinstance(accepted, DeviceEvent) and accepted.detail == {"state": "accepted"}
    assert decoder.associated and not decoder.mds_seen
    items = decoder.feed(enc.mds_create_event(7, T0, 8000))
    replies = [i.data for i in items if isinstance(i, iv.HostReply)]
    assert len(replies) == 2 and decoder.mds_seen
    result = fr.Deframer().feed(replies[0])[0]
    assert len(result) == 28 and result[:4] == bytes.fromhex("E1 00 00 02")
    assert enc.parse_host_message(result) == enc.HostMessage("mds result", 7)
    polls = [enc.parse_host_message(p) for p in fr.Deframer().feed(replies[1])]
    assert [p.kind for p in polls] == ["poll"] * len(iv.POLLED_CLASSES)
    (aborted,) = decoder.feed(enc.frame(bytes([iv.AB_SPDU, 0])))
    assert isinstance(aborted, DeviceEvent) and aborted.detail == {"state": "aborted"}
    assert not decoder.associated


def test_poll_reply_gives_readings_in_canonical_units() -> None:
    decoder = _associated()
    items = decoder.feed(enc.poll_reply({**VITALS, **CUFF}, 2, T0 + 1, 16000, nibp_time=T0))
    got = _readings(items)
    assert {s: r.value for s, r in got.items()} == {**VITALS, **CUFF}
    assert got["HR"].unit == "/min" and got["SPO2"].unit == "%" and got["NIBP_SYS"].unit == "mmHg"
    assert got["HR"].t == T0 + 1 and got["NIBP_SYS"].t == T0  # the cuff's own time stamp
    # the monitor repeats the last cuff result every poll: not a new measurement
    again = _readings(
        decoder.feed(enc.poll_reply({**VITALS, **CUFF}, 3, T0 + 2, 24000, nibp_time=T0))
    )
    assert set(again) == set(VITALS)
    newer = {**CUFF, "NIBP_SYS": 131.0}
    cuff = _readings(decoder.feed(enc.poll_reply(newer, 4, T0 + 3, 32000, nibp_time=T0 + 3)))
    assert cuff["NIBP_SYS"].value == 131.0 and cuff["NIBP_SYS"].t == T0 + 3


def test_kpa_is_converted_and_an_unknown_unit_refused() -> None:
    decoder = _associated()
    units = {s: iv.UNIT_KPA for s in CUFF} | {"ETCO2": iv.UNIT_KPA, "HR": iv.UNIT_PERCENT}
    values = {"HR": 70.0, "ETCO2": 5.0, "NIBP_SYS": 16.0, "NIBP_DIA": 10.67, "NIBP_MEAN": 12.4}
    items = decoder.feed(enc.poll_reply(values, 2, T0, 16000, units=units))
    got = _readings(items)
    assert round(got["ETCO2"].value, 2) == 37.50 and round(got["NIBP_SYS"].value) == 120
    assert "HR" not in got and decoder.stats.unknown_unit == 1
    status = [e.detail for e in items if isinstance(e, DeviceEvent)]
    assert {"signal": "HR", "status": "unknown unit 544"} in status


def test_invalid_states_and_special_values_are_statuses_not_readings() -> None:
    decoder = _associated()
    items = decoder.feed(
        enc.poll_reply(
            {"HR": 60.0, "SPO2": "absent", "RR": 12.0}, 2, T0, 16000, states={"RR": 0x8000}
        )
    )
    assert set(_readings(items)) == {"HR"}
    status = {e.detail["signal"]: e.detail["status"] for e in items if isinstance(e, DeviceEvent)}
    assert status == {"HR": "valid", "SPO2": "absent", "RR": "invalid"}


def test_linked_reply_is_decoded() -> None:
    """RORLS (linked result, state 1 first / 2 middle / 3 last): each part stands alone."""
    decoder = _associated()
    first = enc.poll_reply({"HR": 61.0}, 2, T0, 16000, linked=1)
    last = enc.poll_reply({"SPO2": 96.0}, 2, T0, 16000, linked=3)
    assert set(_readings(decoder.feed(first + last))) == {"HR", "SPO2"}


def test_the_poll_is_renewed_as_the_monitor_time_passes() -> None:
    decoder = _associated()
    renewals = 0
    for second in range(25):
        ticks = 16000 + second * iv.REL_TICKS_PER_S
        items = decoder.feed(enc.poll_reply({"HR": 60.0}, 2, T0 + second, ticks))
        renewals += sum(isinstance(i, iv.HostReply) for i in items)
    assert renewals == 2  # at 10 s and 20 s of the monitor's clock


def test_a_corrupted_frame_is_counted_and_the_next_one_decoded() -> None:
    decoder = _associated()
    good = enc.poll_reply({"HR": 72.0}, 2, T0, 16000)
    bad = bytearray(good)
    bad[20] ^= 0x01
    items = decoder.feed(bytes(bad) + good)
    assert _readings(items)["HR"].value == 72.0
    assert decoder.stats.bad_checksum == 1


def test_garbage_within_a_frame_resyncs_on_the_next_bof() -> None:
    decoder = _associated()
    good = enc.poll_reply({"HR": 73.0}, 2, T0, 16000)
    before = decoder.stats.good
    # a frame cut off by a new one, noise between frames, a bad escape, an aborted frame
    stream = good[:15] + b"noise" + good + b"\x00\xff" + b"\xc0\x7d\x01\xc1" + b"\xc0\x11\x7d\xc1"
    items = decoder.feed(stream + good)
    assert [r.value for r in items if isinstance(r, Reading)] == [73.0, 73.0]
    assert decoder.stats.good == before + 2 and decoder.stats.malformed == 3
    # fed a byte at a time, the same
    decoder2 = _associated()
    out = [i for b in stream + good for i in decoder2.feed(bytes([b]))]
    assert [r.value for r in out if isinstance(r, Reading)] == [73.0, 73.0]


def test_a_frame_that_checks_but_does_not_parse_is_malformed() -> None:
    decoder = _associated()
    truncated = enc.frame(bytes.fromhex("E1 00 00 02 00 02 00 40 00 01"))
    unknown = enc.frame(b"\x42\x00")
    assert decoder.feed(truncated + unknown) == []
    assert decoder.stats.malformed == 2 and decoder.stats.good == 2  # the two set-up frames


# -- messages written out byte for byte from the guide's structures ------------------------

# 2023-11-14 22:13:20.00 UTC (= T0) as AbsoluteTime: century, year, month, day, hour, minute,
# second, hundredths, each a BCD byte (guide ch. 5 "AbsoluteTime"; protocols.md §2.4 step 3)
T0_BCD = "20 23 11 14 22 13 20 00"
T1_BCD = "20 23 11 14 22 13 21 00"  # T0 + 1 s

ASSOCIATION_REQUEST = bytes.fromhex(
    "0D EC"  # CN_SPDU, length of the rest (236)
    " 05 08 13 01 00 16 01 02 80 00 14 02 00 02"  # session data
    " C1 DC"  # presentation header, length of the rest (220)
    " 31 80 A0 80 80 01 01 00 00 A2 80 A0 03 00 00 01 A4 80 30 80 02 01 01 06 04 52 01 00 01"
    " 30 80 06 02 51 01 00 00 00 00 30 80 02 01 02 06 0C 2A 86 48 CE 14 02 01 00 00 00 01 01"
    " 30 80 06 0C 2A 86 48 CE 14 02 01 00 00 00 02 01 00 00 00 00 00 00 61 80 30 80 02 01 01"
    " A0 80 60 80 A1 80 06 0C 2A 86 48 CE 14 02 01 00 00 00 03 01 00 00 BE 80 28 80 06 0C 2A"
    " 86 48 CE 14 02 01 00 00 00 01 01 02 01 02 81"
    " 48"  # BER length of the MDSE user info (72)
    " 80 00 00 00  40 00 00 00  00 00 00 00  80 00 00 00  20 00 00 00"  # versions, client, cold
    " 00 00 00 00"  # option list: empty
    " 00 01 00 2C  00 01 00 28"  # supported profiles: NOM_POLL_PROFILE_SUPPORT, 40 bytes
    " 80 00 00 00  00 00 09 C4  00 00 09 C4  00 00 03 E8  FF FF FF FF  60 00 00 00"
    " 00 01 00 0C  F0 01 00 08  88 00 00 00  00 00 00 00"  # NOM_ATTR_POLL_PROFILE_EXT
    " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"  # presentation trailer
)


def test_association_request_is_the_guides_message_with_our_poll_profile() -> None:
    """Guide ch. 3 "Protocol Dialog: Association Request" and the Association Request
    message of "Protocol Commands: Connection Startup"; protocols.md §2.4 step 1: "session
    header 0x0D (CN_SPDU) + length ..., then a presentation/ACSE part in ASN.1 BER ... and the
    MDSE user info which carries the poll profile: profile revision 0x80000000, ... options
    0x60000000 (dynamic create/delete objects), and the optional package
    NOM_ATTR_POLL_PROFILE_EXT (0xF001) with flags such as POLL_EXT_PERIOD_NU_1SEC 0x80000000,
    POLL_EXT_PERIOD_RTSA 0x08000000"."""
    (user,) = fr.Deframer().feed(enc.association_request())
    assert user == ASSOCIATION_REQUEST
    # the lengths add up: session, presentation, BER user info
    assert user[0] == iv.CN_SPDU and user[1] == len(user) - 2
    assert user[16] == 0xC1 and user[17] == len(user) - 18
    user_info = user[150 : 150 + user[149]]
    assert user[149] == 72 and len(user[150 + 72 :]) == 16 and not any(user[150 + 72 :])
    profile_options = int.from_bytes(user_info[52:56], "big")
    assert profile_options == 0x60000000  # P_OPT_DYN_CREATE_OBJECTS | P_OPT_DYN_DELETE_OBJECTS
    assert user_info[60:64] == bytes.fromhex("F0 01 00 08")
    ext = int.from_bytes(user_info[64:68], "big")
    assert ext == enc.POLL_EXT_PERIOD_NU_1SEC | enc.POLL_EXT_PERIOD_RTSA
    assert enc.parse_host_message(user) == enc.HostMessage("associate", options=ext)


def test_association_response_is_recognised_by_its_session_header() -> None:
    """protocols.md §2.4 step 2: the monitor answers with AC_SPDU (0x0E); the presentation
    part after the session header is not needed by the host. RF_SPDU (0x0C) is a refusal."""
    decoder = iv.IntelliVueDecoder("chair-1")
    accept = bytes.fromhex("0E 0A 05 08 13 01 00 16 01 02 80 00")
    (accepted,) = decoder.feed(enc.frame(accept))
    assert isinstance(accepted, DeviceEvent) and accepted.detail == {"state": "accepted"}
    assert decoder.associated
    (refused,) = decoder.feed(enc.frame(bytes.fromhex("0C 00")))
    assert isinstance(refused, DeviceEvent) and refused.detail == {"state": "refused"}
    assert not decoder.associated


MDS_CREATE_EVENT = bytes.fromhex(
    "E1 00 00 02"  # SPpdu: session 0xE100, presentation context 2
    " 00 01 00 32"  # ROapdus: ROIV, 50 bytes
    " 00 01 00 01 00 2C"  # invoke id 1, CMD_CONFIRMED_EVENT_REPORT, 44 bytes
    " 00 21 00 00 00 00  00 00 1F 40  0D 06 00 1E"  # MDS, event time, NOM_NOTI_MDS_CREAT, 30
    " 00 21 00 00 00 00"  # MDSCreateInfo: the MDS object
    " 00 02 00 14"  # its attributes: 2, 20 bytes
    f" 09 87 00 08 {T0_BCD}"  # NOM_ATTR_TIME_ABS
    " 09 8F 00 04 00 00 1F 40"  # NOM_ATTR_TIME_REL: 8000 (1 s in 1/8 ms)
)


def test_mds_create_event_sets_the_clock_and_is_confirmed() -> None:
    """protocols.md §2.4 step 3: "ROIV, CMD_CONFIRMED_EVENT_REPORT (1), event
    NOM_NOTI_MDS_CREAT (0x0D06); carries MDS attributes incl. absolute time (NOM_ATTR_TIME_ABS
    0x0987, 8 BCD bytes) and relative time (NOM_ATTR_TIME_REL 0x098F)"; step 4: the host's
    "MDS Create Event Result (28 bytes)"; step 5: the extended polls follow."""
    assert enc.mds_create_event(1, T0, 8000) == enc.frame(MDS_CREATE_EVENT)
    decoder = iv.IntelliVueDecoder("chair-1")
    decoder.feed(enc.association_response())
    items = decoder.feed(enc.frame(MDS_CREATE_EVENT))
    (created,) = [i for i in items if isinstance(i, DeviceEvent)]
    assert created.detail == {"state": "mds created"} and created.t == T0  # 22:13:20 UTC
    result, *polls = [
        m for i in items if isinstance(i, iv.HostReply) for m in fr.Deframer().feed(i.data)
    ]
    assert result == bytes.fromhex(
        "E1 00 00 02 00 02 00 14 00 01 00 01 00 0E 00 21 00 00 00 00 00 00 1F 40 0D 06 00 00"
    )
    assert [enc.parse_host_message(p).code for p in polls] == [0x0006, 0x0009, 0x0036]


NUMERICS_POLL_RESULT = bytes.fromhex(
    "E1 00 00 02"  # SPpdu
    " 00 02 00 90"  # ROapdus: RORS, 144 bytes
    " 00 02 00 07 00 8A"  # invoke id 2, CMD_CONFIRMED_ACTION, 138 bytes
    " 00 21 00 00 00 00  F1 3B 00 80"  # ActionResult: MDS, NOM_ACT_POLL_MDIB_DATA_EXT, 128
    f" 00 01 00 00  00 00 3E 80  {T1_BCD}"  # poll no 1, seq 0, relative time 16000, abs time
    " 00 01 00 06 00 00"  # polled NOM_MOC_VMO_METRIC_NU, attribute group 0
    " 00 01 00 66"  # PollInfoList: 1 context, 102 bytes
    " 00 00 00 03 00 60"  # SingleContextPoll: context 0, 3 objects, 96 bytes
    " 01 00 00 01 00 0E 09 50 00 0A  41 82 00 00 0A A0 00 00 00 48"  # HR 72 /min (2720)
    " 01 01 00 01 00 0E 09 50 00 0A  4B B8 00 00 02 20 FF 00 03 CF"  # SpO2 97.5 % (544)
    " 01 02 00 02 00 32"  # the cuff: 2 attributes, 50 bytes
    " 09 4B 00 22 00 03 00 1E"  # NOM_ATTR_NU_CMPD_VAL_OBS: 3 values, 30 bytes
    " 4A 05 00 00 0F 20 00 00 00 78"  # NIBP sys 120 mmHg (3872)
    " 4A 06 00 00 0F 20 00 00 00 50"  # dia 80
    " 4A 07 00 00 0F 20 00 00 00 5D"  # mean 93
    f" 09 90 00 08 {T0_BCD}"  # NOM_ATTR_TIME_STAMP_ABS: when the cuff measured
)


def test_numerics_poll_result_gives_hr_spo2_and_nibp() -> None:
    """protocols.md §2.5 (PollMdibDataReplyExt, 46 header bytes before the PollInfoList for
    an extended RORS), §2.6 (NOM_ATTR_NU_VAL_OBS 0x0950 "physio_id u16, state u16, unit_code
    u16, value FLOAT"; NOM_ATTR_NU_CMPD_VAL_OBS 0x094B "count u16, length u16, then count x
    the same 10-byte structure (used e.g. for NIBP sys/dia/mean)"; FLOAT 36.8 -> 0xFF000170)
    and §2.7 (HR 0x4182 /min 2720, SpO2 0x4BB8 % 544, NIBP 0x4A05-07 mmHg 3872)."""
    assert NUMERICS_POLL_RESULT[46:50] == bytes.fromhex("00 01 00 66")
    expected = enc.poll_reply({"HR": 72.0, "SPO2": 97.5, **CUFF}, 2, T0 + 1, 16000, nibp_time=T0)
    assert expected == enc.frame(NUMERICS_POLL_RESULT)
    decoder = iv.IntelliVueDecoder("chair-1")
    decoder.feed(enc.association_response() + enc.frame(MDS_CREATE_EVENT))
    got = _readings(decoder.feed(enc.frame(NUMERICS_POLL_RESULT)))
    assert {s: (r.value, r.unit) for s, r in got.items()} == {
        "HR": (72.0, "/min"),
        "SPO2": (97.5, "%"),
        "NIBP_SYS": (120.0, "mmHg"),
        "NIBP_DIA": (80.0, "mmHg"),
        "NIBP_MEAN": (93.0, "mmHg"),
    }
    assert got["HR"].t == T0 + 1 and got["NIBP_SYS"].t == T0


PLETH_WORDS = [0, 400, 2000, 4000, 3000, 1200, 800, 40]  # 12 significant bits of 16


def _pleth_poll_result(with_specs: bool = True, rel: str = "00 00 3E 80") -> bytes:
    specs = (
        " 09 6D 00 06 00 08 10 0C 00 00"  # SaSpec: 8 samples of 16 bits, 12 significant
        " 09 6F 00 0C 00 00 00 00 00 00 00 64 00 00 0F A0"  # ScaleRangeSpec16: 0-100 = 0-4000
        " 09 8D 00 04 00 00 00 40"  # NOM_ATTR_TIME_PD_SAMP: 64/8 ms = 8 ms (125 Hz)
        " 09 96 00 02 02 00"  # NOM_ATTR_UNIT_CODE: dimensionless (512)
    )
    samples = " ".join(f"{w >> 8:02X} {w & 0xFF:02X}" for w in PLETH_WORDS)
    value = f" 09 6E 00 16 4B B4 00 00 00 10 {samples}"  # SaObsValue: NOM_PLETH, 16 bytes
    avas = (specs if with_specs else "") + value
    n_avas, avas_len = (5, 66) if with_specs else (1, 26)
    obj_len = 2 + 4 + avas_len
    body = 22 + 4 + 6 + obj_len
    return bytes.fromhex(
        f"E1 00 00 02 00 02 00 {6 + 10 + body:02X} 00 02 00 07 00 {10 + body:02X}"
        f" 00 21 00 00 00 00 F1 3B 00 {body:02X}"
        f" 00 02 00 00 {rel} {T1_BCD} 00 01 00 09 00 00"  # NOM_MOC_VMO_METRIC_SA_RT
        f" 00 01 00 {6 + obj_len:02X} 00 00 00 01 00 {obj_len:02X}"
        f" 02 00 00 {n_avas:02X} 00 {avas_len:02X}" + avas
    )


def test_wave_poll_result_gives_the_scaled_pleth() -> None:
    """Guide ch. "Wave Objects" (Sample Array Specification, Scale and Range Specification,
    Sample Period, Sample Array Observed Value); protocols.md §2.4 step 5 (code 9 for
    real-time waves) and §2.6 (NOM_ATTR_SA_VAL_OBS 0x096E, NOM_ATTR_SA_SPECN 0x096D,
    NOM_ATTR_SCALE_SPECN_I16 0x096F). SaObsValue = physio_id, state, array {length, bytes};
    ScaleRangeSpec16 maps lower/upper scaled values onto lower/upper absolute values."""
    pleth = dict(zip(PLETH_WORDS, [0.0, 10.0, 50.0, 100.0, 75.0, 30.0, 20.0, 1.0], strict=True))
    values = np.array(list(pleth.values()))
    assert enc.wave_poll_reply({PLETH_SPEC: values}, 2, T0 + 1, 16000, poll_number=2) == (
        enc.frame(_pleth_poll_result())
    )
    decoder = iv.IntelliVueDecoder("chair-1")
    decoder.feed(enc.association_response() + enc.frame(MDS_CREATE_EVENT))
    (block,) = decoder.feed(enc.frame(_pleth_poll_result()))
    assert isinstance(block, Waveform) and block.signal == "PLETH"
    assert len(block.samples) == 8 and block.rate_hz == 125.0 and block.samples.dtype == np.float32
    assert block.samples.tolist() == list(pleth.values())
    assert block.t == T0 + 1  # relative time 16000 is 1 s after the MDS create's 8000
    # later results carry only the observed values; 8 samples later the trace continues
    (more,) = decoder.feed(enc.frame(_pleth_poll_result(False, "00 00 3F 80")))
    assert isinstance(more, Waveform) and more.t == block.end == T0 + 1.064
    # a result before the object was described is counted, not guessed at
    fresh = iv.IntelliVueDecoder("chair-2")
    assert fresh.feed(enc.frame(_pleth_poll_result(False))) == []
    assert fresh.stats.messages["wave before its specification"] == 1


def test_the_monitors_alarms_are_events_when_they_come_and_go() -> None:
    """protocols.md §2.4 step 5 (code 0x36 for alerts); guide "Alert Monitor Object":
    DevAlarmList of DevAlarmEntry, AlertType HI_PRI_P_AL 0x0400."""
    decoder = _associated()
    high_hr = MonitorAlarm(0x4182, 0x0402, 0x0400, "HR High")
    on = decoder.feed(enc.alarm_poll_reply([high_hr], [], 3, T0, 16000))
    assert [e.detail for e in on if isinstance(e, DeviceEvent)] == [
        {"state": "on", **high_hr.detail}
    ]
    assert high_hr.detail["priority"] == "high" and high_hr.detail["text"] == "HR High"
    assert decoder.feed(enc.alarm_poll_reply([high_hr], [], 3, T0 + 1, 24000)) == []
    (off,) = decoder.feed(enc.alarm_poll_reply([], [], 3, T0 + 2, 32000))
    assert isinstance(off, DeviceEvent) and off.kind == "monitor_alarm"
    assert off.detail["state"] == "off"
