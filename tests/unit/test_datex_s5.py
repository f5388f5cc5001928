"""The S/5 DRI codec against real CARESCAPE captures and its own encoders."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.protocols import datex_s5 as dri
from devices.protocols import datex_s5_encode as enc
from monitor.model import DeviceEvent, Reading
from tests.helpers import capture


def _capture(name: str) -> bytes:
    return capture(name).read_bytes()


def _decode(data: bytes) -> tuple[dri.DriDecoder, list[dri.Event]]:
    decoder = dri.DriDecoder("chair-1")
    return decoder, decoder.feed(data)


def _readings(events: list[dri.Event]) -> list[Reading]:
    return [e for e in events if isinstance(e, Reading)]


# -- golden captures ---------------------------------------------------------------------


def test_request_test_vector() -> None:
    expected = bytes.fromhex(
        "7E 31 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 FF 00 00 00 00 00"
        " 00 00 00 00 00 00 00 00 00 00 00 00 00 01 0A 00 0E 00 00 00 00 00 49 7E"
    )
    assert enc.display_request(10, dri.ALL_CLASSES) == expected


def test_waveform_request_vector() -> None:
    """protocols.md §1.9: "start ECG1 + PLETH", level 0, is 72 bytes with checksum 0x50."""
    frame = enc.waveform_request([1, 8])
    record = dri.Deframer().feed(frame)[0]
    assert frame[:3] == bytes.fromhex("7E 48 00") and frame[-2:] == bytes.fromhex("50 7E")
    assert len(record) == 72 and record[14] == 1 and record[21] == 0xFF
    assert record[40:47] == bytes.fromhex("00 00 00 00 01 08 FF")
    assert enc.parse_waveform_request(record) == (1, 8)
    stop = dri.Deframer().feed(enc.waveform_request([8], start=False))[0]
    assert enc.parse_waveform_request(stop) == ()
    assert enc.parse_waveform_request(dri.Deframer().feed(enc.stop_request())[0]) is None
    with pytest.raises(ValueError, match="600 samples/s"):
        enc.waveform_request([1, 2, 3])  # three ECG leads at 300 Hz


def test_stop_request_and_request_parsing() -> None:
    record = dri.Deframer().feed(enc.stop_request())[0]
    req = enc.parse_request(record)
    assert req is not None and req.is_stop and req.classes == (dri.PhdbClass.BASIC,)
    record = dri.Deframer().feed(enc.display_request(5, [dri.PhdbClass.EXT2]))[0]
    assert enc.parse_request(record) == enc.DisplayRequest(1, 5, (dri.PhdbClass.EXT2,), 0)


def test_first_record_of_raw_capture() -> None:
    decoder, events = _decode(_capture("raw.raw"))
    first_t = _readings(events)[0].t
    values = {r.signal: r.value for r in _readings(events) if r.t == first_t}
    assert values["HR"] == 80
    assert (values["NIBP_SYS"], values["NIBP_DIA"], values["NIBP_MEAN"]) == (93, 48, 69)
    assert values["SPO2"] == pytest.approx(96.65)
    assert values["ETCO2"] == pytest.approx(37.0, abs=0.01)  # 487 x 7598 x 1e-5
    assert values["RR"] == 15 and values["PR"] == 83
    assert first_t == 1532624765
    statuses = {
        e.detail["signal"]: e.detail["status"] for e in events if isinstance(e, DeviceEvent)
    }
    assert statuses["TEMP"] == "absent" and statuses["ART_SYS"] == "absent"


@pytest.mark.parametrize(
    ("name", "phdb", "wave"),
    [("raw.raw", 11, 10), ("db02.raw", 107, 106), ("db00.raw", 1760, 1760)],
)
def test_every_frame_of_the_clean_captures_decodes(name: str, phdb: int, wave: int) -> None:
    decoder, events = _decode(_capture(name))
    s = decoder.stats
    assert (s.good, s.bad_checksum, s.malformed) == (phdb + wave, 0, 0)
    assert s.records == {"PHDB": phdb, "WAVE": wave}
    readings = _readings(events)
    hr = [r.value for r in readings if r.signal == "HR"]
    assert len(hr) == phdb and all(40 <= v <= 140 for v in hr)
    spo2 = [r.value for r in readings if r.signal == "SPO2"]
    assert all(90 <= v <= 100 for v in spo2)
    pleth = [e for e in events if isinstance(e, dri.WaveformBlock) and e.name == "PLETH"]
    assert len(pleth) == wave and pleth[0].rate_hz == 100 and len(pleth[0].samples) == 100


def test_db00_ranges_and_nibp_cycles() -> None:
    _, events = _decode(_capture("db00.raw"))
    readings = _readings(events)
    hr = [r.value for r in readings if r.signal == "HR"]
    spo2 = [r.value for r in readings if r.signal == "SPO2"]
    assert (min(hr), max(hr)) == (68, 98)
    assert (min(spo2), max(spo2)) == (95.16, 100.0)
    assert not any(r.signal == "ETCO2" for r in readings)  # no CO2 module in this capture
    cuffs = [(r.t, r.value) for r in readings if r.signal == "NIBP_SYS"]
    # the group repeats each cuff result for minutes; only new measurements are readings
    assert 5 <= len(cuffs) <= 15
    assert len(cuffs) == len({t for t, _ in cuffs})
    sys_dia_mean = {(r.signal, r.value) for r in readings if r.t == cuffs[0][0]}
    assert {("NIBP_SYS", 86.0)} <= sys_dia_mean


def test_corrupted_capture_counts_bad_frames() -> None:
    decoder, events = _decode(_capture("db01.raw"))
    s = decoder.stats
    assert (s.good, s.bad_checksum, s.malformed) == (2126, 164, 156)
    assert len(_readings(events)) > 6000


def test_nibp_repeats_are_not_new_readings() -> None:
    decoder = dri.DriDecoder("b")
    cuff = {"NIBP_SYS": 120, "NIBP_DIA": 80, "NIBP_MEAN": 93, "HR": 70}
    out = []
    for i in range(5):
        out += decoder.feed(enc.phdb_record(cuff, 1000 + i))
    assert [r.t for r in _readings(out) if r.signal == "NIBP_SYS"] == [1000]
    measuring = enc.phdb_record(cuff, 1005, nibp_label=0x0B | dri.NIBP_LABEL_MEASURING)
    out = decoder.feed(measuring) + decoder.feed(enc.phdb_record(cuff, 1006))
    # the same values from a cuff cycle that just finished are a new measurement
    assert [r.t for r in _readings(out) if r.signal == "NIBP_SYS"] == [1006]
    old = dri.DriDecoder("b").feed(
        enc.phdb_record(cuff, 2000, nibp_label=0x0B | dri.NIBP_LABEL_OLDER_THAN_60S)
    )
    assert not [r for r in _readings(old) if r.signal == "NIBP_SYS"]


def test_invalid_markers_give_status_not_readings() -> None:
    decoder = dri.DriDecoder("b")
    events = decoder.feed(enc.phdb_record({"HR": 70, "SPO2": 97}, 10, markers={"SPO2": -32763}))
    assert [r.signal for r in _readings(events)] == ["HR"]
    status = {e.detail["signal"]: e.detail["status"] for e in events if isinstance(e, DeviceEvent)}
    assert status["SPO2"] == "over range" and status["NIBP_SYS"] == "absent"
    again = decoder.feed(enc.phdb_record({"HR": 71, "SPO2": 97}, 11))
    assert [e.detail for e in again if isinstance(e, DeviceEvent)] == [
        {"signal": "SPO2", "status": "valid"}
    ]  # statuses are reported on change only


def test_inactive_group_is_not_data() -> None:
    frame = bytearray(dri.Deframer().feed(enc.phdb_record({"HR": 70, "SPO2": 97}, 5))[0])
    struct.pack_into("<I", frame, dri.HEADER_LEN + 4 + dri.SPO2, dri.STATUS_EXISTS)
    record = bytes(frame)
    events = dri.DriDecoder("b").decode_record(record)
    assert "SPO2" not in {r.signal for r in _readings(events)}
    assert {"signal": "SPO2", "status": "inactive"} in [
        e.detail for e in events if isinstance(e, DeviceEvent)
    ]


def test_class_comes_from_the_subrecord_not_its_position() -> None:
    frame = enc.phdb_record({"HR": 77}, 9, classes=[dri.PhdbClass.EXT1, dri.PhdbClass.BASIC])
    assert [r.value for r in _readings(dri.DriDecoder("b").feed(frame))] == [77]


def test_r_len_mismatch_is_malformed() -> None:
    record = bytearray(dri.Deframer().feed(enc.phdb_record({"HR": 70}, 1))[0])
    struct.pack_into("<h", record, 0, len(record) + 2)
    decoder = dri.DriDecoder("b")
    assert decoder.feed(enc.frame(bytes(record))) == []
    assert decoder.stats.malformed == 1


def test_waveform_roundtrip() -> None:
    samples = [i * 0.5 for i in range(100)]
    (block,) = dri.DriDecoder("b").feed(enc.waveform_record(8, samples, 42))
    assert isinstance(block, dri.WaveformBlock)
    assert (block.name, block.rate_hz, block.t) == ("PLETH", 100, 42.0)
    assert list(block.samples) == pytest.approx(samples)


# -- properties --------------------------------------------------------------------------

VALUES = st.fixed_dictionaries(
    {
        "HR": st.integers(0, 300),
        "PR": st.integers(0, 300),
        "SPO2": st.integers(0, 10000).map(lambda v: v / 100),
        "TEMP": st.integers(2500, 4500).map(lambda v: v / 100),
        "NIBP_SYS": st.integers(0, 30000).map(lambda v: v / 100),
        "NIBP_DIA": st.integers(0, 25000).map(lambda v: v / 100),
        "NIBP_MEAN": st.integers(0, 25000).map(lambda v: v / 100),
    }
)


@settings(max_examples=300, deadline=None)
@given(values=VALUES, r_time=st.integers(0, 2**32 - 1), nbr=st.integers(0, 255))
def test_encode_decode_roundtrip(values: dict[str, float], r_time: int, nbr: int) -> None:
    decoder = dri.DriDecoder("b")
    readings = _readings(decoder.feed(enc.phdb_record(values, r_time, nbr)))
    assert decoder.stats.good == 1
    assert {r.signal: r.value for r in readings} == pytest.approx(values)
    assert {r.t for r in readings} == {float(r_time)}


@settings(max_examples=300, deadline=None)
@given(special=st.sampled_from([0x7E, 0x7D]), r_time=st.integers(0, 2**32 - 1))
def test_escaped_bytes_in_data_and_checksum(special: int, r_time: int) -> None:
    # HR = 0x7E7D puts both flag and escape in the data; walk NIBP until the checksum hits too.
    for sys_raw in range(256):
        values = {"HR": 0x7D7E, "NIBP_SYS": sys_raw / 100, "NIBP_DIA": 40, "NIBP_MEAN": 60}
        record = dri.Deframer().feed(enc.phdb_record(values, r_time))[0]
        if dri.checksum(record) == special:
            break
    else:
        pytest.skip("no checksum collision in range")
    wire = enc.phdb_record(values, r_time)
    assert bytes([dri.ESCAPE, special ^ 0x20, dri.FLAG]) == wire[-3:]  # escaped checksum
    decoder = dri.DriDecoder("b")
    got = {r.signal: r.value for r in _readings(decoder.feed(wire))}
    assert got["HR"] == 0x7D7E and decoder.stats.good == 1


@settings(max_examples=300, deadline=None)
@given(garbage=st.binary(max_size=3000), values=VALUES)
def test_garbage_never_raises_and_resyncs(garbage: bytes, values: dict[str, float]) -> None:
    decoder = dri.DriDecoder("b")
    decoder.feed(garbage)
    readings = _readings(decoder.feed(enc.phdb_record(values, 123)))
    assert {r.signal: r.value for r in readings} == pytest.approx(values)


@settings(max_examples=300, deadline=None)
@given(
    values=VALUES,
    cut=st.integers(1, 400),
    flips=st.lists(st.tuples(st.integers(0, 700), st.integers(1, 255)), max_size=4),
    chunk=st.integers(1, 64),
)
def test_truncation_and_mutation_never_raise(
    values: dict[str, float], cut: int, flips: list[tuple[int, int]], chunk: int
) -> None:
    wire = bytearray(enc.phdb_record(values, 99))
    for pos, mask in flips:
        wire[pos % len(wire)] ^= mask
    damaged = bytes(wire[: max(1, len(wire) - cut)]) + enc.phdb_record(values, 100)
    decoder = dri.DriDecoder("b")
    events: list[dri.Event] = []
    for i in range(0, len(damaged), chunk):  # arbitrary read sizes, as a serial port gives
        events += decoder.feed(damaged[i : i + chunk])
    # The intact frame decodes whatever came before it. (Its cuff values count as new only if
    # the damaged frame did not already carry the same cuff result, so they are left out.)
    got = {r.signal: r.value for r in _readings(events) if r.t == 100}
    continuous = {k: v for k, v in values.items() if k not in dri.NIBP_SIGNALS}
    assert {k: v for k, v in got.items() if k not in dri.NIBP_SIGNALS} == pytest.approx(continuous)


def test_blocks_within_a_second_join_and_a_gap_stays_a_gap() -> None:
    """Records carry whole seconds; a monitor sends several waveform records a second."""
    decoder = dri.DriDecoder("b")
    blocks = [decoder.feed(enc.waveform_record(8, [50.0] * 25, 42))[0] for _ in range(4)]
    assert [b.t for b in blocks] == [42.0, 42.25, 42.5, 42.75]  # type: ignore[union-attr]
    (after_gap,) = decoder.feed(enc.waveform_record(8, [50.0] * 25, 50))
    assert after_gap.t == 50.0  # type: ignore[union-attr]
