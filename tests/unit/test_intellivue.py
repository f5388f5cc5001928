"""The IntelliVue Data Export codec against frames built from the guide's structures.

Section references: protocols.md §2 and the Philips "Data Export Interface Programming Guide",
chapter 4 (MIB/RS232 transport: Framing, Frame Check Sequence Field, Transparency, Frame
Abort) and chapter 5 (FLOAT-Type, PollMdibDataReplyExt, attribute lists).
"""

from __future__ import annotations

from devices.protocols import intellivue as iv
from devices.protocols import intellivue_encode as enc
from devices.protocols import intellivue_frame as fr
from monitor.model import DeviceEvent, Reading

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
    assert len(replies) == 1 + len(iv.POLLED_CLASSES) and decoder.mds_seen
    result = fr.Deframer().feed(replies[0])[0]
    assert len(result) == 28 and result[:4] == bytes.fromhex("E1 00 00 02")
    assert enc.parse_host_message(result) == enc.HostMessage("mds result", 7)
    assert enc.parse_host_message(fr.Deframer().feed(replies[1])[0]).kind == "poll"
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
