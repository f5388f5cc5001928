"""The HL7 v2 PCD-01 codec: framing, observations, units, routing and ACKs.

Three messages are the published examples, written out with their sources: IHE PCD TF-2
Rev. 8.0 (2018-10-23) Appendix E.1.1 and E.1.2, the GE B40/B20 HL7 Reference Manual
2062665-001 G (2014), and the pump sample of the IHE PCD IPEC supplement Rev. 1.5
(2015-11-25) §X.1.2.2. Where the printed text had to change for the station to read it, the
test says what and why. The other messages (`TF2_OBX`, `GATEWAY_OBX`) are written for these
tests in the same layout (TF-2 §3.1, Appendix B.8) to reach the error and routing paths.
"""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from devices.protocols.hl7_pcd01 import Pcd01Decoder, Routes, location_key
from monitor.model import DeviceEvent, Reading

T = "20250314101500+0100"
EPOCH = 1741943700.0  # 2025-03-14 09:15:00 UTC


def _mllp(text: str) -> bytes:
    return b"\x0b" + text.encode() + b"\x1c\r"


def _message(obx: list[str], control: str = "MSG0001", pv1: str = "ICU^^3^CLINIC") -> str:
    head = [
        f"MSH|^~\\&|GATEWAY^ACDE48234567ABCD^EUI-64|CLINIC|||{T}||ORU^R01^ORU_R01|{control}|P|2.6"
        "|||AL|NE||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
        "PID|||P123^^^Clinic^PI||Doe^Jane",
        f"PV1||O|{pv1}",
        f"OBR|1|||182777000^monitoring of patient^SCT|||{T}",
    ]
    return "\r".join(head + obx) + "\r"


# Written for these tests in the TF-2 §3.1 / B.8 layout: containment headers, then metrics.
TF2_OBX = [
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X",
    "OBX|2||69798^MDC_DEV_ECG_VMD^MDC|1.1.0.0|||||||X",
    "OBX|3|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R"
    f"|||{T}||||ACDE48234567ABCD^MONITOR",
    "OBX|4|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||R"
    f"|||{T}||||ACDE48234567ABCD^MONITOR",
    "OBX|5|NM|150301^MDC_PRESS_CUFF_SYS^MDC|1.3.1.1|128|266016^MDC_DIM_MMHG^MDC|||||R",
    "OBX|6|NM|150302^MDC_PRESS_CUFF_DIA^MDC|1.3.1.2|79|mm[Hg]^mm[Hg]^UCUM|||||R",
    "OBX|7|NM|151708^MDC_CONC_AWAY_CO2_ET^MDC|1.4.1.1|5.2|kPa^kPa^UCUM|||||R",
    "OBX|8|NM|150344^MDC_TEMP^MDC|1.5.1.1|36.8|268192^MDC_DIM_DEGC^MDC|||||R",
    "OBX|9|NM|151594^MDC_CO2_RESP_RATE^MDC|1.4.1.2|14|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R",
]

# Written for these tests: a monitor and a syringe pump in one push for one bed, the pump's
# terms as in PCD TF-3 Rev. 8.0 Tables 7.1.2-1 and 7.1.3-1.
GATEWAY_OBX = [
    "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.3.1.147842|88|264864^MDC_DIM_BEAT_PER_MIN^MDC"
    f"|||||R|||{T}",
    "OBX|2|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.3.1.149530|-999"
    f"|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||{T}",
    f"OBX|3|NM|108^MNDRY_ECG_PAUSE_RATE^99MNDRY|1.3.1.108|0||||||R|||{T}",
    "OBX|4|NM|157784^MDC_FLOW_FLUID_PUMP^MDC|2.1.1.1|12.5|265266^MDC_DIM_MILLI_L_PER_HR^MDC"
    f"|||||R|||{T}||||0012AB34CD56EF78^SYRINGE",
    "OBX|5|NM|157864^MDC_VOL_FLUID_DELIV^MDC|2.1.1.2|3.2|263762^MDC_DIM_MILLI_L^MDC|||||R",
    "OBX|6|NM|157760^MDC_CONC_DRUG^MDC|2.1.1.3|1|264306^MDC_DIM_MILLI_G_PER_ML^MDC|||||R",
    "OBX|7|ST|184330^MDC_DRUG_NAME_TYPE^MDC|2.1.1.4|Ketamine||||||R",
    "OBX|8|CWE|184508^MDC_PUMP_STAT^MDC|2.1.1.5|^pump-status-infusing||||||R",
]


def _decode(data: bytes, routes: Routes | None = None) -> tuple[Pcd01Decoder, list]:
    decoder = Pcd01Decoder("chair-1", routes)
    return decoder, decoder.feed(data)


def _values(items: list) -> dict[str, tuple[float, str]]:
    return {r.signal: (r.value, r.unit) for r in items if isinstance(r, Reading)}


def _err(ack: bytes) -> list[str]:
    (err,) = [s for s in ack[1:-2].decode().split("\r") if s.startswith("ERR")]
    return err.split("|")


def _msa(ack: bytes) -> list[str]:
    assert ack.startswith(b"\x0b") and ack.endswith(b"\x1c\r")
    (msa,) = [s for s in ack[1:-2].decode().split("\r") if s.startswith("MSA")]
    return msa.split("|")


def test_a_tf2_shaped_message_gives_readings_in_canonical_units() -> None:
    decoder, items = _decode(_mllp(_message(TF2_OBX)))
    assert _values(items) == {
        "HR": (72.0, "/min"),
        "SPO2": (97.0, "%"),
        "NIBP_SYS": (128.0, "mmHg"),
        "NIBP_DIA": (79.0, "mmHg"),
        "ETCO2": (pytest.approx(39.0, abs=0.01), "mmHg"),  # 5.2 kPa
        "TEMP": (36.8, "°C"),
        "RR": (14.0, "/min"),
    }
    assert {r.t for r in items} == {EPOCH}  # OBX-14, else OBR-7, both with their offset
    assert [r.source for r in items if r.signal == "RR"] == ["co2"]
    assert decoder.stats.good == 1 and decoder.stats.unknown_codes == 0
    (ack,) = decoder.take_acks()
    assert _msa(ack)[:3] == ["MSA", "AA", "MSG0001"]


def test_a_gateway_message_with_a_pump() -> None:
    decoder, items = _decode(_mllp(_message(GATEWAY_OBX, "GW-7")))
    assert _values(items) == {"HR": (88.0, "/min")}  # PR -999 is "no value", not a reading
    (pump,) = [e for e in items if isinstance(e, DeviceEvent)]
    assert pump.kind == "pump" and pump.t == EPOCH
    assert pump.detail == {
        "rate_ml_h": 12.5,
        "volume_infused_ml": 3.2,
        "concentration_mg_ml": 1.0,
        "drug": "Ketamine",
        "status": "pump-status-infusing",
        "device": "0012AB34CD56EF78",
    }
    s = decoder.stats
    assert (s.no_value, s.unknown_codes, s.codes) == (1, 1, {"MNDRY_ECG_PAUSE_RATE": 1})
    assert _msa(decoder.take_acks()[0])[1] == "AA"  # an unknown code is ignored, not an error


def test_an_unknown_unit_is_refused_and_answered_ae() -> None:
    obx = "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|0.97|{ratio}^{ratio}^UCUM|||||R"
    bad_value = "OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.2|fast|264864|||||R"
    decoder, items = _decode(_mllp(_message([obx, bad_value, TF2_OBX[7]])))
    assert _values(items) == {"TEMP": (36.8, "°C")}  # the good OBX still counts
    assert decoder.stats.bad_units == 1 and decoder.stats.content_errors == 1
    ack = decoder.take_acks()[0]
    assert _msa(ack)[1] == "AE"  # what was wrong in ERR (TF-2 B.2: MSA-3 is not used)
    err = _err(ack)
    assert err[3] == "102^Data type error^HL70357" and err[4] == "E"
    assert "not convertible to %" in err[8] and "not a number" in err[8]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("MSX|^~\\&|GW\rOBX|1", "malformed"),
        ("PID|||1\r", "malformed"),
        ("MSH|^~\\&|GW|F|||20250314||ADT^A01|C9|P|2.6\rPV1||I|ICU^^3", "ADT A01"),
        ("MSH|^~\\&|GW|F|||20250314||ORU^R01||P|2.6\r", "control id"),
    ],
)
def test_a_bad_msh_or_message_type_is_answered_ar(text: str, reason: str) -> None:
    decoder, items = _decode(_mllp(text))
    assert items == [] and decoder.stats.rejected == 1 and decoder.stats.good == 0
    ack = decoder.take_acks()[0]
    assert _msa(ack)[1] == "AR" and reason in _err(ack)[8]


def test_routing_by_location_or_device() -> None:
    routes = Routes({location_key("icu^^3"): "chair-3"}, {"0012AB34CD56EF78": "chair-9"})
    decoder, items = _decode(_mllp(_message(TF2_OBX)), routes)
    assert {r.bed for r in items} == {"chair-3"}
    _, items = _decode(_mllp(_message(GATEWAY_OBX, pv1="WARD^^1")), routes)
    assert {i.bed for i in items} == {"chair-9"}  # the pump's EUI-64 in OBX-18
    decoder, items = _decode(_mllp(_message(TF2_OBX[:4], pv1="WARD^^1")), routes)
    assert items == [] and decoder.stats.unrouted == 1
    assert _msa(decoder.take_acks()[0])[1] == "AE"


def test_mllp_resyncs_after_garbage_and_a_cut_frame() -> None:
    one = _mllp(_message(TF2_OBX[2:4], "A"))
    two = _mllp(_message(TF2_OBX[2:4], "B"))
    stream = b"\r\nnoise\xff\x00" + one[:40] + two + b"junk" + one
    decoder = Pcd01Decoder("chair-1")
    items = [i for k in range(0, len(stream), 7) for i in decoder.feed(stream[k : k + 7])]
    assert len(items) == 4 and decoder.stats.good == 2  # B, then A again; the cut A is lost
    assert decoder.stats.malformed == 1 and decoder.stats.garbage_bytes == len("noise") + 2 + 4
    assert [_msa(a)[2] for a in decoder.take_acks()] == ["B", "A"]


def test_plain_text_files_and_a_reset() -> None:
    text = (_message(TF2_OBX[2:4], "A") + "\n" + _message(TF2_OBX[2:4], "B")).replace("\r", "\n")
    decoder = Pcd01Decoder("chair-1", framing="auto")
    items = decoder.feed(text.encode()) + decoder.finish()
    assert len(items) == 4 and decoder.stats.good == 2
    decoder = Pcd01Decoder("chair-1")
    decoder.feed(_mllp(_message(TF2_OBX))[:50])
    decoder.reset()  # the link dropped mid-frame: the start is forgotten
    assert decoder.feed(_mllp(_message(TF2_OBX))[50:]) == []
    assert len(decoder.feed(_mllp(_message(TF2_OBX)))) == 7


def test_random_bytes_never_raise() -> None:
    rng = random.Random(7)
    decoder = Pcd01Decoder("chair-1")
    for _ in range(200):
        decoder.feed(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
    decoder.reset()
    assert len(decoder.feed(_mllp(_message(TF2_OBX)))) == 7


def _local(*args: int) -> float:
    """A time printed without a UTC offset: the decoder takes it as the station's local time."""
    return datetime(*args).timestamp()  # noqa: DTZ001


def _readings(items: list) -> list[tuple[str, float, str, str, float]]:
    return [(r.signal, r.value, r.unit, r.source, r.t) for r in items if isinstance(r, Reading)]


# IHE PCD TF-2 Rev. 8.0, Appendix E.1.1 "Example of PCD-01 Observation Report (Physiological
# Monitor)", as printed, one segment a line.
TF2_E11 = r"""MSH|^~\&|PAT_DEVICE_PHILIPS_C|Philips|||20150122182658+0000||ORU^R01^ORU_R01|HP0122182658686QQ000CND119C0WS61|P|2.6|||AL|NE||8859/1|EN^English^ISO639||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO
PID|||HO2009001^^^^MR||Hon^Albert^""^^^^L||19610101|M
PV1||I|HO Surgery^OR^1
OBR|1||201512218265601|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||20150122182656
OBX|1|ST|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||e86c094f-f751-4acf-92b2-38f11c1f6f57-Device
OBX|2|ST|70686^MDC_DEV_PRESS_BLD_NONINV_VMD^MDC|1.1.0.0|||||||X|||||||0600dc750001
OBX|3|ST|70675^MDC_DEV_PULS_CHAN^MDC|1.1.1.0|||||||X
OBX|4|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.5|117|266016^MDC_DIM_MMHG^MDC|90-160||||X|||20150122115000
OBX|5|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.1.1.6|82|266016^MDC_DIM_MMHG^MDC|||||X|||20150122115000
OBX|6|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.1.1.7|90|266016^MDC_DIM_MMHG^MDC|||||X|||20150122115000
OBX|7|ST|4262^MDC_DEV_ECG_VMD^MDC|1.2.0.0|||||||X|||||||0600dc750001
OBX|8|ST|4263^MDC_DEV_ECG_CHAN^MDC|1.2.1.0|||||||X
OBX|9|NM|147842^MDC_ECG_CARD_BEAT_RATE^MDC|1.2.1.1|80|264864^MDC_DIM_BEAT_PER_MIN^MDC|50-120||||X
OBX|10|NM|147232^MDC_ECG_TIME_PD_QT_GL^MDC|1.2.1.14|360|264338^MDC_DIM_MILLI_SEC^MDC|||||X
OBX|11|NM|147236^MDC_ECG_TIME_PD_QTc^MDC|1.2.1.15|416|264338^MDC_DIM_MILLI_SEC^MDC|<500||||X
OBX|12|NM|151562^MDC_RESP_RATE^MDC|1.2.1.19|30|264928^MDC_DIM_RESP_PER_MIN^MDC|8-45||||X
OBX|13|ST|184327^MDC_ECG_STAT_RHY^MDC|1.2.1.21|MDC_ECG_SINUS_RHY||||||X
OBX|14|ST|69642^MDC_DEV_ANALY_SAT_O2_VMD^MDC|1.3.0.0|||||||X|||||||0600dc750001
OBX|15|ST|70771^MDC_DEV_ANALY_PERF_REL_CHAN^MDC|1.3.1.0|||||||X
OBX|16|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.1|99|262688^MDC_DIM_PERCENT^MDC|90-100||||X
OBX|17|NM|150448^MDC_PULS_OXIM_PERF_REL^MDC|1.3.1.3|3.9|262656^MDC_DIM_DIMLESS^MDC|||||X"""  # noqa: E501


def _results_entered(text: str) -> str:
    """OBX-11 `X` -> `R` on the OBX segments that carry a value (OBX-5)."""
    out = []
    for segment in text.split("\n"):
        fields = segment.split("|")
        if fields[0] == "OBX" and fields[5] and fields[11] == "X":
            fields[11] = "R"
        out.append("|".join(fields))
    return "\n".join(out)


def test_tf2_e11_physiological_monitor_example() -> None:
    """PCD TF-2 Rev. 8.0 Appendix E.1.1, decoded.

    As printed, every metric OBX has OBX-11 `X`, which TF-2 Appendix B.8 (OBX-11, Table
    B.8.5-11) defines as "results cannot be obtained" and keeps for device-related segments:
    the station drops such values, so the printed message gives no reading. Adapted: those
    OBX-11 set to `R` (results entered, not verified), the status a monitor's periodic values
    carry in E.1.2. Its times have no UTC offset (C.4 asks for one): taken as local time.
    """
    decoder, items = _decode(_mllp(TF2_E11.replace("\n", "\r")))
    assert items == [] and decoder.stats.no_value == 10
    assert _msa(decoder.take_acks()[0])[1:3] == ["AA", "HP0122182658686QQ000CND119C0WS61"]

    decoder, items = _decode(_mllp(_results_entered(TF2_E11).replace("\n", "\r")))
    cuff, obr = _local(2015, 1, 22, 11, 50), _local(2015, 1, 22, 18, 26, 56)
    assert _readings(items) == [
        ("NIBP_SYS", 117.0, "mmHg", "", cuff),  # OBX-14 of the metric itself
        ("NIBP_DIA", 82.0, "mmHg", "", cuff),
        ("NIBP_MEAN", 90.0, "mmHg", "", cuff),
        ("HR", 80.0, "/min", "", obr),  # no OBX-14 here or above: OBR-7
        ("RR", 30.0, "/min", "", obr),
        ("SPO2", 99.0, "%", "", obr),
    ]
    assert decoder.stats.codes == {
        "MDC_ECG_TIME_PD_QT_GL": 1,
        "MDC_ECG_TIME_PD_QTc": 1,
        "MDC_ECG_STAT_RHY": 1,
        "MDC_PULS_OXIM_PERF_REL": 1,
    }
    assert _msa(decoder.take_acks()[0])[1] == "AA"


# IHE PCD TF-2 Rev. 8.0, Appendix E.1.2 "Example of PCD-01 Episodic Observation Report".
TF2_E12 = r"""MSH|^~\&|ACME_Gateway^080019FFFE3ED02D^EUI-64|ACME Healthcare|||20110602050000+0000||ORU^R01^ORU_R01|0104ef190d604db188c3|P|2.6|||AL|NE||UNICODE UTF-8|||PCD_DEC_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO
PID|||12345^^^A^MR||BEDS^TEDSONS^^^^^L
PV1||U|COLWELL^^SOLAR
OBR|1|080019FFFE3ED02D20110602045842^ACME_Gateway^080019FFFE3ED02D^EUI-64|080019FFFE3ED02D20110602045842^ACME_Gateway^080019FFFE3ED02D^EUI-64|182777000^monitoring of patient^SCT|||20110602045842+0000
OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X
OBX|2||70686^MDC_DEV_PRESS_BLD_NONINV_VMD^MDC|1.16.0.0|||||||X
OBX|3||70687^MDC_DEV_PRESS_BLD_NONINV_CHAN^MDC|1.16.1.0|||||||X|||20110602045842
OBX|4|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.16.1.1|111|mm[Hg]^mm[Hg]^UCUM|||||R|||20110602045842||||080019FFFE3ED02D172.16.172.135^GATEWAY_ACME
OBX|5|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.16.1.2|60|mm[Hg]^mm[Hg]^UCUM|||||R|||20110602045842||||080019FFFE3ED02D172.16.172.135^GATEWAY_ACME
OBX|6|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.16.1.3|80|mm[Hg]^mm[Hg]^UCUM|||||R|||20110602045842||||080019FFFE3ED02D172.16.172.135^GATEWAY_ACME
OBX|7|NM|149546^MDC_PULS_RATE_NON_INV^MDC|1.16.1.4|63|{beat}/min^{beat}/min^UCUM|||||R|||20110602045842||||080019FFFE3ED02D172.16.172.135^GATEWAY_ACME"""  # noqa: E501


def test_tf2_e12_episodic_example() -> None:
    """PCD TF-2 Rev. 8.0 Appendix E.1.2, decoded as printed (segments split on their CRs):
    a cuff measurement in UCUM units, its time in OBX-14 (no offset: local time)."""
    routes = Routes({location_key("COLWELL^^SOLAR"): "chair-2"})
    decoder, items = _decode(_mllp(TF2_E12.replace("\n", "\r")), routes)
    t = _local(2011, 6, 2, 4, 58, 42)
    assert _readings(items) == [
        ("NIBP_SYS", 111.0, "mmHg", "", t),
        ("NIBP_DIA", 60.0, "mmHg", "", t),
        ("NIBP_MEAN", 80.0, "mmHg", "", t),
    ]
    assert {r.bed for r in items} == {"chair-2"}  # PV1-3
    assert decoder.stats.codes == {"MDC_PULS_RATE_NON_INV": 1}  # the cuff's pulse: not PR
    assert _msa(decoder.take_acks()[0])[1:3] == ["AA", "0104ef190d604db188c3"]


# GE B40/B20 Patient Monitor HL7 Reference Manual, 2062665-001 G (2014): the header of
# "Result Message Examples", Example 1 (p. 19), with the OBX segments the manual prints on
# p. 15 ("PCD-01 description": ECG and invasive pressure) and p. 24 (the end of an example:
# SpO2, respiration rates, temperatures), each as printed. Page breaks inside segments joined.
B40 = r"""MSH|^~\&|VSP^080019FFFE134535^EUI-64|GE Healthcare|||20130122134100||ORU^R01^ORU_R01|004097134535|P|2.6|||NE|AL||UNICODE UTF-8|||PCD_DEC_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO
PID|||HED12^^^PID^MR||LAZY^KITTY^^^^^L|||
PV1||R|SURGERY^^V2
OBR|1|080019FFFE13453520130122134100^VSP^080019FFFE134535^EUI-64|080019FFFE13453520130122134100^VSP^080019FFFE134535^EUI-64|182777000^monitoring of patient^SCT|||20130122134100
OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X
OBX|2||69854^MDC_DEV_METER_PRESS_BLD_VMD^MDC|1.13.0.0|||||||X
OBX|3||69855^MDC_DEV_METER_PRESS_BLD_CHAN^MDC|1.13.1.0|||||||X
OBX|4|NM|150033^MDC_PRESS_BLD_ART_SYS^MDC|1.13.1.1|112|266016^MDC_DIM_MMHG^MDC|||||R|||||||080019FFFE0B4020^B40_GE
OBX|5|NM|150034^MDC_PRESS_BLD_ART_DIA^MDC|1.13.1.2|76|266016^MDC_DIM_MMHG^MDC|||||R|||||||080019FFFE0B4020^B40_GE
OBX|6|NM|150035^MDC_PRESS_BLD_ART_MEAN^MDC|1.13.1.3|95|266016^MDC_DIM_MMHG^MDC|||||R|||||||080019FFFE0B4020^B40_GE
OBX|7|NM|149522^MDC_BLD_PULS_RATE_INV^MDC|1.13.1.4|80|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||||||080019FFFE0B4020^B40_GE
OBX|11|NM|147842^MDC_ECG_HEART_RATE^MDC|1.5.1.1|80|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||||||080019FFFE0B4020^B40_GE
OBX|12|NM|148066^MDC_ECG_V_P_C_RATE^MDC|1.5.1.2|0|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||||||080019FFFE0B4020^B40_GE
OBX|43|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.22.1.2|100|262688^MDC_DIM_PERCENT^MDC|||||R|||||||080019FFFE0B4020^B40_GE
OBX|44||69682^MDC_DEV_ANALY_AWAY_MULTI_PARAM_VMD^MDC|1.20.0.0|||||||X
OBX|45|NM|151562^MDC_RESP_RATE^MDC|1.20.1.1|18|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R|||||||080019FFFE0B4020^B40_GE
OBX|46||70666^MDC_DEV_ECG_RESP_VMD^MDC|1.6.0.0|||||||X
OBX|47|NM|151562^MDC_RESP_RATE^MDC|1.6.1.1|30|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R|||||||080019FFFE0B4020^B40_GE
OBX|48||69902^MDC_DEV_METER_TEMP_VMD^MDC|1.26.0.0|||||||X
OBX|49|NM|150344^MDC_TEMP^MDC|1.26.1.1|37.1|268192^MDC_DIM_DEGC^MDC|||||R|||||||080019FFFE0B4020^B40_GE
OBX|50|NM|150344^MDC_TEMP^MDC|1.26.1.2|36.5|268192^MDC_DIM_DEGC^MDC|||||R|||||||080019FFFE0B4020^B40_GE"""  # noqa: E501


def test_ge_b40_gateway_example() -> None:
    """GE B40/B20 HL7 Reference Manual 2062665-001 G, pp. 15, 19 and 24 (see `B40`).

    MSH-15/16 are `NE|AL`: the manual's application acknowledgment in original mode (p. 24),
    MSA-1 AA. MDC_RESP_RATE comes twice, told apart by its VMD: the airway gas analyzer (CO2)
    and the ECG respiration (impedance). Times: OBR-7, no offset, local time."""
    routes = Routes(equipment={"080019FFFE0B4020": "chair-5"})
    decoder, items = _decode(_mllp(B40.replace("\n", "\r")), routes)
    t = _local(2013, 1, 22, 13, 41)
    assert _readings(items) == [
        ("ART_SYS", 112.0, "mmHg", "", t),
        ("ART_DIA", 76.0, "mmHg", "", t),
        ("ART_MEAN", 95.0, "mmHg", "", t),
        ("HR", 80.0, "/min", "", t),
        ("SPO2", 100.0, "%", "", t),
        ("RR", 18.0, "/min", "co2", t),
        ("RR", 30.0, "/min", "impedance", t),
        ("TEMP", 37.1, "°C", "", t),
        ("TEMP", 36.5, "°C", "", t),
    ]
    assert {r.bed for r in items} == {"chair-5"}  # by the EUI-64 in OBX-18
    assert decoder.stats.codes == {"MDC_BLD_PULS_RATE_INV": 1, "MDC_ECG_V_P_C_RATE": 1}
    assert _msa(decoder.take_acks()[0])[1:3] == ["AA", "004097134535"]


# IHE PCD IPEC supplement Rev. 1.5 (2015-11-25), §X.1.2.2 "Infusion Event Sample Message",
# "Delivery Start Event", as printed except MSH-9 (see the test).
IPEC_PUMP = r"""MSH|^~\&|PAT_DEVICE_PUMPVENDOR^9999990000000000^EUI-64|PUMPVENDOR|DOC_VENDOR|DOC_VENDOR|20151015132107-0500||ORU^R01^ORU_R01|6358051206735492253|P|2.6|||AL|NE||ASCII|en^English^ISO639||IHE_PCD_010^IHE PCD^ 1.3.6.1.4.1.19376.1.6.4.10^ISO
PID|||HO2009002^^^IHE^PI||Hon^Charles^^^^^L|Brooks^^^^^^L|19610201000000-0600|M|||||||||||||||||||||||N
PV1||I|3 West ICU^3002^1
OBR|1|AB12345^PCD-03|CD12345^HL7^ACDE48234567ABCD^EUI-64|2222^Dopamine|||20151015132106-0500
OBX|1||70049^MDC_DEV_PUMP_INFUS_LVP_MDS^MDC|1.0.0.0|||||||X|||||N0002||E0002^^0012210000000000^EUI-64
OBX|2|ST|184517^MDC_PUMP_DRUG_LIBRARY_VERSION^MDC|1.0.0.1|DL1||||||R
OBX|3|CWE|0^MDC_ATTR_EVT_COND^MDC|1.0.0.2|197288^MDC_EVT_PUMP_DELIV_START^MDC||||||R
OBX|4|ST|0^MDC_ATTR_EVT_SOURCE^MDC|1.0.0.3|1.1.2.0||||||R
OBX|5||70050^MDC_DEV_PUMP_INFUS_LVP_VMD^MDC|1.1.0.0|||||||X
OBX|6||0^MDC_DEV_PUMP_DELIVERY_INFO^MDC|1.1.1.0|||||||X
OBX|7|CWE|184519^MDC_PUMP_INFUSING_STATUS^MDC|1.1.1.1|^pump-status-infusing||||||R
OBX|8|NM|0^MDC_FLOW_FLUID_PUMP_CURRENT^MDC|1.1.1.2|15.4|265266^MDC_DIM_MILLI_L_PER_HR^MDC^mL/h^mL/h^UCUM|||||R
OBX|9|CWE|0^MDC_DEV_PUMP_ACTIVE_SOURCES^MDC|1.1.1.3|^pump-source-info-primary||||||R
OBX|10||0^MDC_DEV_PUMP_INFUSATE_SOURCE_PRIMARY^MDC|1.1.2.0|||||||X
OBX|11|CWE|0^MDC_DEV_PUMP_CURRENT_DELIVERY_STATUS^MDC|1.1.2.1|^pump-delivery-status-delivering||||||R
OBX|12|CWE|0^MDC_DEV_PUMP_PROGRAM_DELIVERY_MODE^MDC|1.1.2.2|^pump-program-delivery-mode-continuous||||||R
OBX|13|ST|0^MDC_DEV_PUMP_SOURCE_CHANNEL_LABEL^MDC|1.1.2.3|Primary||||||R
OBX|14|NM|157784^MDC_FLOW_FLUID_PUMP^MDC|1.1.2.4|15.4|265266^MDC_DIM_MILLI_L_PER_HR^MDC^mL/h^mL/h^UCUM|||||R
OBX|15|NM|157924^MDC_RATE_DOSE^MDC|1.1.2.5|5.00|265619^MDC_DIM_MICRO_G_PER_KG_PER_MIN^MDC^ug/kg/min^ug/kg/min^UCUM|||||R
OBX|16|NM|157884^MDC_VOL_FLUID_TBI^MDC|1.1.2.6|250.0|263762^MDC_DIM_MILLI_L^MDC^mL^mL^UCUM|||||R
OBX|17|NM|157993^MDC_VOL_FLUID_DELIV_TOTAL^MDC|1.1.2.7|0.0|263762^MDC_DIM_MILLI_L^MDC^mL^mL^UCUM|||||R
OBX|18|NM|157872^MDC_VOL_FLUID_TBI_REMAIN^MDC|1.1.2.8|250.0|263762^MDC_DIM_MILLI_L^MDC^mL^mL^UCUM|||||R
OBX|19|NM|157916^MDC_TIME_PD_REMAIN^MDC|1.1.2.9|974|264352^MDC_DIM_MIN^MDC^min^min^UCUM|||||R
OBX|20|ST|184514^MDC_DRUG_NAME_LABEL^MDC|1.1.2.10|Dopamine||||||R
OBX|21|NM|157760^MDC_CONC_DRUG^MDC|1.1.2.11|1.6|264306^MDC_DIM_MILLI_G_PER_ML^MDC^mg/mL^mg/mL^UCUM|||||R
OBX|22|ST|184516^MDC_PUMP_DRUG_LIBRARY_CARE_AREA^MDC|1.1.2.12|Crit Care||||||R
OBX|23|NM|68063^MDC_ATTR_PT_WEIGHT^MDC|1.1.2.13|82.0|263875^MDC_DIM_KILO_G^MDC^kg^kg^UCUM|||||R"""  # noqa: E501


def test_ipec_infusion_pump_example() -> None:
    """IHE PCD IPEC supplement Rev. 1.5 §X.1.2.2, the pump's delivery-start report, decoded.

    PCD TF-2 Rev. 8.0 prints no PCD-01 message from a pump; this IHE sample carries a pump's
    observations in the PCD-01 OBX form (TF-2 B.8) inside PCD-10. Adapted: MSH-9
    `ORU^R42^ORU_R01` set to `ORU^R01^ORU_R01`, the PCD-01 type (TF-2 B.1 MSH-9); MSH-21 kept.
    The EUI-64 is on the MDS OBX only (EI-3) and passes to the metrics below it (TF-2 B.8,
    OBX-18); the time is OBR-7. Codes `0` are the sample's "pending" terms: ignored."""
    routes = Routes(equipment={"0012210000000000": "chair-4"})
    decoder, items = _decode(_mllp(IPEC_PUMP.replace("\n", "\r")), routes)
    (pump,) = items
    assert isinstance(pump, DeviceEvent) and pump.kind == "pump" and pump.bed == "chair-4"
    assert pump.t == datetime.fromisoformat("2015-10-15T13:21:06-05:00").timestamp()
    assert pump.detail == {
        "status": "pump-status-infusing",  # OBX 7, CWE in the second component
        "device": "0012210000000000",
        "rate_ml_h": 15.4,  # OBX 14, MDC_DIM_MILLI_L_PER_HR
        "volume_infused_ml": 0.0,  # OBX 17, MDC_DIM_MILLI_L
        "drug": "Dopamine",  # OBX 20, ST
        "concentration_mg_ml": 1.6,  # OBX 21, MDC_DIM_MILLI_G_PER_ML
    }
    s = decoder.stats
    assert (s.unknown_codes, s.bad_units, s.content_errors) == (14, 0, 0)
    assert _msa(decoder.take_acks()[0])[1:3] == ["AA", "6358051206735492253"]
